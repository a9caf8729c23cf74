"""What the report derives from a profile, in a pack's words (`summary.yaml`)."""

from __future__ import annotations

import re
from functools import cached_property

from pydantic import BaseModel

from agent.lang.patterns import alternation


class PersonaWords(BaseModel):
    """How a negative persona is named from an exclusion item."""

    lead_in: str
    because: str
    because_lead: str
    relative: frozenset[str]
    no_article: frozenset[str]
    article: str
    who_they: tuple[str, str]

    @cached_property
    def lead_in_re(self) -> re.Pattern[str]:
        """Words that lead in to an exclusion ("We never sell to")."""
        return re.compile(self.lead_in, re.IGNORECASE)

    @cached_property
    def because_re(self) -> re.Pattern[str]:
        """Where an exclusion's reason starts."""
        return re.compile(self.because, re.IGNORECASE)

    @cached_property
    def because_lead_re(self) -> re.Pattern[str]:
        """A reason's own first word, dropped from the "why"."""
        return re.compile(self.because_lead, re.IGNORECASE)


class SummaryWords(BaseModel):
    """Committee roles, questions for thin sections, reasons, negative persona naming."""

    role_titles: dict[str, str]
    role_cues: dict[str, list[str]]
    section_questions: dict[str, str]
    reasons: dict[str, str]
    persona: PersonaWords

    @cached_property
    def role_patterns(self) -> dict[str, re.Pattern[str]]:
        """Per role, its cues matched at word starts."""
        return {
            role: re.compile(rf"\b{alternation(cues, escape=False, longest_first=False)}", re.I)
            for role, cues in self.role_cues.items()
        }
