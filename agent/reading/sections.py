"""Which ICP section a statement is about, from the cues of the language pack's guide."""

from __future__ import annotations

import re
from functools import lru_cache

from agent.lang.guide import Guide
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
    # Only the cues that can match are scanned: those whose leading words the text holds.
    # Exact for ASCII text (IGNORECASE also folds a few non-ASCII letters onto ASCII ones).
    if text.isascii():
        possible = cues.possible(text.lower())
        for level in cues.always_scanned:
            possible.setdefault(level, set())
    else:
        possible = dict.fromkeys(cues.levels)  # None: scan every cue
    found: dict[_Level, frozenset[str]] = {}
    for level, chosen in possible.items():
        pattern = level.scanner(chosen)
        if pattern is not None:
            found[level] = frozenset(m.group(0).lower() for m in pattern.finditer(text))
    return tuple(
        (key, tuple(found.get(level, _NONE) for level in levels)) for key, levels in cues.sections
    )


_NONE: frozenset[str] = frozenset()


class _Level:
    """One level (defining, strong or weak) of one section's cues."""

    def __init__(self, cues: list[str], pattern: re.Pattern[str]):
        self.cues, self.pattern = cues, pattern
        self.needs = [_needs(cue) for cue in cues]
        self.always = frozenset(i for i, needs in enumerate(self.needs) if needs is None)
        self._single: dict[int, re.Pattern[str]] = {}

    def scanner(self, chosen: set[int] | None) -> re.Pattern[str] | None:
        """The pattern to scan a text with, given the cues that may match it (`chosen`, besides
        those that always may; None: every cue); None when no cue may. A lone cue is scanned on
        its own: with the others unable to match anywhere in the text, the alternation matches
        exactly what it matches. Two or more: the whole alternation."""
        if chosen is None:
            return self.pattern
        picked = self.always.union(chosen) if self.always else chosen
        if len(picked) != 1:
            return self.pattern if picked else None
        (i,) = picked
        single = self._single.get(i)
        if single is None:
            single = self._single[i] = re.compile(self.cues[i], self.pattern.flags)
        return single


class _CueIndex:
    """Every section's cue levels, and one automaton over the literals the cues start with."""

    def __init__(self, guide: Guide):
        import ahocorasick

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
        self.always_scanned = [level for level in self.levels if level.always]
        owners: dict[str, list[tuple[_Level, int]]] = {}
        for _, levels in self.sections:
            for level in levels:
                for i, needs in enumerate(level.needs):
                    for literal in needs or ():
                        owners.setdefault(literal, []).append((level, i))
        self._automaton = ahocorasick.Automaton()
        for literal, owned in owners.items():
            self._automaton.add_word(literal, owned)
        self._automaton.make_automaton()

    def possible(self, folded: str) -> dict[_Level, set[int]]:
        """For each level, the cues whose literals occur in the lower-cased text."""
        out: dict[_Level, set[int]] = {}
        for _, owned in self._automaton.iter(folded):
            for level, i in owned:
                out.setdefault(level, set()).add(i)
        return out


_CUE_INDEXES: dict[int, tuple[Guide, _CueIndex]] = {}


def _cue_index(guide: Guide) -> _CueIndex:
    """The cue index of a guide, built once."""
    entry = _CUE_INDEXES.get(id(guide))
    if entry is None or entry[0] is not guide:
        entry = _CUE_INDEXES[id(guide)] = (guide, _CueIndex(guide))
    return entry[1]


_LITERAL = re.compile(r"[a-z0-9 '&/%-]+", re.IGNORECASE)


def _needs(cue: str) -> tuple[str, ...] | None:
    """Lower-cased literals, one of which a text must contain for a cue to match; None when
    none is certain."""
    found = _leading(cue)
    return tuple(found) if found else None


def _leading(body: str) -> list[str] | None:
    """Literals one of which occurs in every match of `body` (None when no such list is
    certain): those of the part of the pattern that must match whose words are rarest (the
    longest, "channel" rather than "the")."""
    branches = _split_bars(body)
    if len(branches) > 1:  # alternatives: each must name its own
        found = [_leading(branch) for branch in branches]
        return None if any(f is None for f in found) else [w for f in found for w in f]
    at, best = 0, None
    while at < len(body):
        found, end = _part(body, at)
        after = _after_quantifier(body, end)
        if after is not None:  # "?", "*", "{0,3}": the part may be missing
            at = after
            continue
        if found and (best is None or _rarity(found) > _rarity(best)):
            best = found
        at = end
    return best


def _rarity(literals: list[str]) -> tuple[int, int]:
    """How seldom a text holds one of the literals: the shortest one's length, then fewer."""
    return min(len(w.strip()) for w in literals), -len(literals)


_LOOKAROUND = ("?=", "?!", "?<=", "?<!")


def _part(body: str, at: int) -> tuple[list[str] | None, int]:
    """The literals every match of the part of `body` at `at` holds, and where the part ends."""
    char = body[at]
    if char == "(":
        end = _closing(body[at:])
        if end < 0:
            return None, len(body)
        inner = body[at + 1 : at + end]
        if inner.startswith(_LOOKAROUND):
            return None, at + end + 1
        flags = re.match(r"\?[a-zA-Z-]*:", inner)
        return _leading(inner[flags.end() :] if flags else inner), at + end + 1
    if char == "[":
        end = _class_end(body[at:])
        if end < 0:
            return None, len(body)
        chars = body[at + 1 : at + end]
        symbols = not any(c.isalnum() or c.isspace() or c in "\\^-" for c in chars)
        return (list(chars) if symbols and chars else None), at + end + 1
    if char == "\\":
        return None, at + 2
    match = _LITERAL.match(body, at)
    if not match:
        return None, at + 1  # ".", "^", "$", a symbol
    literal = match.group(0)
    if _after_quantifier(body, match.end()) is not None and len(literal) > 1:
        literal, end = literal[:-1], match.end() - 1  # "spreadsheets?": the s may be missing
    else:
        end = match.end()
    certain = len(literal.strip()) >= 2 or literal in "%&/'"  # a symbol is rare enough
    return ([literal.lower()] if certain and literal else None), end


def _after_quantifier(body: str, at: int) -> int | None:
    """Where the text after a quantifier that allows zero ("?", "*", "{0,3}") starts, or None
    when none is at `at`."""
    char = body[at : at + 1]
    if char in ("?", "*"):
        return at + 1 + (body[at + 1 : at + 2] == "?")  # "??", "*?": lazy
    if char == "{":
        close = body.find("}", at)
        if close < 0 or not body[at + 1 : close].startswith(("0", ",")):
            return None
        return close + 1
    return None


def _class_end(body: str) -> int:
    """Where the character class that `body` opens ends (-1 when it does not)."""
    i = 2 if body[1:2] == "]" else 1
    while i < len(body):
        if body[i] == "\\":
            i += 2
            continue
        if body[i] == "]":
            return i
        i += 1
    return -1


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
