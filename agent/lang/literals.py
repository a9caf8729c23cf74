"""Which literals a regular expression cannot match without, and alternations that scan only
the alternatives a text can match.

A pack's phrase lists compile to long alternations, and Python's `re` tries every alternative
at every position of a text. Most alternatives name a word they cannot match without ("avoid",
"sweet spot"); one pass of an Aho-Corasick automaton over the lower-cased text finds which of
those words occur, and the alternation is scanned with only the alternatives that can match.
Dropping an alternative that matches nowhere in the text changes no match, so every method
answers exactly as the full pattern does (for ASCII text; other text is scanned with all of
them, since IGNORECASE folds a few non-ASCII letters onto ASCII ones).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any


class Prefiltered:
    """An alternation compiled in `template` ("{}" is where it goes) with a literal prefilter:
    a text none of whose alternatives can match is not scanned at all, a text only one can
    match is scanned with that one alone, any other with the whole alternation (or, for
    `finditer` on a bare alternation, with those alternatives each on its own: see
    `alternation_matches`).

    Callers use group 0, named groups and groups of the template before the alternation: the
    pattern a text is scanned with may leave out the other alternatives and their groups.
    """

    def __init__(self, alternatives: list[str], template: str = "{}", flags: int = re.I):
        self.alternatives, self.template, self.flags = alternatives, template, flags
        self.pattern = self._compile(alternatives)
        self._single: dict[int, re.Pattern[str]] = {}
        # Alternatives that each need a literal never match empty, so on a bare alternation
        # their own matches can stand in for the alternation's.
        self._apart = template == "{}" and all(needed(a) for a in alternatives)
        _PHRASES.add_all(self, alternatives)

    def _compile(self, alternatives: list[str]) -> re.Pattern[str]:
        body = "|".join(f"(?:{a})" for a in alternatives) or r"(?!x)x"
        return re.compile(self.template.format(f"(?:{body})"), self.flags)

    def _chosen(self, text: str) -> set[int] | frozenset[int] | None:
        """The alternatives that may match `text` (None: any, for text that is not ASCII)."""
        found = possible(text)
        return None if found is None else found.get(self, _NONE)

    def _alone(self, i: int) -> re.Pattern[str]:
        single = self._single.get(i)
        if single is None:
            single = self._single[i] = self._compile([self.alternatives[i]])
        return single

    def scanner(self, text: str) -> re.Pattern[str] | None:
        """The pattern to scan `text` with; None when no alternative can match it."""
        chosen = self._chosen(text)
        if chosen is None or len(chosen) > 1:
            return self.pattern
        return self._alone(next(iter(chosen))) if chosen else None

    def search(self, text: str, *args: int) -> re.Match[str] | None:
        """`re.Pattern.search`."""
        pattern = self.scanner(text)
        return pattern.search(text, *args) if pattern else None

    def match(self, text: str, *args: int) -> re.Match[str] | None:
        """`re.Pattern.match`."""
        pattern = self.scanner(text)
        return pattern.match(text, *args) if pattern else None

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        """`re.Pattern.finditer`."""
        chosen = self._chosen(text)
        if chosen and len(chosen) > 1 and self._apart:
            return alternation_matches([self._alone(i) for i in sorted(chosen)], text)
        pattern = self.scanner(text)
        return pattern.finditer(text) if pattern else iter(())

    def findall(self, text: str) -> list[Any]:
        """`re.Pattern.findall`."""
        pattern = self.scanner(text)
        return pattern.findall(text) if pattern else []

    def sub(self, repl: str | Callable[[re.Match[str]], str], text: str, count: int = 0) -> str:
        """`re.Pattern.sub`."""
        pattern = self.scanner(text)
        return pattern.sub(repl, text, count) if pattern else text


class LiteralIndex:
    """Owners of alternatives (any hashable: a level of cues, None for one alternation) by
    the literals the alternatives need, found in a text in one pass."""

    def __init__(self) -> None:
        self._owners: dict[str, list[tuple[Any, int]]] = {}
        self._always: list[tuple[Any, int]] = []
        self._built: tuple[Any, tuple[tuple[Any, int], ...]] | None = None
        self._lock = threading.Lock()
        self.generation = 0  # changes with every alternative added

    def add(self, pattern: str, i: int, owner: Any = None) -> None:
        """Index alternative `i` of `owner`."""
        literals = needed(pattern)
        with self._lock:
            if literals is None:
                self._always.append((owner, i))
            for literal in literals or ():
                self._owners.setdefault(literal, []).append((owner, i))
            self._built = None
            self.generation += 1

    def add_all(self, owner: Any, alternatives: list[str]) -> None:
        """Index every alternative of `owner`."""
        for i, alternative in enumerate(alternatives):
            self.add(alternative, i, owner)

    def possible(self, folded: str) -> dict[Any, set[int]]:
        """For each owner, the alternatives that may match a lower-cased ASCII text (owners
        with none are left out)."""
        automaton, always = self._built or self._build()
        out: dict[Any, set[int]] = {}
        for owner, i in always:
            out.setdefault(owner, set()).add(i)
        if automaton is not None:
            for _, owners in automaton.iter(folded):
                for owner, chosen in owners:
                    found = out.get(owner)
                    if found is None:
                        out[owner] = set(chosen)
                    else:
                        found.update(chosen)
        return out

    def _build(self) -> tuple[Any, tuple[tuple[Any, int], ...]]:
        import ahocorasick

        with self._lock:
            automaton = None
            if self._owners:
                automaton = ahocorasick.Automaton()
                for literal, owners in self._owners.items():
                    grouped: dict[Any, list[int]] = {}
                    for owner, i in owners:
                        grouped.setdefault(owner, []).append(i)
                    automaton.add_word(literal, tuple(grouped.items()))
                automaton.make_automaton()
            self._built = (automaton, tuple(self._always))  # swapped whole: readers see one
            return self._built


# Every phrase list of every loaded pack, found in a text in one pass; a statement is checked
# by some forty of them while it is read.
_PHRASES = LiteralIndex()


_NONE: frozenset[int] = frozenset()


def possible(text: str) -> dict[Any, set[int]] | None:
    """For every `Prefiltered` pattern whose alternatives may match `text`, those alternatives
    (a pattern not in it matches nothing there); None for text that is not ASCII (any may)."""
    return _possible(text, _PHRASES.generation) if text.isascii() else None


@lru_cache(maxsize=1024)
def _possible(text: str, generation: int) -> dict[Any, set[int]]:
    """What `_PHRASES` finds in an ASCII text, as of `generation` (a pattern added since is
    missing from older entries; the caller reads the generation before asking). Keyed by the
    text itself, whose hash Python keeps, since each statement meets a hundred patterns."""
    return _PHRASES.possible(text.lower())


def alternation_matches(patterns: list[re.Pattern[str]], text: str) -> Iterator[re.Match[str]]:
    """What `(?:p1)|(?:p2)|...` finds in `text` with finditer, from the patterns on their own
    (none may match the empty string): at each place the first pattern in order that matches
    there wins, and the next match starts where it ended. Each pattern's next match is kept
    until the scan passes it, so every pattern scans the text about once."""
    if len(patterns) == 1:
        yield from patterns[0].finditer(text)
        return
    ahead: list[re.Match[str] | None] = [p.search(text) for p in patterns]
    pos = 0
    while True:
        best = None
        for i, found in enumerate(ahead):
            if found is not None and found.start() < pos:
                found = ahead[i] = patterns[i].search(text, pos)
            if found is not None and (best is None or found.start() < best.start()):
                best = found
        if best is None:
            return
        yield best
        pos = best.end()


_LITERAL = re.compile(r"[a-z0-9 '&/%-]+", re.IGNORECASE)


def needed(pattern: str) -> tuple[str, ...] | None:
    """Lower-cased literals, one of which a text must contain for `pattern` to match; None
    when none is certain."""
    found = _leading(pattern)
    return tuple(found) if found else None


def _leading(body: str) -> list[str] | None:
    """Literals one of which occurs in every match of `body` (None when no such list is
    certain): those of the part of the pattern that must match whose words are rarest (the
    longest, "channel" rather than "the")."""
    branches = split_bars(body)
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


def split_bars(body: str) -> list[str]:
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
