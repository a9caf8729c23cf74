"""What the interview loop needs from an engine: one base class declaring every hook.

`word` and `extract` are required; the other hooks have no-op defaults, and what an engine can
do is declared as class attributes, so the loop, recovery, re-extraction, batch and the web app
never probe an engine for what it has. `choose` is where an engine may lead: it picks the next
move among the planner's candidates (the loop guards what it picks); by default it words the
first candidate.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from agent.engines import EngineSpec
    from agent.interview.planner import Action
    from agent.profile.models import Item, Profile, Synthesis
    from agent.store.db import Turn

Found = list[tuple[str, "Item"]]  # (section key, item) pairs an engine extracted


@dataclass(frozen=True)
class Wording:
    """A question as the respondent sees it, with an optional lead-in (the closing summary)."""

    text: str
    preface: str = ""


@dataclass(frozen=True)
class Context:
    """What an engine may see besides the profile: the last few turns, the clock, a token sink,
    and for choosing a move: every question asked so far and the current section's exchange."""

    recent: tuple[Turn, ...] = ()
    minutes_left: float = 0.0
    on_token: Callable[[str], None] | None = None
    asked: tuple[str, ...] = ()  # every question asked so far, in order
    section: str | None = None  # the section being asked about
    exchange: tuple[Turn, ...] = ()  # the questions and answers on that section
    questions_left: int = 0
    may_follow_up: bool = False  # the rules allow a follow-up (FOLLOW_UP) on this section now


# A move an engine may propose besides the planner's candidates: a follow-up quoting the
# respondent's last answer (`Action.phrase`), in the section being asked about.
FOLLOW_UP = "follow"
# The closing's one follow-up, asked when the respondent corrects the summary.
CORRECTION = "correction"


class Engine(ABC):
    """An interview engine: it words the planner's questions and extracts items from answers."""

    name: ClassVar[str]
    streams: ClassVar[bool] = False  # choose() passes text pieces to context.on_token
    background: ClassVar[bool] = False  # extract() returns a floor now, the rest via settle()
    cpu_bound: ClassVar[bool] = False  # pure computation: batch runs it in worker processes

    @classmethod
    def from_spec(cls, spec: EngineSpec, notify: Callable[[str], None] | None = None) -> Engine:
        """Make the engine a registry spec names (an engine with options reads them here)."""
        return cls()

    @abstractmethod
    def word(self, action: Action, profile: Profile, context: Context) -> Wording:
        """Word a move plainly (the fallback the loop asks when a chosen wording collides)."""

    def choose(
        self, candidates: list[Action], profile: Profile, context: Context
    ) -> tuple[Action, Wording]:
        """The next move and its wording: one of `candidates` (best first, as the planner ranks
        them) or a follow-up (`FOLLOW_UP`) on the current section. The default words the first."""
        return candidates[0], self.word(candidates[0], profile, context)

    @abstractmethod
    def extract(self, answer: str, turn: int, topic: str | None, context: Context) -> Found:
        """Items found in an answer, with the section each belongs to."""

    def bind(self, store: Any, session_id: str) -> None:  # noqa: B027 (an optional hook)
        """Where the engine records its own calls (the llm engine's cost accounting)."""

    @property
    def pending(self) -> int | None:
        """The answer whose background extraction has not been settled yet, if any."""
        return None

    def ready(self, wait: float) -> bool:
        """True when no background extraction runs or it finishes within `wait` seconds."""
        return True

    def settle(self, final: bool = False, wait: float | None = None) -> Found:
        """The items a background extraction found since the last call (waiting up to `wait`)."""
        return []

    def flush(self) -> None:  # noqa: B027 (an optional hook)
        """Store the call records collected so far."""

    def synthesize(self, profile: Profile, context: Context) -> Synthesis | None:
        """An end-of-interview synthesis (summary, rubric, personas), if the engine writes one."""
        return None
