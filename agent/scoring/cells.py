"""Account cells as both scoring engines read them: `icp score` here in Python, and the SQL that
`icp rules --format sql` compiles (agent/scoring/sql.py) from the very same definitions.

Every test is a regular expression in the subset Python's `re`, RE2 (DuckDB, BigQuery),
PostgreSQL and Snowflake share: no lookaround, no \\b or \\w (a word boundary is spelled out as
B below, so "é" is a letter everywhere), no back-references; matching is on lower-cased text
except where capitals matter. A cell is normalised the same way in both (one translation table,
one regular expression), free text loses what a negation cue negates the same way in both, and
numbers and dates are read by one grammar each. The equality of the two engines is tested on
generated exports (tests/test_scoring_sql.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache

from agent.lang import load_pack
from agent.lang.numbers import NumberWords
from agent.lang.patterns import phrases
from agent.lang.scoring import ScoringWords

CLAUSE = ".;!?|"  # a negation reaches up to one of these


def char_class(chars: set[str]) -> str:
    """A class of characters up to U+00A0, every one written as a \\xNN escape: the one
    spelling Python, RE2 and PostgreSQL read alike (and one that compiles fast in Python)."""
    codes = sorted(ord(c) for c in chars)
    spans: list[list[int]] = []
    for code in codes:
        if spans and spans[-1][1] == code - 1:
            spans[-1][1] = code
        else:
            spans.append([code, code])
    return (
        "[" + "".join(f"\\x{a:02x}" if a == b else f"\\x{a:02x}-\\x{b:02x}" for a, b in spans) + "]"
    )


# A word is letters, digits, "_" and "-" in ASCII, and every character from U+00A1 on (so "é"
# is a letter in every engine: RE2's \w is ASCII-only, Python's is not, so no \w); everything
# else is a boundary.
_ASCII_WORD = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_BOUNDARY = {chr(c) for c in range(0xA1)} - _ASCII_WORD
B = char_class(_BOUNDARY)
B_IN_CLAUSE = char_class(_BOUNDARY - set(CLAUSE))  # a boundary that does not end a clause
START = f"(?:^|{B})"
END = f"(?:$|{B})"

# One translation table: full-width forms, odd spaces, dashes, quotes, bullets; zero-width
# characters and soft hyphens are dropped (the characters past the end of TO_CHARS).
_PAIRS = [(chr(0xFF01 + i), chr(0x21 + i)) for i in range(94)]
_PAIRS += [(ch, " ") for ch in "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
                               "\u2008\u2009\u200a\u202f\u205f\u3000"]  # fmt: skip
_PAIRS += [(ch, "-") for ch in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63"]
_PAIRS += [(ch, "'") for ch in "\u2018\u2019\u201b\u2032"] + [(ch, '"') for ch in "\u201c\u201d"]
_PAIRS += [(ch, ";") for ch in "\u2022\u2023\u25cf\u25aa\u2043\u2028\u2029"] + [("\u2026", ".")]
_DROPPED = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
FROM_CHARS = "".join(a for a, _ in _PAIRS) + _DROPPED
TO_CHARS = "".join(b for _, b in _PAIRS)
_TABLE = str.maketrans(
    {a: b for a, b in zip(FROM_CHARS, TO_CHARS, strict=False)} | dict.fromkeys(_DROPPED, None)
)
SPACES_RX = "[\t\f\v]"  # -> " "
LINES_RX = "[\n\r]"  # -> ";": a line break ends a clause
TRIM_RX = "^ +| +$"  # -> ""
_SPACES, _LINES, _TRIM = re.compile(SPACES_RX), re.compile(LINES_RX), re.compile(TRIM_RX)


def words() -> ScoringWords:
    """The scoring words of the default language pack."""
    return load_pack().scoring


def numbers() -> NumberWords:
    """The number words of the default language pack (answers read the same ones)."""
    return load_pack().numbers


_CONTROL = re.compile("[\t\n\r\f\v]")


def normalise(cell: str) -> str:
    """A cell as both engines compare it: translated, line breaks as clause ends, trimmed."""
    if not cell.isascii():  # every character the table changes is outside ASCII
        cell = cell.translate(_TABLE)
    if _CONTROL.search(cell):
        cell = _LINES.sub(";", _SPACES.sub(" ", cell))
    return cell.strip(" ")  # what TRIM_RX removes


# Words a text holds, for a quick test that a pattern cannot match (a necessary condition: a
# phrase matches only where each of its words is a whole word of the lower-cased text).
_TOKEN = re.compile("[A-Za-z0-9_\u00a1-\U0010ffff-]+")


def tokens(lower: str) -> frozenset[str]:
    """The whole words of lower-cased text, as the patterns' boundaries cut it."""
    return frozenset(_TOKEN.findall(lower))


