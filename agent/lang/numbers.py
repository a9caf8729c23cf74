"""Numbers as a pack's language says and types them (`numbers.yaml`)."""

from __future__ import annotations

import re
from functools import cached_property

from pydantic import BaseModel, field_validator

from agent.lang.literals import Prefiltered
from agent.lang.patterns import alternation, alternatives, phrases

CURRENCY_SIGNS = "$€£"  # signs before a number in an answer (a cell takes all of `currencies`)


class Leads(BaseModel):
    """Words before a number: a range, a lower or upper bound, an estimate."""

    range: list[str]
    at_least: list[str]
    at_most: list[str]
    about: list[str]


class OpenEnd(BaseModel):
    """ "or more" / "or fewer" after a number."""

    joiners: list[str]
    up: list[str]
    down: list[str]


class NumberWords(BaseModel):
    """Number words, scales, units and the words around numbers, in answers and CRM cells."""

    words: dict[str, float]
    scales: dict[str, float]
    text_scales: list[str]
    units: list[str]
    chat_units: list[str]
    durations: dict[str, float]
    kinds: dict[str, list[str]]
    leads: Leads
    range_words: list[str]
    rate_words: list[str]
    open_end: OpenEnd
    blank: frozenset[str]
    approximately: tuple[str, ...]
    at_most_cell: tuple[str, ...]
    at_least_cell: tuple[str, ...]
    currencies: tuple[str, ...]
    cell_range_words: tuple[str, ...]
    revenue_words: list[str]

    @field_validator("scales", mode="before")
    @classmethod
    def _scale_keys(cls, table: dict) -> dict:
        if not isinstance(table, dict) or not table:
            raise ValueError("needs a mapping of words to numbers")
        return {" ".join(str(k).lower().split()): v for k, v in table.items()}

    @field_validator(
        "approximately", "at_most_cell", "at_least_cell", "currencies", "cell_range_words",
        mode="before",
    )  # fmt: skip
    @classmethod
    def _cell_words(cls, words: list) -> tuple[str, ...]:
        """Plain words and signs (no regular expressions: the SQL grammar escapes them too)."""
        if not isinstance(words, list | tuple) or not words:
            raise ValueError("needs a list of at least one word")
        bad = [w for w in words if not isinstance(w, str)]
        if bad:
            raise ValueError(f"{bad[0]!r} is not a word: quote it in the YAML file")
        return phrases(words)

    @field_validator("blank", mode="before")
    @classmethod
    def _blank(cls, words: list) -> frozenset[str]:
        """Lower-cased and single-spaced, like the cells they are compared with; "" stays."""
        if not isinstance(words, list | tuple | set | frozenset):
            raise ValueError("needs a list of words")
        bad = [w for w in words if not isinstance(w, str)]
        if bad:
            raise ValueError(f"{bad[0]!r} is not a word: quote it in the YAML file")
        return frozenset(" ".join(w.lower().split()) for w in words)

    @cached_property
    def currency_codes(self) -> tuple[str, ...]:
        """The currencies written in letters ("usd"), read after a number in an answer too."""
        return tuple(c for c in self.currencies if c.isalnum())

    @cached_property
    def currency_signs(self) -> tuple[str, ...]:
        """The currencies written as a sign ("$")."""
        return tuple(c for c in self.currencies if not c.isalnum())

    @cached_property
    def number_word(self) -> Prefiltered:
        """A number said in words: with no digit and none of these, a text has no quantity."""
        return Prefiltered(alternatives(self.words), r"\b{}\b")

    @cached_property
    def quantity(self) -> re.Pattern[str]:
        """A number or range in running text, with what it counts."""
        number = (
            r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?"  # 1,200.50
            r"|\d{1,3}(?:\.\d{3})+(?:,\d+)?(?![\d.])"  # 1.200,50 and 5.000
            r"|\d+(?:[.,]\d+)?"  # 2.5, 2,5
            r"|\b" + alternation(self.words) + r"\b)"  # "one", not the end of "phone"
        )
        scale = rf"(?:\s?{alternation(self.text_scales)}\b)?"
        chat = alternation(self.chat_units, escape=False)
        unit = rf"(?:(?:(?-i:{chat})|{alternation(self.units, escape=False)})\b|%)"
        leads = self.leads.range + self.leads.at_least + self.leads.at_most + self.leads.about
        lead = alternation([w + " " for w in leads]).replace(r"\ ", r"\s+")
        sign = f"[{CURRENCY_SIGNS}]"
        after = rf"(?:\s?(?:{sign}|{alternation(self.currency_codes)}\b))"  # "6 €", "80k USD"
        to = alternation(["-", "–", "—", *self.range_words])
        return re.compile(
            rf"(?P<lead>{lead})?"
            rf"(?P<cur>{sign})?\s?(?P<a>{number})(?P<asc>{scale})"
            rf"(?:\s?{to}\s?(?P<cur2>{sign})?(?P<b>{number})(?P<bsc>{scale}))?"
            rf"(?P<cur3>{after})?(?P<plus>\+)?"
            rf"(?:\s?(?P<slash>/)?\s?(?P<unit>(?:[a-z-]+\s){{0,2}}?{unit}))?",
            re.IGNORECASE,
        )

    @cached_property
    def rate(self) -> re.Pattern[str]:
        """A unit ending in a rate: "hires a year", "per month"; group 1 is what is counted."""
        durations = alternation(self.durations)
        return re.compile(
            rf"^(?:(.*?)\s+)?{alternation(self.rate_words)}\s+{durations}s?$", re.IGNORECASE
        )

    @cached_property
    def open_unit(self) -> re.Pattern[str]:
        """ "or more" at the start of a unit: "three or more subsidiaries"."""
        joiners = alternation(self.open_end.joiners)
        ends = alternation(self.open_end.up + self.open_end.down)
        return re.compile(rf"^{joiners}\s+({ends})\s+", re.IGNORECASE)

    @cached_property
    def kind_of(self) -> dict[str, str]:
        """A unit's singular base -> the kind of quantity it makes."""
        return {base: kind for kind, bases in self.kinds.items() for base in bases}

    # CRM cells
    @cached_property
    def cell_approx(self) -> re.Pattern[str]:
        """An estimate's marker at the start of a cell ("~500", "approx. 500")."""
        return re.compile(rf"^{alternation(self.approximately)}\s*", re.I)

    @cached_property
    def cell_at_most(self) -> re.Pattern[str]:
        """An upper bound's marker ("<50", "up to 50")."""
        return re.compile(rf"^{alternation(self.at_most_cell)}\s*", re.I)

    @cached_property
    def cell_at_least(self) -> re.Pattern[str]:
        """A lower bound's marker (">500", "at least 500")."""
        return re.compile(rf"^{alternation(self.at_least_cell)}\s*", re.I)

    @cached_property
    def cell_currency(self) -> re.Pattern[str]:
        """A currency sign or code in a cell."""
        return re.compile(
            rf"{alternation(self.currency_signs)}|\b{alternation(self.currency_codes)}\b",
            re.IGNORECASE,
        )

    @cached_property
    def cell_number(self) -> re.Pattern[str]:
        """One number in a cell, with its scale: "1,200", "1.2k", "5 million"."""
        return re.compile(
            r"(?P<n>\d{1,3}(?:[ ,]\d{3})+(?:\.\d+)?|\d{1,3}(?:[ .]\d{3})+(?:,\d+)?"
            r"|\d+(?:[.,]\d+)?|[.,]\d+)\s*"
            rf"(?P<s>{alternation(self.scales)})?(?![a-z])",
            re.IGNORECASE,
        )

    @cached_property
    def cell_range(self) -> re.Pattern[str]:
        """Between the two numbers of a range in a cell."""
        return re.compile(rf"\s*{alternation(self.cell_range_words)}\s*", re.I)

    @cached_property
    def revenue(self) -> re.Pattern[str]:
        """A sentence about revenue: its money is a company's size."""
        return re.compile(rf"\b{alternation(self.revenue_words)}\b", re.IGNORECASE)
