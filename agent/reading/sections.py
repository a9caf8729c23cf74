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
    # A cue list is scanned only when the text holds a word its cues cannot match without;
    # exact for ASCII text (IGNORECASE also folds a few non-ASCII letters onto ASCII ones).
    folded = text.lower() if text.isascii() else None
    scores = []
    for key, levels in _cue_lists(guide):
        counts = []
        for pattern, needs in levels:
            if folded is not None and needs is not None and not any(n in folded for n in needs):
                counts.append(0)
                continue
            found = {m.group(0).lower() for m in pattern.finditer(text)}
            counts.append(min(len(found), 2))  # capped: a list of names does not outvote
        scores.append((key, DEFINING * counts[0] + STRONG * counts[1] + WEAK * counts[2]))
    return tuple(scores)


_CUE_LISTS: dict[int, list] = {}


def _cue_lists(guide: Guide) -> list[tuple[str, list[tuple[re.Pattern[str], tuple | None]]]]:
    """Each section's defining, strong and weak cue patterns, with the literal words one of
    which a text must contain for the pattern to match (None: no such words, always scan)."""
    lists = _CUE_LISTS.get(id(guide))
    if lists is None:
        lists = _CUE_LISTS[id(guide)] = [
            (
                key,
                [
                    (section.defining, _needs(section.cues.defining)),
                    (section.strong, _needs(section.cues.strong)),
                    (section.weak, _needs(section.cues.weak)),
                ],
            )
            for key, section in guide.sections.items()
        ]
    return lists


_LITERAL = re.compile(r"[a-z0-9 '&-]+", re.IGNORECASE)
_OPTIONAL = ("?", "*", "{")


def _needs(cues: list[str]) -> tuple[str, ...] | None:
    """Lower-cased literals, one of which a text must contain for some cue to match (each cue's
    leading letters, or the branches of the group it starts with); None when a cue has none
    that is certain."""
    out: list[str] = []
    for cue in cues:
        found = _leading(cue.removeprefix("(?-i:").removeprefix("\\b"))
        if found is None:
            return None
        out += found
    return tuple(out) or None


def _leading(body: str) -> list[str] | None:
    """The literals one of which starts every match of `body`, or None."""
    if len(_split_bars(body)) > 1:  # alternatives at the top
        return None
    if body.startswith("("):
        end = _closing(body)
        inner = body[1:end].removeprefix("?:")
        if end < 0 or body[end + 1 : end + 2] in _OPTIONAL or inner.startswith("?"):
            return None
        branches = _split_bars(inner)
        if not all(_LITERAL.fullmatch(b) and len(b.strip()) >= 2 for b in branches):
            return None
        return [b.lower() for b in branches]
    match = _LITERAL.match(body)
    if not match:
        return None
    literal = match.group(0)
    if body[match.end() : match.end() + 1] in _OPTIONAL:
        literal = literal[:-1]  # "spreadsheets?": the s may be missing
    return [literal.lower()] if len(literal.strip()) >= 2 else None


def _closing(body: str) -> int:
    """Where the group that `body` opens closes (-1 when it does not)."""
    depth = 0
    for i, char in enumerate(body):
        if char == "(" and (i == 0 or body[i - 1] != "\\"):
            depth += 1
        elif char == ")" and body[i - 1] != "\\":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _split_bars(body: str) -> list[str]:
    """`body` split at the bars outside any group."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(body):
        escaped = i > 0 and body[i - 1] == "\\"
        if char == "(" and not escaped:
            depth += 1
        elif char == ")" and not escaped:
            depth -= 1
        elif char == "|" and depth == 0 and not escaped:
            parts.append(body[start:i])
            start = i + 1
    return [*parts, body[start:]]


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
