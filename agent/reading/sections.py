"""Which ICP section a statement is about, from the cues of the language pack's guide."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache, partial

from agent.lang.guide import Guide
from agent.reading.statements import normalise

# The respondent mostly answers the question asked: the section being discussed wins unless
# another section has a defining phrase (a volunteered "they found us on G2"). Incidental
# cues (a price, a tool's name, "audit") turn up in answers about anything, so they do not.
TOPIC_BIAS = 2.5
DEFINING = 3.5
STRONG = 2.0
WEAK = 0.5


def section_scores(text: str, guide: Guide) -> dict[str, float]:
    """How strongly a statement is about each section, from the guide's cues."""
    scorer = _SCORERS.get(id(guide))
    if scorer is None:
        scorer = _SCORERS[id(guide)] = lru_cache(maxsize=8192)(partial(_scores, guide=guide))
    return dict(scorer(text))


# One cache per guide (packs are loaded once): a statement is scored when it is read, filed and
# classified, and 33 case-insensitive scans are most of the time of a long import.
_SCORERS: dict[int, Callable[[str], tuple[tuple[str, float], ...]]] = {}


def _scores(text: str, guide: Guide) -> tuple[tuple[str, float], ...]:
    text = normalise(text)
    scores = []
    for key, section in guide.sections.items():
        defining = {m.group(0).lower() for m in section.defining.finditer(text)}
        strong = {m.group(0).lower() for m in section.strong.finditer(text)}
        weak = {m.group(0).lower() for m in section.weak.finditer(text)}
        # Capped so a list of product names does not outvote what the sentence is about.
        counts = (min(len(defining), 2), min(len(strong), 2), min(len(weak), 2))
        scores.append((key, DEFINING * counts[0] + STRONG * counts[1] + WEAK * counts[2]))
    return tuple(scores)


def classify(
    text: str, topic: str | None, guide: Guide, ignore: set[str] | frozenset[str] = frozenset()
) -> str | None:
    """The section a statement belongs to; the topic under discussion wins weak cases. The
    sections in `ignore` take nothing."""
    scores = {k: v for k, v in section_scores(text, guide).items() if k not in ignore}
    if topic in scores:
        # A statement with its own cue for the topic being discussed stays there.
        scores[topic] += TOPIC_BIAS + (STRONG if scores[topic] >= STRONG else 0.0)
    best = max(scores, key=lambda key: (scores[key], key == topic))
    threshold = TOPIC_BIAS if topic in scores else 2.0
    return best if scores[best] >= threshold else None


@lru_cache(maxsize=16384)  # merge compares against every item: uncached, a long paste was O(n²)
def comparable(text: str) -> str:
    """Words only, case-folded, for telling whether two texts say the same words."""
    return re.sub(r"\W+", " ", normalise(text).casefold()).strip()
