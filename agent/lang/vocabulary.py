"""The generic B2B word lists of a language pack (`vocabulary.yaml`), lower-cased."""

from __future__ import annotations

import re
from functools import cached_property

from pydantic import BaseModel, field_validator

from agent.lang.patterns import alternation, lowered


class Arrivals(BaseModel):
    """The words of "a new CFO", "a new head of finance", "a new CFO or controller"."""

    new: str
    of_titles: list[str]
    of: str
    joiners: list[str]

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """ "new" and the title after it (group 1), or two joined by a joiner."""
        new, of, titles = re.escape(self.new), re.escape(self.of), alternation(self.of_titles)
        joiner = alternation(self.joiners)
        return re.compile(
            rf"\b{new}\s+((?:{titles}\s+{of}\s+\w+)|[\w-]+(?:\s+{joiner}\s+[\w-]+)?)",
            re.IGNORECASE,
        )

    @cached_property
    def split(self) -> re.Pattern[str]:
        """Between two joined titles."""
        return re.compile(rf"\s+{alternation(self.joiners)}\s+", re.IGNORECASE)


class Vocabulary(BaseModel):
    """Terms rules and merges look for: industries, regions, channels, triggers, roles."""

    stopwords: frozenset[str]
    industries: tuple[str, ...]
    regions: tuple[str, ...]
    channels: tuple[str, ...]
    triggers: tuple[str, ...]
    roles: tuple[str, ...]
    not_names: frozenset[str]
    openers: frozenset[str]
    articles: frozenset[str]
    arrivals: Arrivals

    @field_validator(
        "stopwords",
        "industries",
        "regions",
        "channels",
        "triggers",
        "roles",
        "not_names",
        "openers",
        "articles",
        mode="before",
    )
    @classmethod
    def _lower(cls, words: list) -> list[str]:
        lowered(words)  # refuses a YAML boolean
        return list(dict.fromkeys(w.strip().lower() for w in words))
