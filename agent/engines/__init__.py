"""Interview engines: they word the planner's questions and extract items from answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ..errors import InputError
from ..planner import Action
from ..profile import Item, Profile
from ..store import Turn


@dataclass(frozen=True)
class Wording:
    """A question as the respondent sees it, with an optional lead-in (the closing summary)."""

    text: str
    preface: str = ""


@dataclass(frozen=True)
class Context:
    """What an engine may see besides the profile: the last few turns, the clock, a token sink."""

    recent: tuple[Turn, ...] = ()
    minutes_left: float = 0.0
    on_token: Callable[[str], None] | None = None


class Engine(Protocol):
    """What the interview loop needs from an engine."""

    name: str

    def word(self, action: Action, profile: Profile, context: Context) -> Wording:
        """Word a planned question; a streaming engine passes text pieces to `on_token`."""
        ...

    def extract(
        self, answer: str, turn: int, topic: str | None, context: Context
    ) -> list[tuple[str, Item]]:
        """Items found in an answer, with the section each belongs to."""
        ...


ENGINES = ("offline",)


def get_engine(name: str = "offline") -> Engine:
    """Create an engine by name."""
    if name == "offline":
        from .offline import OfflineEngine

        return OfflineEngine()
    raise InputError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINES)}")
