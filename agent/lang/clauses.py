"""How a pack cuts statements into the clauses scoring rules read (`clauses.yaml`)."""

from __future__ import annotations

import re
from functools import cached_property

from pydantic import BaseModel

from agent.lang.patterns import alternation


def _any(patterns: list[str]) -> re.Pattern[str]:
    return re.compile(alternation(patterns, escape=False, longest_first=False), re.IGNORECASE)


class ClauseWords(BaseModel):
    """Clause breaks, where an exclusion's reason starts, lead-ins and a trigger's timing."""

    breaks: list[str]
    reason_starts: list[str]
    lead_in: str
    timing_before: list[str]
    timing_after: str

    @cached_property
    def break_re(self) -> re.Pattern[str]:
        """Between two clauses of a sentence."""
        return _any(self.breaks)

    @cached_property
    def reason_re(self) -> re.Pattern[str]:
        """Where the reason of an exclusion starts."""
        return _any(self.reason_starts)

    @cached_property
    def lead_in_re(self) -> re.Pattern[str]:
        """Words that lead into a list of exclusions ("Never target:")."""
        return re.compile(self.lead_in, re.IGNORECASE)

    @cached_property
    def timing_before_re(self) -> re.Pattern[str]:
        """The words before a duration that make it a trigger's window ("within the first")."""
        return _any(self.timing_before)

    @cached_property
    def timing_after_re(self) -> re.Pattern[str]:
        """The words after a duration that tie it to an event ("90 days after")."""
        return re.compile(self.timing_after, re.IGNORECASE)
