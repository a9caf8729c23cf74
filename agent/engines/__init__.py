"""Interview engines: they word the planner's questions and extract items from answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..errors import InputError
from ..planner import Action
from ..profile import Item, Profile


@dataclass(frozen=True)
class Wording:
    """A question as the respondent sees it, with an optional lead-in (the closing summary)."""

    text: str
    preface: str = ""


class Engine(Protocol):
    """What the interview loop needs from an engine."""

    name: str

    def word(self, action: Action, profile: Profile) -> Wording:
        """Word a planned question."""
        ...

    def extract(self, answer: str, turn: int, topic: str | None) -> list[tuple[str, Item]]:
        """Items found in an answer, with the section each belongs to."""
        ...


ENGINES = ("offline",)


def get_engine(name: str = "offline") -> Engine:
    """Create an engine by name."""
    if name == "offline":
        from .offline import OfflineEngine

        return OfflineEngine()
    raise InputError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINES)}")
