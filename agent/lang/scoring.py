"""The words `icp score` reads account cells with (`scoring.yaml`): negations, numbers, dates."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator, model_validator


def _phrases(words: list) -> tuple[str, ...]:
    """Lower-cased, single-spaced, without repeats; longest first, so "no longer" wins over
    "no" in an alternation."""
    cleaned = dict.fromkeys(" ".join(str(w).lower().split()) for w in words)
    return tuple(sorted((w for w in cleaned if w), key=lambda w: (-len(w), w)))


class ScoringWords(BaseModel):
    """Negation and migration cues for free text; the words of numbers and dates in cells."""

    negations: tuple[str, ...]
    migrations: tuple[str, ...]
    after: tuple[str, ...]
    clause_breaks: tuple[str, ...]
    blanks: tuple[str, ...]
    approx: tuple[str, ...]
    at_most: tuple[str, ...]
    at_least: tuple[str, ...]
    range: tuple[str, ...]
    currencies: tuple[str, ...]
    synonyms: tuple[tuple[str, ...], ...] = ()
    region_inverted: tuple[str, ...] = ()
    measures: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    scales: dict[str, float] = Field(min_length=1)
    months: dict[str, int] = Field(min_length=12)

    @field_validator(
        "negations", "migrations", "after", "clause_breaks", "blanks", "approx", "at_most",
        "at_least", "range", "currencies", "region_inverted", mode="before",
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

    @field_validator("scales", "months", mode="before")
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
