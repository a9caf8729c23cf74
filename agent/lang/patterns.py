"""Regular expressions built from a pack's word lists: the structure here, the words in YAML."""

from __future__ import annotations

import re
from collections.abc import Iterable


def alternation(entries: Iterable[str], *, escape: bool = True, longest_first: bool = True) -> str:
    """`(?:a|b|c)` from words (escaped) or from regular expressions (`escape=False`).

    Words go longest first, so "more than" is tried before "more"; regular expressions keep
    their written order unless `longest_first`. An empty list matches nothing.
    """
    items = alternatives(entries, escape=escape, longest_first=longest_first)
    return "(?:" + "|".join(items) + ")" if items else r"(?!x)x"


def alternatives(
    entries: Iterable[str], *, escape: bool = True, longest_first: bool = True
) -> list[str]:
    """The branches `alternation` joins, in its order."""
    items = [re.escape(e) if escape else e for e in entries]
    if longest_first:
        items.sort(key=len, reverse=True)
    return items


def words_re(
    entries: Iterable[str], flags: int = re.IGNORECASE, *, escape: bool = True
) -> re.Pattern[str]:
    """Any of the entries as whole words."""
    return re.compile(rf"\b{alternation(entries, escape=escape)}\b", flags)


def phrases(words: list) -> tuple[str, ...]:
    """Lower-cased, single-spaced, without repeats or empty entries; longest first, so "no
    longer" wins over "no" in an alternation."""
    cleaned = dict.fromkeys(" ".join(str(w).lower().split()) for w in words)
    return tuple(sorted((w for w in cleaned if w), key=lambda w: (-len(w), w)))


def lowered(words: list) -> frozenset[str]:
    """Words as a lower-cased set; a YAML boolean (an unquoted no, yes, on, off) is refused."""
    bad = [w for w in words if not isinstance(w, str)]
    if bad:
        raise ValueError(f"{bad[0]!r} is not a word: quote it in the YAML file")
    return frozenset(w.strip().lower() for w in words)
