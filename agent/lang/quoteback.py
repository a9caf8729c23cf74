"""What a pack's follow-ups quote back from a vague answer (`quoteback.yaml`)."""

from __future__ import annotations

import re
from functools import cached_property

from pydantic import BaseModel, field_validator

from agent.lang.patterns import alternation, lowered


class QuoteWords(BaseModel):
    """Where a quoted phrase ends, words that say nothing, and which follow-up fits."""

    breaks: frozenset[str]
    dangling: frozenset[str]
    empty: frozenset[str]
    joiners: frozenset[str]
    asides: frozenset[str]
    prepositions: list[str]
    quantity_hedges: list[str]
    plurals: frozenset[str]
    measured: frozenset[str]
    time_units: list[str]
    usual: list[str]
    some: str
    depends: str
    depends_after: list[str]
    plural_endings: list[str]
    singular_endings: list[str]
    capitalised: list[str]

    @field_validator(
        "breaks", "dangling", "empty", "joiners", "asides", "plurals", "measured", mode="before"
    )
    @classmethod
    def _lowered(cls, words: list) -> frozenset[str]:
        return lowered(words)

    @cached_property
    def nothing(self) -> frozenset[str]:
        """Words a phrase of which says nothing: the empty ones, breaks and dangling words."""
        return self.empty | self.breaks | self.dangling

    @cached_property
    def head_end(self) -> re.Pattern[str]:
        """Where a phrase's head ends before its detail ("a few people | at the top")."""
        return re.compile(rf"\s{alternation(self.prepositions)}\s")

    @cached_property
    def quantity(self) -> re.Pattern[str]:
        """A hedge of quantity opening a phrase ("a few ", "lots of ")."""
        return re.compile(rf"^{alternation(self.quantity_hedges)}\s")

    @cached_property
    def time_unit(self) -> re.Pattern[str]:
        """A phrase ending in a unit of time ("some weeks")."""
        return re.compile(rf"\b{alternation(self.time_units)}$")

    @cached_property
    def depends_tail(self) -> re.Pattern[str]:
        """The word after "depends" at a phrase's end ("depends on")."""
        return re.compile(rf"\s+{alternation(self.depends_after)}$")

    def plural(self, word: str) -> bool:
        """Whether a word looks like a plural ("shows", not "business")."""
        return word.endswith(tuple(self.plural_endings)) and not word.endswith(
            tuple(self.singular_endings)
        )

    @cached_property
    def usual_re(self) -> re.Pattern[str]:
        """ "the usual", "the typical": worth asking about even alone."""
        return re.compile(rf"\b{alternation(self.usual)}\b", re.IGNORECASE)
