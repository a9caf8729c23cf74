"""Conditions over a row's prepared values, evaluated here in Python and compiled to SQL by
agent/scoring/sql.py: the one description of what a rule tests that both engines run."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

Values = Mapping[str, Any]


@dataclass(frozen=True)
class Search:
    """The pattern occurs in a prepared text value (see agent/scoring/cells.py)."""

    value: str
    pattern: str


@dataclass(frozen=True)
class Flag:
    """A boolean value computed before (a country named on the record, say)."""

    value: str


@dataclass(frozen=True)
class AnyOf:
    """At least one part holds (none: false)."""

    parts: tuple[Cond, ...]


@dataclass(frozen=True)
class AllOf:
    """Every part holds (none: true)."""

    parts: tuple[Cond, ...]


@dataclass(frozen=True)
class Not:
    """The part does not hold."""

    part: Cond


Cond = Search | Flag | AnyOf | AllOf | Not
NEVER = AnyOf(())


def any_of(parts: list[Cond]) -> Cond:
    """AnyOf without the wrapping for one part, and without parts that never hold."""
    kept = [p for p in parts if p != NEVER]
    return kept[0] if len(kept) == 1 else AnyOf(tuple(kept))


def all_of(parts: list[Cond]) -> Cond:
    """AllOf without the wrapping for one part; never when a part never holds."""
    if NEVER in parts:
        return NEVER
    return parts[0] if len(parts) == 1 else AllOf(tuple(parts))


@cache
def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def compile_cond(cond: Cond) -> Callable[[Values], bool]:
    """A Python function evaluating the condition on a row's values."""
    if isinstance(cond, Search):
        search, key = _rx(cond.pattern).search, cond.value
        return lambda v: search(v[key]) is not None
    if isinstance(cond, Flag):
        key = cond.value
        return lambda v: bool(v[key])
    if isinstance(cond, Not):
        inner = compile_cond(cond.part)
        return lambda v: not inner(v)
    parts = [compile_cond(p) for p in cond.parts]
    if isinstance(cond, AnyOf):
        return lambda v: any(p(v) for p in parts)
    return lambda v: all(p(v) for p in parts)
