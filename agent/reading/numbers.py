"""Numbers and ranges as reports print them ("300-2,000", "$50M", "200+"), and ranges that meet."""

from __future__ import annotations


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
