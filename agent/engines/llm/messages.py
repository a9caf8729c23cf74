"""Messages for the model: bounded context (compact profile, last turns) in tagged data blocks."""

from __future__ import annotations

import secrets
from typing import Any

from agent.interview.planner import Action
from agent.lang.guide import Guide
from agent.profile.models import SECTION_KEYS, SECTION_TITLES, Item, Profile
from agent.prompts import render
from agent.store.db import Turn

RECENT_TURNS = 4  # the question prompt sees these last turns, never the whole transcript
TURN_WORDS = 120  # each of them clipped to this many words
ITEM_WORDS = 16
SECTION_ITEMS = 4  # items of the current section shown
SYNTHESIS_ITEMS = 12  # items per section the synthesis sees


def new_tag() -> str:
    """A fresh name for this call's data blocks, so an answer cannot forge a closing tag."""
    return f"data-{secrets.token_hex(4)}"


def clip(text: str, words: int) -> str:
    """At most `words` words, marked when cut."""
    parts = text.split()
    return " ".join(parts[:words]) + (" ..." if len(parts) > words else "")


def statuses(profile: Profile) -> list[str]:
    """One line per section: status and item counts."""
    lines = []
    for key in SECTION_KEYS:
        section = profile.sections[key]
        concrete = sum(item.concrete for item in section.items)
        lines.append(f"{key}: {section.status}, {len(section.items)} items ({concrete} concrete)")
    return lines


def highlights(profile: Profile, words: int = ITEM_WORDS) -> list[str]:
    """The best item of each section that has one, clipped: the profile in compact form."""
    lines = []
    for key in SECTION_KEYS:
        items = profile.sections[key].items
        if items:
            best = max(items, key=lambda item: (item.concrete, -items.index(item)))
            lines.append(f"{key}: {clip(best.text, words)}")
    return lines


def messages(task: str, tag: str, user: str) -> list[Any]:
    """System and user messages for one call."""
    from langchain_core.messages import HumanMessage, SystemMessage

    return [SystemMessage(content=render("llm_system.j2", task=task, tag=tag)), HumanMessage(user)]


def question_messages(
    action: Action,
    profile: Profile,
    guide: Guide,
    recent: tuple[Turn, ...],
    minutes_left: float,
    draft: str,
) -> list[Any]:
    """The prompt for wording the planned question (or the closing reflect-back)."""
    tag = new_tag()
    spec = guide.sections.get(action.section or "")
    facet = ""
    if spec and action.probe.startswith("facet:"):
        facet_id = action.probe.removeprefix("facet:")
        facet = next((f.probe for f in spec.facets if f.id == facet_id), facet_id)
    items = profile.sections[action.section].items[-SECTION_ITEMS:] if action.section else []
    user = render(
        "llm_question.j2",
        tag=tag,
        company=profile.company,
        role=profile.role,
        product=clip(profile.product, 40),
        minutes_left=minutes_left,
        statuses=statuses(profile),
        section={"title": SECTION_TITLES[action.section], "goal": spec.goal} if spec else None,
        kind=action.kind,
        probe=action.probe,
        facet=facet,
        phrase=action.phrase,
        items=[clip(item.text, ITEM_WORDS) for item in items],
        highlights=highlights(profile),
        recent=[
            {"speaker": t.speaker, "text": clip(t.text, TURN_WORDS)}
            for t in recent[-RECENT_TURNS:]
            if t.kind in ("question", "answer")
        ],
        draft=draft,
    )
    return messages("close" if action.kind == "close" else "question", tag, user)


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
