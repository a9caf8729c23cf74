"""What each section means for marketing and for sales; wording in for_teams.yaml."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from agent.paths import load_yaml, resource
from agent.profile.models import SECTION_KEYS, Item, Profile
from agent.prompts import render
from agent.reading.terms import names
from agent.report.summary import ROLE_TITLES, roles
from agent.scoring.rules import or_join

AUDIENCES = ("marketing", "sales")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


@cache
def wording() -> dict[str, Any]:
    """The list templates, loaded once."""
    return load_yaml(resource("report_templates") / "for_teams.yaml")


def short(text: str, limit: int = 48) -> str:
    """The first sentence, cut at a word boundary near `limit`, without its full stop."""
    first = _SENTENCE_END.split(" ".join(text.split()), maxsplit=1)[0]
    if len(first) > limit:
        first = first[:limit].rsplit(" ", 1)[0].rstrip(",;:-") + "…"
    return first.rstrip(".")


def _turns(item: Item) -> str:
    """ "turn 6", "turns 6, 12", or in a merged profile "founder turn 6, sales turn 4"."""
    roles = dict(label.split(":", 1) for label in item.support if ":" in label)
    if roles:
        refs = [f"{roles.get(ev.session, ev.session)} turn {ev.turn}" for ev in item.evidence]
        return ", ".join(dict.fromkeys(refs))
    turns = list(dict.fromkeys(ev.turn for ev in item.evidence))
    return f"turn{'s' if len(turns) > 1 else ''} {', '.join(map(str, turns))}"


def _number(item: Item) -> str:
    """The first company size said, else the first number."""
    sized = [q for q in item.quantities if q.kind in ("employees", "revenue")]
    return (sized or item.quantities)[0].text if item.quantities else ""


@cache
def _replaced() -> re.Pattern[str]:
    return re.compile("|".join(wording()["replaced"]), re.IGNORECASE)


@cache
def _replaced_until() -> re.Pattern[str]:
    return re.compile(wording()["replaced_until"], re.IGNORECASE)


def _named(when: str, text: str) -> list[str]:
    """The tools an entry names: all, only those customers leave (replaced), or the rest."""
    every = names(text)
    if when not in ("replaced", "current"):
        return every
    left = []
    for found in _replaced().finditer(text):
        clause = _replaced_until().split(text[found.end() :], maxsplit=1)[0]
        left += [name for name in names(clause) if name in every]
    if when == "replaced":
        return list(dict.fromkeys(left))
    return [name for name in every if name not in left]


def _applies(when: str, item: Item, section: str) -> bool:
    if when in ("names", "replaced", "current"):
        return bool(_named(when, item.text))
    if when == "number":
        return bool(item.quantities)
    if when == "words":
        return section == "customer_language"
    return True


def _variables(item: Item, when: str) -> dict[str, str]:
    role = roles(item)[0]
    return {
        "text": " ".join(item.text.split()),
        "short": short(item.text),
        "names": or_join(_named(when, item.text)),
        "number": _number(item),
        "role": ROLE_TITLES[role] if role != "other" else "also involved",
        "turns": _turns(item),
    }


def section_lists(key: str, items: list[Item]) -> dict[str, list[str]]:
    """The marketing and sales lines for one section."""
    data = wording()
    ranked = sorted(items, key=lambda item: not item.concrete)
    out: dict[str, list[str]] = {}
    for audience in AUDIENCES:
        lines: list[str] = []
        for entry in data.get(key, {}).get(audience, []):
            when = entry.get("when", "any")
            chosen = [i for i in ranked if _applies(when, i, key)]
            for item in chosen[: entry.get("max", 1)]:
                line = render(entry["say"], **_variables(item, when))
                if line not in lines:
                    lines.append(line)
        out[audience] = lines[: data["limit"]] or [data["empty"]]
    return out


def for_teams(profile: Profile) -> dict[str, dict[str, list[str]]]:
    """Section key -> {"marketing": [...], "sales": [...]}, derived from the usable items alone
    (a doubtful or retracted item never becomes an action)."""
    usable = profile.usable()
    return {key: section_lists(key, usable.sections[key].items) for key in SECTION_KEYS}
