"""The interview guide of a language pack (`guide.yaml`): questions, order, cues, hedges."""

from __future__ import annotations

import re
from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agent.lang.literals import Prefiltered, split_bars
from agent.profile.models import SECTION_KEYS


def _regex(patterns: list[str] | str) -> re.Pattern[str]:
    if isinstance(patterns, str):
        patterns = [p for p in (s.strip() for s in patterns.split("|")) if p]
        joined = "|".join(patterns)
    else:
        joined = "|".join(f"(?:{p})" for p in patterns)
    return re.compile(joined or r"(?!x)x", re.IGNORECASE)


def _phrases(text: str, end: str = r"\b") -> Prefiltered:
    """Phrases from a folded YAML string ("a|b|c") starting at a word boundary, ending at `end`."""
    return Prefiltered(_branches(text), rf"\b{{}}{end}")


def _branches(text: str) -> list[str]:
    """The alternatives of a folded YAML string of regular expressions ("a|b (c|d)|e")."""
    return [b.strip() for b in split_bars(" ".join(text.split())) if b.strip()]


class Facet(BaseModel):
    """A part of a complete section, with the cue that shows it is covered and its probe."""

    model_config = ConfigDict(frozen=True)

    id: str
    cues: list[str]
    probe: str

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """Compiled cues."""
        return _regex(self.cues)


class Cues(BaseModel):
    """Cues that a statement is about a section: defining phrases, strong and weak hints."""

    defining: list[str] = Field(default_factory=list)
    strong: list[str] = Field(default_factory=list)
    weak: list[str] = Field(default_factory=list)


class SectionGuide(BaseModel):
    """How one ICP section is asked about."""

    key: str = ""
    goal: str
    noun: str
    minutes: float
    opening: str
    more: str
    example: str
    words: str | None = None
    hedge: str | None = None  # quote-back follow-up for this section, instead of the general ones
    enough: int | None = None
    max_probes: int | None = None
    cues: Cues
    facets: list[Facet]
    asked: list[str] = Field(default_factory=list)  # how an interviewer asks about it

    @cached_property
    def asked_re(self) -> re.Pattern[str]:
        """Compiled phrasings of a question on this section."""
        return _regex(self.asked)

    @cached_property
    def defining(self) -> Prefiltered:
        """Compiled defining cues: phrases that make a statement about this section."""
        return Prefiltered(self.cues.defining)

    @cached_property
    def strong(self) -> Prefiltered:
        """Compiled strong cues."""
        return Prefiltered(self.cues.strong)

    @cached_property
    def weak(self) -> Prefiltered:
        """Compiled weak cues."""
        return Prefiltered(self.cues.weak)


class Hedge(BaseModel):
    """A vague phrase and the kind of follow-up it calls for."""

    pattern: str
    kind: str
    weight: float = 1.0


class Guide(BaseModel):
    """The whole interview guide."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    minutes_per_question: float
    closing_minutes: float
    max_questions: int = 30  # questions in all, the closing one included
    enough_default: int
    max_probes_default: int
    intro: dict[str, str]
    closing: dict[str, str]
    commands_help: str
    probes: dict[str, str]
    clarify: dict[str, str]
    hedges: list[Hedge]
    dont_know: str
    exhausted: str
    corrections: str
    filler: str
    example_markers: str
    order: list[str]
    sections: dict[str, SectionGuide]

    @model_validator(mode="after")
    def _check(self) -> Guide:
        if sorted(self.order) != sorted(SECTION_KEYS) or set(self.sections) != set(SECTION_KEYS):
            raise ValueError("the guide must cover exactly the eleven canonical sections")
        for key, section in self.sections.items():
            section.key = key
            section.enough = section.enough or self.enough_default
            section.max_probes = section.max_probes or self.max_probes_default
        return self

    @cached_property
    def hedge_patterns(self) -> list[tuple[Prefiltered, Hedge]]:
        """Hedges compiled with word boundaries."""
        return [(Prefiltered(split_bars(h.pattern), r"\b{}\b"), h) for h in self.hedges]

    @cached_property
    def dont_know_re(self) -> Prefiltered:
        """Compiled "I don't know" phrases, as whole words ("pass" is not "passwd")."""
        return _phrases(self.dont_know)

    @cached_property
    def exhausted_re(self) -> Prefiltered:
        """Compiled "that's all I've got" phrases."""
        return _phrases(self.exhausted)

    @cached_property
    def correction_re(self) -> Prefiltered:
        """Compiled markers of a correction to the closing summary ("^no," ends at its comma)."""
        return _phrases(self.corrections, end="")

    @cached_property
    def filler_re(self) -> re.Pattern[str]:
        """Compiled small-talk patterns."""
        return _regex(" ".join(self.filler.split()))

    @cached_property
    def example_re(self) -> Prefiltered:
        """Compiled markers of a concrete example."""
        return Prefiltered(_branches(self.example_markers))

    def ordered(self) -> list[SectionGuide]:
        """Sections in interview order."""
        return [self.sections[key] for key in self.order]
