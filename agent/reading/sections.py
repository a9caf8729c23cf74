"""Which ICP section a statement is about, from the cues of the language pack's guide."""

from __future__ import annotations

import re
from functools import lru_cache

from agent.lang.guide import Guide
from agent.lang.literals import Prefiltered, possible
from agent.reading.memo import per_language
from agent.reading.text import normalise

# The respondent mostly answers the question asked: the section being discussed wins unless
# another section has a defining phrase (a volunteered "they found us on G2"). Incidental
# cues (a price, a tool's name, "audit") turn up in answers about anything, so they do not.
TOPIC_BIAS = 2.5
DEFINING = 3.5
STRONG = 2.0
WEAK = 0.5


def section_scores(text: str, guide: Guide) -> dict[str, float]:
    """How strongly a statement is about each section, from the guide's cues."""
    return dict(_scores(text, guide))


@per_language(maxsize=8192)
def _scores(text: str, guide: Guide) -> tuple[tuple[str, float], ...]:
    return tuple(
        (
            key,
            DEFINING * min(len(defining), 2)
            + STRONG * min(len(strong), 2)
            + WEAK * min(len(weak), 2),
        )
        for key, (defining, strong, weak) in _matches(text, guide)
    )  # capped: a list of names does not outvote


def cues_of(text: str, guide: Guide, section: str) -> frozenset[str]:
    """The distinct defining and strong cues of one section a statement says, lower-cased."""
    for key, (defining, strong, _) in _matches(text, guide):
        if key == section:
            return defining | strong
    return frozenset()


# A statement is scored when it is read, filed and classified, and 33 case-insensitive scans
# are most of the time of a long import: each scans only the cues the text can match.
@per_language(maxsize=8192)
def _matches(text: str, guide: Guide) -> tuple[tuple[str, tuple[frozenset[str], ...]], ...]:
    """Each section's distinct defining, strong and weak cues in a statement, lower-cased."""
    text = normalise(text)
    lists = [(key, (spec.defining, spec.strong, spec.weak)) for key, spec in guide.sections.items()]
    found = possible(text)  # once for the 33 lists, after they exist (a later one is not in it)
    return tuple((key, tuple(_found(cues, text, found) for cues in three)) for key, three in lists)


def _found(cues: Prefiltered, text: str, found: dict | None) -> frozenset[str]:
    if found is not None and cues not in found:
        return _NONE  # none of its cues can match this text
    return frozenset(m.group(0).lower() for m in cues.finditer(text))


_NONE: frozenset[str] = frozenset()


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
