"""How a pack cuts answers into statements and reads them (`reading.yaml`)."""

from __future__ import annotations

import re
from functools import cached_property

from pydantic import BaseModel, field_validator

from agent.lang.patterns import alternation, lowered


class SaidBy(BaseModel):
    """The words that say who said a quoted phrase ("one controller told us")."""

    determiners: list[str]
    adverbs: list[str]
    verbs: list[str]
    nobody: frozenset[str]

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """Who, then a verb of saying: the speaker is group 1."""
        determiner = alternation(self.determiners, escape=False, longest_first=False)
        adverb = alternation(self.adverbs, escape=False, longest_first=False)
        verb = alternation(self.verbs, escape=False, longest_first=False)
        return re.compile(
            rf"(?:^|[,;:]\s*|\b{determiner}\s+)((?:[A-Za-z-]+\s+){{0,2}}?[A-Za-z-]+?)\s+"
            rf"(?:{adverb}\s+)?{verb}\b",
            re.IGNORECASE,
        )

    @cached_property
    def determiner(self) -> re.Pattern[str]:
        """A determiner at the start: "one controller" names "controller"."""
        words = alternation(self.determiners, escape=False, longest_first=False)
        return re.compile(rf"^{words}\s+", re.IGNORECASE)


class ReadingWords(BaseModel):
    """Abbreviations, fillers, names that are not names, titles, talk and bare replies."""

    abbreviations: frozenset[str]
    leading_fillers: list[str]
    sentence_starters: frozenset[str]
    run_on_starters: list[str]
    titles: list[str]
    talk_words: frozenset[str]
    clitics: list[str]
    replies: frozenset[str]
    adverb_endings: list[str]
    said_by: SaidBy

    @field_validator("abbreviations", "talk_words", "replies", mode="before")
    @classmethod
    def _lowered(cls, words: list) -> frozenset[str]:
        return lowered(words)

    @cached_property
    def leading_filler(self) -> re.Pattern[str]:
        """Filler words opening a statement ("Well, honestly, ...")."""
        words = alternation(self.leading_fillers, escape=False, longest_first=False)
        return re.compile(rf"^(?:{words}\b[,.!]?\s+)+", re.IGNORECASE)

    @cached_property
    def run_on(self) -> re.Pattern[str]:
        """Where a new sentence starts with no full stop before it: the space before a
        capitalised `run_on_starters` word that follows a lower-case word or a number."""
        words = alternation(self.run_on_starters)
        return re.compile(rf"(?<=[a-z0-9%)]) (?=(?:{words})(?![\w'’]))")

    @cached_property
    def title(self) -> re.Pattern[str]:
        """A job title or role, with the case written in the pack ("IT", not "it")."""
        return re.compile(rf"\b{alternation(self.titles, escape=False, longest_first=False)}\b")

    @cached_property
    def clitic(self) -> re.Pattern[str]:
        """A contraction's ending ("'s", "n't")."""
        return re.compile(alternation(self.clitics, escape=False, longest_first=False))

    @cached_property
    def longest_abbreviation(self) -> int:
        """How far back from a full stop an abbreviation can start."""
        return max((len(a) for a in self.abbreviations), default=0) + 1
