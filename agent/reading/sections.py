"""Which ICP section a statement is about, from the cues of the language pack's guide."""

from __future__ import annotations

import re
from functools import lru_cache

from agent.lang.guide import Guide
from agent.lang.literals import LiteralIndex, alternation_matches, needed
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
# are most of the time of a long import.
@per_language(maxsize=8192)
def _matches(text: str, guide: Guide) -> tuple[tuple[str, tuple[frozenset[str], ...]], ...]:
    """Each section's distinct defining, strong and weak cues in a statement, lower-cased."""
    text = normalise(text)
    cues = _cue_index(guide)
    if text.isascii():  # only the cues whose rarest words the text holds: see agent.lang.literals
        possible: dict[_Level, set[int] | None] = cues.index.possible(text.lower())  # type: ignore[assignment]
    else:
        possible = dict.fromkeys(cues.levels)  # None: scan every cue
    found = {level: level.found(text, chosen) for level, chosen in possible.items()}
    return tuple(
        (key, tuple(found.get(level, _NONE) for level in levels)) for key, levels in cues.sections
    )


_NONE: frozenset[str] = frozenset()


class _Level:
    """One level (defining, strong or weak) of one section's cues."""

    def __init__(self, cues: list[str], pattern: re.Pattern[str]):
        self.cues, self.pattern = cues, pattern
        self._single: dict[int, re.Pattern[str]] = {}
        # A cue with a literal it needs never matches empty: its matches can stand in for the
        # alternation's (see alternation_matches).
        self._solid = all(needed(cue) for cue in cues)

    def found(self, text: str, chosen: set[int] | None) -> frozenset[str]:
        """The distinct cues of this level in `text`, lower-cased, given the cues that may
        match it (None: any). Only those are scanned, each on its own: the others match nowhere
        in the text, so the alternation of the chosen ones matches what the whole list does."""
        if chosen is None or not self._solid:
            matches = self.pattern.finditer(text)
        else:
            matches = alternation_matches([self._cue(i) for i in sorted(chosen)], text)
        return frozenset(m.group(0).lower() for m in matches)

    def _cue(self, i: int) -> re.Pattern[str]:
        single = self._single.get(i)
        if single is None:
            single = self._single[i] = re.compile(self.cues[i], self.pattern.flags)
        return single


class _CueIndex:
    """Every section's cue levels, and one literal index over all of them."""

    def __init__(self, guide: Guide):
        self.sections = [
            (
                key,
                [
                    _Level(section.cues.defining, section.defining),
                    _Level(section.cues.strong, section.strong),
                    _Level(section.cues.weak, section.weak),
                ],
            )
            for key, section in guide.sections.items()
        ]
        self.levels = [level for _, levels in self.sections for level in levels]
        self.index = LiteralIndex()
        for level in self.levels:
            self.index.add_all(level, level.cues)


_CUE_INDEXES: dict[int, tuple[Guide, _CueIndex]] = {}


def _cue_index(guide: Guide) -> _CueIndex:
    """The cue index of a guide, built once."""
    entry = _CUE_INDEXES.get(id(guide))
    if entry is None or entry[0] is not guide:
        entry = _CUE_INDEXES[id(guide)] = (guide, _CueIndex(guide))
    return entry[1]


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