def needs(phrases: list[str], plurals: bool = False) -> list[frozenset[str]]:
    """For each phrase, words that must all be in a text's tokens for it to match; with
    `plurals`, the phrase's plural forms are alternatives (one entry per form)."""
    out = []
    for text in phrases:
        words_ = _TOKEN.findall(text.lower())
        if not words_:
            return []  # a phrase of punctuation alone ("+/-"): no quick test possible
        *head, last = words_
        forms = [last]
        if plurals:
            forms += [last + "s", last + "es"]
            if re.search(r"[^aeiou]y$", last):
                forms.append(last[:-1] + "ies")
        out += [frozenset([*head, form]) for form in forms]
    return out


def key_words(need: list[frozenset[str]] | tuple[frozenset[str], ...]) -> frozenset[str] | None:
    """The longest word of each phrase form: a text holding none of them matches none of the
    phrases (each needs all its words). None when there is no quick test."""
    return frozenset(max(n, key=len) for n in need) if need else None


def escape(text: str) -> str:
    """Text as a literal in a pattern every engine reads alike."""
    return re.sub(r"([\\.^$|?*+()\[\]{}])", r"\\\1", text)


def phrase(text: str, any_case: bool = False) -> str:
    """A phrase whose spaces match one or more spaces; with `any_case`, each letter as [xX]."""
    parts = []
    for word in text.split():
        if any_case:
            parts.append("".join(_either_case(ch) for ch in word))
        else:
            parts.append(escape(word))
    return " +".join(parts)


def _either_case(ch: str) -> str:
    low, up = ch.lower(), ch.upper()
    if low == up or len(low) != 1 or len(up) != 1:
        return escape(ch)
    return f"[{low}{up}]"


def trie(phrases: list[str], any_case: bool = False) -> str:
    """Phrases as one alternation factored by their common beginnings ("no|not|none" as
    n(?:o(?:ne|t)?)): the same strings as alternation() of phrase(), tried far faster by
    Python's engine. Only for patterns where which phrase matched at a place does not
    change what the whole pattern consumes (every phrase is followed by a boundary)."""
    root: dict = {}
    for text in phrases:
        node = root
        for ch in " ".join(text.split()):
            node = node.setdefault(ch, {})
        node[""] = {}
    return _trie_pattern(root, any_case)


def _trie_pattern(node: dict, any_case: bool) -> str:
    branches, ends = [], "" in node
    for ch in sorted(k for k in node if k):
        head = " +" if ch == " " else (_either_case(ch) if any_case else escape(ch))
        branches.append(head + _trie_pattern(node[ch], any_case))
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
    if ends:
        return f"(?:{body})?" if len(branches) == 1 else f"{body}?"
    return body


def alternation(items: list[str]) -> str:
    """`(?:a|b|c)` of ready patterns; "(?!)"-free: an empty list never matches."""
    return f"(?:{'|'.join(items)})" if items else "(?:[^\\s\\S])"


def plural(term: str) -> str:
    """A lower-case term as a pattern that also matches its plural ("agency", "agencies")."""
    body = phrase(term)
    if re.search(r"[^aeiou]y$", term):
        return body[:-1] + "(?:y|ies)"
    if term.endswith(("s", "x", "ch", "sh")):
        return body + "(?:es)?"
    return body + "(?:s|es)?"


def short(term: str) -> bool:
    """A term of three characters or fewer ("SAP", "3PL", "US"): in free text it only counts in
    capitals, so the pronoun "us" is not the country and "it" is not a department."""
    return len(term) <= 3


def term_pattern(terms: list[str], capitals: bool = False) -> str:
    """Whole-word pattern for any of the terms (plurals too). Without `capitals` it is matched
    against lower-cased text; with it, the terms are upper-cased and matched as written."""
    if capitals:
        alts = [escape(t.upper()).replace(" ", " +") + "(?:s|es)?" for t in terms]
    else:
        alts = [plural(" ".join(t.lower().split())) for t in terms]
    alts.sort(key=len, reverse=True)
    return START + alternation(alts) + END


# Negation: three passes over case-preserved text, then the rest is evidence.
@cache
def negation_patterns() -> tuple[tuple[str, str], ...]:
    """(pattern, replacement) applied in order: clause breaks become ";", a clause that ends in
    an after-cue goes, and from a cue to the end of its clause goes."""
    w = words()
    breaks = START + trie(list(w.clause_breaks), True) + END
    # from the start of the clause (or its last comma) to the cue; a cue right after a comma
    # ("Kronos, phased out") takes the part before that comma too. Anchored where a clause
    # or a comma starts, so that Python does not try it at every character.
    after = f"(?:^|[{CLAUSE},])[^{CLAUSE},]*,?{START}{trie(list(w.after), True)}{END}"
    negated = f"{START}{trie(list(w.cues), True)}(?:$|{B_IN_CLAUSE}[^{CLAUSE}]*)"
    return ((breaks, ";"), (after, ";"), (negated, " "))


