"""Numbers and ranges with what they measure: one reader for answers and for CRM cells.

Both read digits, number words and scales with the same tables of the language pack
(`numbers.yaml`): `find_quantities` finds them in running text ("200 to 500 employees", "two
weeks", "$40k-$80k"), `parse_number` reads one typed cell ("1.2k", "~500", "5M+", "<50").
"""

from __future__ import annotations

import math
import re
import unicodedata

from agent.lang import Pack, load_pack
from agent.lang.numbers import NumberWords
from agent.profile.models import Item, Quantity
from agent.reading.memo import per_language


def scaled(value: float, scale: str, numbers: NumberWords) -> float | None:
    """`value` times its scale word ("k", "million"); None when that is no finite number."""
    value *= numbers.scales.get(scale.strip().lower(), 1)
    return value if math.isfinite(value) else None  # "9" * 400 is no headcount; JSON has no inf


def _text_number(word: str, scale: str, numbers: NumberWords) -> float | None:
    word = word.lower().strip()
    if word in numbers.words:
        value = float(numbers.words[word])
    else:
        try:
            value = digits_value(word)
        except ValueError:
            return None
    return scaled(value, scale, numbers)


def digits_value(digits: str) -> float:
    """A number as typed: "1,200.50" and "1.200,50" are 1200.5, "5.000" is 5000, "2,5" is 2.5."""
    digits = digits.replace(" ", "")
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", digits):
        return float(digits.replace(",", ""))
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?", digits):  # European
        return float(digits.replace(".", "").replace(",", "."))
    return float(digits.replace(",", "."))


def find_quantities(text: str, pack: Pack | None = None) -> list[Quantity]:
    """Numbers and ranges in running text with what they measure (employees, money, days...)."""
    return [q.model_copy() for q in quantities_in(text, pack or load_pack())]


_DIGIT = re.compile(r"\d")


@per_language(maxsize=8192)  # one statement is checked for numbers by several readers
def quantities_in(text: str, pack: Pack) -> tuple[Quantity, ...]:
    """`find_quantities` to look at, not to keep: shared, not copied."""
    numbers = pack.numbers
    if not _DIGIT.search(text) and not numbers.number_word.search(text):
        return ()  # every quantity has a number, in digits or in words
    leads = numbers.leads
    out = []
    for m in numbers.quantity.finditer(text):
        # A scale said once covers the range: "10 to 50 million" is 10M to 50M.
        a = _text_number(m["a"], m["asc"] or m["bsc"] or "", numbers)
        b = _text_number(m["b"], m["bsc"] or m["asc"] or "", numbers) if m["b"] else None
        unit = (m["unit"] or "").strip()
        open_end = numbers.open_unit.match(unit)  # "three or more subsidiaries" is 3 and up
        unit = unit[open_end.end() :] if open_end else unit
        currency = m["cur"] or m["cur2"] or (m["cur3"] or "").strip()
        word_number = m["a"].lower() in numbers.words
        if a is None or (m["b"] and b is None) or (word_number and not unit and not b):
            continue
        if not unit and not currency and not m["asc"] and not b and a < 10 and "%" not in m[0]:
            continue  # a lone small digit says nothing measurable
        base = unit.split()[-1].lower().rstrip("s") if unit else ""
        rate = numbers.rate.match(unit) if unit else None
        if m["slash"] or rate:  # "3 hires a year", "$30k per year", "50/yr": a rate, no duration
            counted = (rate.group(1) or "") if rate else ""
            scaled_up = bool(m["asc"] or m["bsc"])
            kind = "money" if currency or scaled_up else ("count" if counted else "other")
            if kind == "money" and numbers.revenue.search(text):
                kind = "revenue"
            scale = 1
        else:
            kind, scale = _kind(base, currency, unit, numbers)
        low, high = (min(a, b), max(a, b)) if b is not None else (a, a)  # "50-20" is 20-50
        lead = " ".join((m["lead"] or "").lower().split())
        if lead in leads.at_least or m["plus"]:
            high = None
        elif lead in leads.at_most:
            low = None
        if open_end:
            up = open_end[1].lower() in numbers.open_end.up
            low, high = (low, None) if up else (None, high)
        if kind == "duration":
            low = low * scale if low is not None else None
            high = high * scale if high is not None else None
            unit = "days"
        out.append(
            Quantity(
                kind=kind, low=low, high=high, unit=unit or (currency or ""), text=m[0].strip()
            )
        )
    return tuple(out)


