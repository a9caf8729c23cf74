"""Interview engines and their registry, which the CLI, the config file, batch and the web app read.

The registry names each engine and where its class lives, so listing the choices imports
nothing heavy; `EngineSpec.create()` imports and makes one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING

from agent.errors import InputError

if TYPE_CHECKING:
    from agent.interview.contract import Engine

# name -> (module, class, what it is); the first is the default.
ENGINES: dict[str, tuple[str, str, str]] = {  # identifiers: engine names, modules
    "offline": ("agent.engines.offline", "OfflineEngine", "built-in rules, no network"),
    "llm": ("agent.engines.llm.engine", "LLMEngine", "a chat model through LangChain"),
}
ENGINE_NAMES: tuple[str, ...] = tuple(ENGINES)
DEFAULT_ENGINE = ENGINE_NAMES[0]


def check_name(name: str) -> str:
    """The name if an engine has it, else one InputError listing the engines."""
    if name not in ENGINES:
        raise InputError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINE_NAMES)}")
    return name


@dataclass(frozen=True)
class EngineSpec:
    """Which engine to make and with which model options; picklable for worker processes."""

    name: str = DEFAULT_ENGINE
    model: str | None = None
    base_url: str | None = None

    def create(self, notify: Callable[[str], None] | None = None) -> Engine:
        """Import the engine's class and make one."""
        module, cls, _ = ENGINES[check_name(self.name)]
        return getattr(import_module(module), cls).from_spec(self, notify)

    def resolved(self, notify: Callable[[str], None] | None = None) -> EngineSpec:
        """The spec of the engine that actually runs: a model engine with no model configured
        runs offline (it says so once, here), and more made from the result will not say so."""
        made = self.create(notify)
        return self if made.name == self.name else EngineSpec(made.name)

    @property
    def key(self) -> str:
        """The engine and its options as a batch run records them."""
        if self.model is None and self.base_url is None:
            return self.name
        return f"{self.name}:{self.model or ''}:{self.base_url or ''}"


def get_engine(
    name: str = DEFAULT_ENGINE,
    model: str | None = None,
    base_url: str | None = None,
    notify: Callable[[str], None] | None = None,
) -> Engine:
    """Make an engine by name; `llm` without a configured model runs offline and says so."""
    return EngineSpec(name, model, base_url).create(notify)
