"""The words `icp score` reads account cells with (`scoring.yaml`): negations, synonyms, dates.

The words of numbers in cells (blanks, estimates, bounds, currencies, scales) are the pack's
`numbers.yaml`, shared with the reading of answers.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator, model_validator

from agent.lang.patterns import phrases as _phrases


class ScoringWords(BaseModel):
    """Negation and migration cues for free text, synonyms, measures, the months of dates."""

    negations: tuple[str, ...]
    migrations: tuple[str, ...]
    after: tuple[str, ...]
    clause_breaks: tuple[str, ...]
    synonyms: tuple[tuple[str, ...], ...] = ()
    region_inverted: tuple[str, ...] = ()
    measures: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    months: dict[str, int] = Field(min_length=12)

    @field_validator(
        "negations", "migrations", "after", "clause_breaks", "region_inverted", mode="before",
    )  # fmt: skip
    @classmethod
    def _words(cls, words: list) -> tuple[str, ...]:
        if not isinstance(words, list) or not words:
            raise ValueError("needs a list of at least one word")
        return _phrases(words)

    @field_validator("synonyms", mode="before")
    @classmethod
    def _groups(cls, groups: list) -> tuple[tuple[str, ...], ...]:
        if not isinstance(groups, list) or not all(isinstance(g, list) for g in groups):
            raise ValueError("needs a list of groups of words")
        return tuple(_phrases(g) for g in groups if len(_phrases(g)) > 1)

    def same_as(self, term: str) -> list[str]:
        """The term and its synonyms, the term first."""
        folded = " ".join(term.lower().split())
        group = next((g for g in self.synonyms if folded in g), ())
        return [term, *(w for w in group if w != folded)]

    @field_validator("measures", mode="before")
    @classmethod
    def _measures(cls, table: dict) -> dict[str, tuple[str, ...]]:
        if not isinstance(table, dict):
            raise ValueError("needs a mapping of measures to words")
        return {str(k): _phrases(v) for k, v in table.items()}

    @field_validator("months", mode="before")
    @classmethod
    def _keys(cls, table: dict) -> dict:
        if not isinstance(table, dict):
            raise ValueError("needs a mapping of words to numbers")
        return {" ".join(str(k).lower().split()): v for k, v in table.items()}

    @field_validator("months")
    @classmethod
    def _month_numbers(cls, table: dict[str, int]) -> dict[str, int]:
        if set(table.values()) != set(range(1, 13)):
            raise ValueError("months must name each of the months 1 to 12")
        return table

    @model_validator(mode="after")
    def _apart(self) -> ScoringWords:
        both = sorted(set(self.after) & set(self.cues))
        if both:
            raise ValueError(f"in both `after` and a cue list: {', '.join(both)}")
        return self

    @property
    def cues(self) -> tuple[str, ...]:
        """Every cue that negates what follows it, longest first."""
        return _phrases([*self.negations, *self.migrations])
