"""The generic B2B word lists of a language pack (`vocabulary.yaml`), lower-cased."""

from __future__ import annotations

from pydantic import BaseModel, field_validator


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

    @field_validator("*", mode="before")
    @classmethod
    def _lower(cls, words: list) -> list[str]:
        return list(dict.fromkeys(str(w).strip().lower() for w in words))
