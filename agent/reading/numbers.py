"""Numbers as people type them ("1.2k", "~500", "200-500", "$5M+") and as reports print them."""

from __future__ import annotations

import math
import re
import unicodedata

from agent.profile.models import Item

_BLANK = {"", "-", "--", "—", "–", "?", "n/a", "na", "none", "null", "unknown", "tbd", "n.a."}
_APPROX = re.compile(
    r"^(?:~|≈|\+/-|±|c\.|ca\.?|approx\.?|approximately|about|around|roughly|circa|est\.?)\s*",
    re.IGNORECASE,
)
_OPEN_LOW = re.compile(
    r"^(?:<=?|≤|under|below|less than|fewer than|up to|max\.?|at most)\s*", re.IGNORECASE
)
_OPEN_HIGH = re.compile(r"^(?:>=?|≥|over|above|more than|at least|min\.?)\s*", re.IGNORECASE)
_CURRENCY = re.compile(r"[$€£¥₹]|\b(?:usd|eur|gbp|chf|cad|aud)\b", re.IGNORECASE)
_NUMBER = re.compile(
    r"(?P<n>\d{1,3}(?:[ ,]\d{3})+(?:\.\d+)?|\d+(?:[.,]\d+)?|[.,]\d+)\s*"
    r"(?P<s>k|m|mm|mn|mio|b|bn|thousand|million|billion)?(?![a-z])",
    re.IGNORECASE,
)
_SCALES = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "mm": 1e6,
    "mn": 1e6,
    "mio": 1e6,
    "million": 1e6,
    "b": 1e9,
    "bn": 1e9,
    "billion": 1e9,
}
_RANGE_SEP = re.compile(r"\s*(?:-|–|—|to|bis)\s*", re.IGNORECASE)


def parse_number(text: str) -> tuple[float | None, float | None] | None:
    """(low, high) for a typed number or range; None when blank; ValueError when unreadable.

    "1,200" and "1.2k" are (1200, 1200); "200-500" is (200, 500); "500+" is (500, None);
    "<50" is (None, 50). A scale on the second number of a range applies to both ("5-10M").
    """
    s = unicodedata.normalize("NFKC", str(text)).strip().replace("\u2212", "-")
    if s.lower() in _BLANK:
        return None
    s = _APPROX.sub("", _CURRENCY.sub("", s)).strip().rstrip(".")
    low_open = bool(_OPEN_LOW.match(s))
    high_open = bool(_OPEN_HIGH.match(s)) or s.endswith("+")
    s = _OPEN_LOW.sub("", _OPEN_HIGH.sub("", s)).rstrip("+ ").strip()
    parts = [p for p in _RANGE_SEP.split(s, maxsplit=1) if p] if not s.startswith("-") else [s]
    values = []
    for part in parts:
        m = _NUMBER.fullmatch(part.strip())
        if not m:
            raise ValueError(f"{text!r} is not a number")
        values.append((_value(m["n"]), (m["s"] or "").lower()))
    if len(values) == 2 and values[1][1] and not values[0][1]:
        values[0] = (values[0][0], values[1][1])
    low, *rest = (v * _SCALES.get(scale, 1) for v, scale in values)
    high = rest[0] if rest else low
    if not (math.isfinite(low) and math.isfinite(high)):  # 400 digits overflow a float
        raise ValueError(f"{text!r} is too large a number")
    if low_open:
        return None, high
    if high_open:
        return low, None
    return (low, high) if low <= high else (high, low)


def _value(digits: str) -> float:
    digits = digits.replace(" ", "")
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", digits):
        return float(digits.replace(",", ""))
    return float(digits.replace(",", "."))  # "1,5" is a decimal comma


def point(low: float | None, high: float | None) -> float | None:
    """One number for a range: its middle, or the bound that is given."""
    if low is not None and high is not None:
        return (low + high) / 2
    return low if low is not None else high


def fmt_number(value: float, money: bool = False) -> str:
    """2000 -> "2,000"; with `money`, 50_000_000 -> "$50M"."""
    if money:
        for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
            if abs(value) >= size:
                return f"${value / size:,.4g}{suffix}"
        return f"${value:,.0f}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}".rstrip("0")


def fmt_range(low: float | None, high: float | None, money: bool = False) -> str:
    """A range as a person writes it: "300-2,000", "200+", "up to 100"."""
    if low is not None and high is not None:
        if low == high:
            return fmt_number(low, money)
        return f"{fmt_number(low, money)}-{fmt_number(high, money)}"
    if low is not None:
        return f"{fmt_number(low, money)}+"
    if high is not None:
        return f"up to {fmt_number(high, money)}"
    return "any"


def overlap(
    a: tuple[float | None, float | None], b: tuple[float | None, float | None]
) -> tuple[float | None, float | None] | None:
    """The range two ranges share (None bounds are open), or None when they are disjoint."""
    low = max((x for x in (a[0], b[0]) if x is not None), default=None)
    high = min((x for x in (a[1], b[1]) if x is not None), default=None)
    if low is not None and high is not None and low > high:
        return None
    return low, high


_REVENUE_WORDS = re.compile(r"\b(?:revenue|arr|turnover|sales of|annual sales|in sales)\b", re.I)


def sizes(item: Item) -> list[tuple[str, float | None, float | None]]:
    """An item's company sizes as (kind, low, high): "employees" or "revenue".

    Money in a sentence about revenue ("revenue of $50M to $400M") counts as revenue.
    """
    out = []
    for q in item.quantities:
        kind = q.kind
        if kind == "money" and _REVENUE_WORDS.search(item.text):
            kind = "revenue"
        if kind in ("employees", "revenue") and (q.low is not None or q.high is not None):
            out.append((kind, q.low, q.high))
    return out
