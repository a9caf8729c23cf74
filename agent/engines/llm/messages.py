"""Messages for the model: bounded context (compact profile, last turns) in tagged data blocks."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from agent.interview.contract import Context
from agent.interview.planner import Action
from agent.lang.guide import Guide
from agent.profile.models import SECTION_KEYS, SECTION_TITLES, Item, Profile
from agent.prompts import render

TURN_WORDS = 150  # the last answer, clipped to this many words
EXCHANGE_TURNS = 5  # the current section's last turns shown (the last answer apart)
EXCHANGE_WORDS = 40  # each of them clipped to this many words
ASKED_WORDS = 10  # every question asked so far, clipped: the prompt grows slowly
ITEM_WORDS = 14
SYNTHESIS_ITEMS = 12  # items per section the synthesis sees


def new_tag() -> str:
    """A fresh name for this call's data blocks, so an answer cannot forge a closing tag."""
    return f"data-{secrets.token_hex(4)}"


def clip(text: str, words: int) -> str:
    """At most `words` words, marked when cut."""
    parts = text.split()
    return " ".join(parts[:words]) + (" ..." if len(parts) > words else "")


def messages(task: str, tag: str, user: str) -> list[Any]:
    """System and user messages for one call."""
    from langchain_core.messages import HumanMessage, SystemMessage

    return [SystemMessage(content=render("llm_system.j2", task=task, tag=tag)), HumanMessage(user)]


@dataclass(frozen=True)
class Move:
    """One move on the model's menu: its number, the plan's action, and its plain draft."""

    id: str
    action: Action
    draft: str


def describe(action: Action, guide: Guide) -> dict[str, str]:
    """A move as the menu shows it: its section's title and what it asks."""
    spec = guide.sections.get(action.section or "")
    facet = ""
    if spec and action.probe.startswith("facet:"):
        facet_id = action.probe.removeprefix("facet:")
        facet = next((f.probe for f in spec.facets if f.id == facet_id), facet_id)
    what = render(
        "llm_move.j2", kind=action.kind, probe=action.probe, facet=facet, phrase=action.phrase
    )
    return {"section": SECTION_TITLES[action.section] if spec else "", "what": what}


def choose_messages(
    moves: list[Move],
    profile: Profile,
    guide: Guide,
    context: Context,
    answer: str,
    follow_up: bool,
    read: list[str] = (),
) -> list[Any]:
    """The prompt of the one call per turn: read the last answer, pick a move, ask it."""
    tag = new_tag()
    spec = guide.sections.get(context.section or "")
    exchange = [t for t in context.exchange if t.kind in ("question", "answer")]
    user = render(
        "llm_choose.j2",
        tag=tag,
        company=profile.company,
        role=profile.role,
        product=clip(profile.product, 40),
        minutes_left=context.minutes_left,
        questions_left=context.questions_left,
        profile=running_summary(profile),
        asked=[clip(q, ASKED_WORDS) for q in context.asked],
        section={"title": SECTION_TITLES[spec.key], "goal": spec.goal} if spec else None,
        exchange=[
            {"speaker": t.speaker, "text": clip(t.text, EXCHANGE_WORDS)}
            for t in exchange[-EXCHANGE_TURNS:-1]
        ],
        answer=clip(answer, TURN_WORDS),
        read=list(read),
        moves=[{"id": m.id, **describe(m.action, guide), "draft": m.draft} for m in moves],
        follow_up=follow_up,
    )
    return messages("choose", tag, user)


def running_summary(profile: Profile) -> list[str]:
    """One line per section: its status and item count, and its best item, clipped."""
    lines = []
    for key in SECTION_KEYS:
        section = profile.sections[key]
        line = f"{key}: {section.status}, {len(section.items)} items"
        if section.items:
            items = section.items
            best = max(items, key=lambda item: (item.concrete, -items.index(item)))
            line += f"; {clip(best.text, ITEM_WORDS)}"
        lines.append(line)
    return lines


def extract_messages(
    guide: Guide,
    answer: str,
    turn: int,
    topic: str | None,
    question: str,
    noted: list[tuple[str, Item]],
) -> list[Any]:
    """The prompt for extracting items from one answer, with what the offline rules found."""
    tag = new_tag()
    user = render(
        "llm_extract.j2",
        tag=tag,
        sections=[(key, guide.sections[key].goal) for key in SECTION_KEYS],
        topic=topic if topic in SECTION_KEYS else None,
        question=question,
        turn=turn,
        answer=answer,
        noted=[(section, clip(item.text, 24)) for section, item in noted],
    )
    return messages("extract", tag, user)


def synthesis_messages(profile: Profile) -> tuple[list[Any], dict[str, tuple[str, int]]]:
    """The synthesis prompt and the item ids it cites: "section#n" -> (section, index)."""
    tag = new_tag()
    refs: dict[str, tuple[str, int]] = {}
    sections = []
    for key in SECTION_KEYS:
        section = profile.sections[key]
        ranked = sorted(range(len(section.items)), key=lambda i: not section.items[i].concrete)
        shown = []
        for index in sorted(ranked[:SYNTHESIS_ITEMS]):
            ref = f"{key}#{index + 1}"
            refs[ref] = (key, index)
            shown.append((ref, clip(section.items[index].text, 30)))
        sections.append({"key": key, "status": section.status, "items": shown})
    user = render(
        "llm_synthesis.j2",
        tag=tag,
        company=profile.company,
        product=clip(profile.product, 40),
        sections=sections,
    )
    return messages("synthesis", tag, user), refs