@cache
def _negation_rx() -> tuple[tuple[re.Pattern[str], str, list[frozenset[str]]], ...]:
    w = words()
    wanted = (w.clause_breaks, w.after, w.cues)
    return tuple(
        (re.compile(p), r, key_words(needs(list(cues))))
        for (p, r), cues in zip(negation_patterns(), wanted, strict=True)
    )


def evidence(text: str, have: frozenset[str] | None = None) -> str:
    """Normalised text without what its negation cues negate: "runs Manhattan; no SAP" keeps
    "runs Manhattan"; "migrating off SAP to NetSuite" keeps nothing of either. `have` (the
    text's tokens) skips the passes whose cues it cannot contain."""
    have = tokens(text.lower()) if have is None else have
    for rx, replacement, keys in _negation_rx():
        if keys is None or not have.isdisjoint(keys):
            text = rx.sub(replacement, text)
    return text


def cell_words(words_: list[str] | tuple[str, ...] | frozenset[str]) -> tuple[str, ...]:
    """Words of the pack as a normalised, lower-cased cell holds them ("–" is "-"), without
    repeats, longest first."""
    return phrases([normalise(w).lower() for w in words_])


@cache
def blank_words() -> frozenset[str]:
    """Cell values that mean "not known"."""
    return frozenset(cell_words(numbers().blank)) | {""}


def prepare_text(cell: str) -> tuple[bool, str, str, frozenset[str]]:
    """(known, evidence as written, evidence lower-cased, tokens) of a text cell; the tokens
    are those of the cell before negations went (a superset: still a quick test)."""
    norm = normalise(cell)
    low = norm.lower()
    if low in blank_words():
        return False, "", "", frozenset()
    have = tokens(low)
    kept = evidence(norm, have)
    return True, kept, kept.lower() if kept != norm else low, have


# Numbers -------------------------------------------------------------------------------------

_N = (
    r"[0-9]{1,3}(?:[ ,][0-9]{3}){1,5}(?:\.[0-9]{1,6})?"  # 1,200 or 1 200 000.5
    r"|[0-9]{1,15}(?:[.,][0-9]{1,6})?|[.,][0-9]{1,6}"  # 1200, 1.5, 1,5 (decimal comma), .5
)
THOUSANDS_RX = r"^[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?$"
_THOUSANDS = re.compile(THOUSANDS_RX)
NUMBER_PARTS = ("open", "n1", "s1", "n2", "s2", "plus")


@dataclass(frozen=True)
class NumberGrammar:
    """How a number cell is read: currency out, then one anchored pattern whose six parts are
    the open-ended word, the two numbers with their scales, and a trailing "+"."""

    currency: str  # pattern -> " "
    full: str  # the anchored pattern, its six parts captured in NUMBER_PARTS order
    at_most: frozenset[str]
    at_least: frozenset[str]
    scales: dict[str, float]

    def only(self, part: str) -> str:
        """The full pattern capturing one part only (for SQL's one-group extract functions)."""
        return _one_group(self.full, NUMBER_PARTS.index(part))


def _one_group(pattern: str, keep: int) -> str:
    """The pattern with every capturing group but the `keep`-th (0-based) made non-capturing."""
    out, n, i = [], 0, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if ch == "[":  # a class: copy through its closing bracket
            j = i + 1 + (pattern[i + 1] == "^")
            j = pattern.index("]", j + (pattern[j] == "]"))
            out.append(pattern[i : j + 1])
            i = j + 1
            continue
        if ch == "(" and not pattern.startswith("(?", i):
            out.append("(" if n == keep else "(?:")
            n += 1
        else:
            out.append(ch)
        i += 1
    return "".join(out)


