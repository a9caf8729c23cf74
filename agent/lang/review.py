"""The quarterly review questions of a language pack (`review.yaml`)."""

from __future__ import annotations

import re
from functools import cached_property

from pydantic import BaseModel, field_validator

from agent.profile.models import SECTION_KEYS


class ReviewQuestion(BaseModel):
    """One of the review questions and the section its answers default to."""

    id: str
    section: str | None = None
    text: str

    @field_validator("text")
    @classmethod
    def _one_line(cls, text: str) -> str:
        return " ".join(text.split())

    @field_validator("section")
    @classmethod
    def _known(cls, section: str | None) -> str | None:
        if section is not None and section not in SECTION_KEYS:
            raise ValueError(f"unknown section {section!r}")
        return section


class ReviewWords(BaseModel):
    """The review's preface, questions, closing texts and the answers that say nothing moved."""

    preface: str
    questions: tuple[ReviewQuestion, ...]
    closing: dict[str, str]
    no_change: list[str]

    @cached_property
    def no_change_re(self) -> re.Pattern[str]:
        """Compiled "nothing changed" phrases, as whole words."""
        pattern = "|".join(f"(?:{p})" for p in self.no_change)
        return re.compile(rf"\b(?:{pattern})", re.IGNORECASE | re.MULTILINE)
