"""An engine wrapper that tells the chat page which topic the next question is about, before
the engine starts wording it (so the label and the side panel update as it streams in)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Announcing:
    """Forwards everything to the engine; `word()` first calls `on_word(action)` if set."""

    def __init__(self, engine: Any):
        self._engine = engine
        self.on_word: Callable[[Any], None] | None = None

    def word(self, action: Any, profile: Any, context: Any = None) -> Any:
        """Announce the planned action, then let the engine word it."""
        if self.on_word is not None:
            self.on_word(action)
        return self._engine.word(action, profile, context)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)