@cache
def number_grammar() -> NumberGrammar:
    """The number grammar of the language pack."""
    n = numbers()
    currencies = cell_words(n.currencies)
    at_most, at_least = cell_words(n.at_most_cell), cell_words(n.at_least_cell)
    symbols = [escape(c) for c in currencies if not c.isalnum()]
    named = [phrase(c) for c in currencies if c.isalnum()]
    currency = alternation([*symbols, START + alternation(named) + END])
    approx = alternation([phrase(a) for a in cell_words(n.approximately)])
    opens = alternation([phrase(o) for o in (*at_most, *at_least)])
    scales = sorted(n.scales, key=len, reverse=True)
    scale = alternation([phrase(s) for s in scales]).replace("(?:", "(", 1)
    sep = alternation([phrase(r) for r in cell_words(n.cell_range_words)])
    full = (
        f"^(?:{approx} ?)?(?:({opens[3:-1]}) ?)?({_N}) ?{scale}?"
        f"(?: ?{sep} ?({_N}) ?{scale}?)? ?(\\+)?$"
    )
    return NumberGrammar(
        currency=currency,
        full=full,
        at_most=frozenset(at_most),
        at_least=frozenset(at_least),
        scales=dict(n.scales),
    )


@cache
def _number_rx() -> tuple[re.Pattern[str], re.Pattern[str]]:
    g = number_grammar()
    return re.compile(g.currency), re.compile(g.full)


def number_text(norm_lower: str) -> str:
    """A lower-cased normalised number cell without currency, single-spaced and trimmed."""
    currency, _ = _number_rx()
    return _TRIM.sub("", re.sub(" +", " ", currency.sub(" ", norm_lower)))


def digits_value(digits: str) -> float:
    """ "1,200" and "1 200" are 1200; "1,5" is 1.5 (a decimal comma)."""
    digits = digits.replace(" ", "")
    if _THOUSANDS.match(digits):
        return float(digits.replace(",", ""))
    return float(digits.replace(",", "."))


@lru_cache(maxsize=65536)
def read_number(cell: str) -> float | None:
    """One number for a cell ("200-500" counts as 350, "500+" as 500); None when blank;
    ValueError when it is not a number."""
    low = normalise(cell).lower()
    if low in blank_words():
        return None
    g = number_grammar()
    m = _number_rx()[1].match(number_text(low))
    if not m:
        raise ValueError("not a number")
    opened, n1, s1, n2, s2, plus = m.groups()
    first = digits_value(n1) * g.scales.get(s1 or (s2 if n2 else "") or "", 1)
    second = digits_value(n2) * g.scales.get(s2 or "", 1) if n2 else first
    if opened in g.at_most:
        return second
    if opened in g.at_least or plus:
        return first
    low_value, high_value = (first, second) if first <= second else (second, first)
    return (low_value + high_value) / 2


# Dates ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DateFormat:
    """An anchored date pattern and which of its three captures is the year, month and day."""

    pattern: str
    order: tuple[str, str, str]  # e.g. ("y", "m", "d")

    def only(self, part: str) -> str:
        """The pattern capturing one of y, m, d only."""
        return _one_group(self.pattern, self.order.index(part))


@cache
def date_formats() -> tuple[DateFormat, ...]:
    """2026-10-01 (a time may follow), 2026/10/01, 01.10.2026, 1 Oct 2026, Oct 1, 2026."""
    month = "(" + alternation([phrase(m) for m in words().months])[3:]
    d, m, y = "([0-9]{1,2})", "([0-9]{1,2})", "([0-9]{4})"
    return (
        DateFormat(f"^{y}-{m}-{d}(?:[t ][0-9]{{1,2}}:[0-9]{{2}}.*)?$", ("y", "m", "d")),
        DateFormat(f"^{y}/{m}/{d}$", ("y", "m", "d")),
        DateFormat(f"^{d}\\.{m}\\.{y}$", ("d", "m", "y")),
        DateFormat(f"^{d} {month}\\.?,? {y}$", ("d", "m", "y")),
        DateFormat(f"^{month}\\.? {d},? {y}$", ("m", "d", "y")),
    )


@cache
def _date_rx() -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(f.pattern) for f in date_formats())


def month_number(text: str) -> int:
    """1-12 for a month written as digits or a month word."""
    return int(text) if text.isdigit() else words().months[" ".join(text.split())]


def days_in(year: int, month: int) -> int:
    """Days in a month of the Gregorian calendar."""
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


@lru_cache(maxsize=8192)
def read_date(cell: str) -> date | None:
    """The date in a cell; None when blank; ValueError when it is not a date."""
    low = normalise(cell).lower()
    if low in blank_words():
        return None
    for fmt, rx in zip(date_formats(), _date_rx(), strict=True):
        m = rx.match(low)
        if not m:
            continue
        parts = dict(zip(fmt.order, m.groups(), strict=True))
        year, month, day = int(parts["y"]), month_number(parts["m"]), int(parts["d"])
        if year >= 1 and 1 <= month <= 12 and 1 <= day <= days_in(year, month):
            return date(year, month, day)
        raise ValueError("not a date")
    raise ValueError("not a date")