def _kind(base: str, currency: str | None, unit: str, numbers: NumberWords) -> tuple[str, float]:
    durations = numbers.durations
    if currency and base in durations:
        return "money", 1  # "$30,000 a year" is a price, not a duration
    if base in durations:
        return "duration", durations[base]
    kind = numbers.kind_of.get(base)
    if kind == "percent" or unit.endswith("%"):
        return "percent", 1
    if kind == "employees":
        return "employees", 1
    said = {numbers.kind_of.get(w.rstrip("s")) for w in unit.lower().split()}
    if kind == "revenue" or (currency and "revenue" in said):
        return "revenue", 1
    if currency or kind == "money":
        return "money", 1
    if kind == "volume":
        return "volume", 1
    return ("count", 1) if base else ("other", 1)


def parse_number(text: str, pack: Pack | None = None) -> tuple[float | None, float | None] | None:
    """(low, high) for a typed number or range; None when blank; ValueError when unreadable.

    "1,200" and "1.2k" are (1200, 1200); "200-500" is (200, 500); "500+" is (500, None);
    "<50" is (None, 50). A scale on the second number of a range applies to both ("5-10M").
    """
    numbers = (pack or load_pack()).numbers
    s = unicodedata.normalize("NFKC", str(text)).strip().replace("\u2212", "-")
    if s.lower() in numbers.blank:
        return None
    s = numbers.cell_approx.sub("", numbers.cell_currency.sub("", s)).strip().rstrip(".")
    low_open = bool(numbers.cell_at_most.match(s))
    high_open = bool(numbers.cell_at_least.match(s)) or s.endswith("+")
    s = numbers.cell_at_most.sub("", numbers.cell_at_least.sub("", s)).rstrip("+ ").strip()
    parts = (
        [p for p in numbers.cell_range.split(s, maxsplit=1) if p] if not s.startswith("-") else [s]
    )
    values = []
    for part in parts:
        m = numbers.cell_number.fullmatch(part.strip())
        if not m:
            raise ValueError(f"{text!r} is not a number")
        values.append((_cell_value(m["n"]), (m["s"] or "").lower()))
    if len(values) == 2 and values[1][1] and not values[0][1]:
        values[0] = (values[0][0], values[1][1])
    low, *rest = (v * numbers.scales.get(scale, 1) for v, scale in values)
    high = rest[0] if rest else low
    if not (math.isfinite(low) and math.isfinite(high)):  # 400 digits overflow a float
        raise ValueError(f"{text!r} is too large a number")
    if low_open:
        return None, high
    if high_open:
        return low, None
    return (low, high) if low <= high else (high, low)


def _cell_value(digits: str) -> float:
    return digits_value(digits.replace(" ", ""))  # "1 200" typed with a space too


def sizes(item: Item, pack: Pack | None = None) -> list[tuple[str, float | None, float | None]]:
    """An item's company sizes as (kind, low, high): "employees" or "revenue".

    Money in a sentence about revenue ("revenue of $50M to $400M") counts as revenue.
    """
    revenue = (pack or load_pack()).numbers.revenue
    out = []
    for q in item.quantities:
        kind = q.kind
        if kind == "money" and revenue.search(item.text):
            kind = "revenue"
        if kind in ("employees", "revenue") and (q.low is not None or q.high is not None):
            out.append((kind, q.low, q.high))
    return out
