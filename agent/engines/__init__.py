"""Interview engines: they word the planner's questions and extract items from answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from agent.errors import InputError
from agent.interview.planner import Action
from agent.profile.models import Item, Profile
from agent.store.db import Turn


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


ENGINES = ("offline", "llm")


def get_engine(
    name: str = "offline",
    model: str | None = None,
    base_url: str | None = None,
    notify: Callable[[str], None] | None = None,
) -> Engine:
    """Create an engine by name; `llm` without a configured model runs offline and says so."""
    if name not in ENGINES:
        raise InputError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINES)}")
    from agent.engines.offline import OfflineEngine

    if name == "llm":
        from agent.config import resolve

        settings = resolve(model, base_url)
        if settings.configured:
            from agent.engines.llm.engine import LLMEngine

            return LLMEngine(settings, notify=notify)
        import sys

        print(
            f"icp: notice: no model configured for {settings.model} (no API key, no base URL): "
            "running the offline engine. Set OPENAI_API_KEY, `icp config set api_key ...` or "
            "--base-url; `icp doctor` checks the setup.",
            file=sys.stderr,
            flush=True,
        )
    return OfflineEngine()
