"""Caches for the pure readers of a statement: an answer is read when it is split, filed,
classified and checked, so the same text meets the same reader several times."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, wraps
from typing import Any, TypeVar

R = TypeVar("R")


def per_language(maxsize: int) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """Cache `reader(text, words, *args)` per language object `words` (a pack or its guide).

    A reader's result depends only on the text, the words and hashable arguments. Entries hold
    the words object itself, so a new pack at a reused address never meets an old entry.
    """

    def wrap(reader: Callable[..., R]) -> Callable[..., R]:
        caches: dict[int, tuple[Any, Callable[..., R]]] = {}

        @wraps(reader)
        def cached(text: str, words: Any, *args: Any) -> R:
            entry = caches.get(id(words))
            if entry is None or entry[0] is not words:
                bound = lru_cache(maxsize=maxsize)(lambda t, *a: reader(t, words, *a))
                entry = caches[id(words)] = (words, bound)
            return entry[1](text, *args)

        return cached

    return wrap
