"""What to ask next: sections in order, probes for what stayed vague, paced to the time budget.

The planner is engine-agnostic: it decides *what* to ask (a section and a kind of question);
an engine decides *how* to word it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import floor
from typing import Literal

from pydantic import BaseModel, Field

from agent.lang.guide import Guide
from agent.profile.models import Item, Profile
from agent.reading.sections import comparable

Phase = Literal["intro", "sections", "revisit", "closing", "done"]  # identifiers: phases


class Action(BaseModel):
    """One question to ask: its kind, section and, for probes, what it follows up on.

    `ask` is a scripted question (the quarterly review's): its `text` is asked as written. Any
    action with a `text` is not worded by the engine.
    """

    kind: Literal["intro", "open", "probe", "close", "ask"]
    section: str | None = None
    probe: str = ""  # facet:<id>, hedge, example, words, more
    phrase: str = ""  # the respondent's own words, quoted back
    hedge: str = ""  # kind of hedge for a hedge probe
    text: str = ""  # a scripted question, asked as written
    preface: str = ""  # its lead-in
    topic: str = ""  # a scripted question's topic, when it is not a section

    @property
    def asked_topic(self) -> str | None:
        """The topic stored with the question: its section, or intro, close, review."""
        if self.kind in ("open", "probe"):
            return self.section
        if self.kind == "ask":
            return self.topic or self.section
        return self.kind


class State(BaseModel):
    """The interview's running state, stored with every profile version."""

    phase: Phase = "intro"
    current: str | None = None
    visited: list[str] = Field(default_factory=list)
    finished: list[str] = Field(default_factory=list)
    declined: list[str] = Field(default_factory=list)
    asked: dict[str, int] = Field(default_factory=dict)
    used: dict[str, list[str]] = Field(default_factory=dict)
    dont_knows: dict[str, int] = Field(default_factory=dict)
    exhausted: list[str] = Field(default_factory=list)  # the respondent said "that's all"
    gained: dict[str, int] = Field(default_factory=dict)  # new items from the last answer on each
    asked_texts: list[str] = Field(default_factory=list)
    questions: int = 0
    active_seconds: float = 0.0
    last: Action | None = None


@dataclass
class LastAnswer:
    """What the planner needs to know about the answer just given."""

    section: str | None = None
    dont_know: bool = False
    exhausted: bool = False
    gained: int = 0  # items the answer added to its section
    concrete: bool = False
    hedges: list[tuple[str, str, float]] = field(default_factory=list)  # phrase, kind, weight


def elapsed_minutes(state: State, guide: Guide) -> float:
    """Interview time used: the wall clock, or the per-question estimate if that is larger."""
    return max(state.active_seconds / 60, state.questions * guide.minutes_per_question)


def pace_minutes(state: State, guide: Guide) -> float:
    """Minutes one more question will take: the measured average per answer so far, never
    less than the guide's estimate (a fast typist does not earn a longer interview, a slow
    one must not lose the last sections)."""
    answered = max(1, state.questions)
    return max(guide.minutes_per_question, state.active_seconds / 60 / answered)


def questions_left(state: State, guide: Guide, budget: float) -> int:
    """Questions that still fit the budget at the measured pace, keeping time for the closing
    step, and never more than the guide's cap on questions (the closing one included)."""
    pace = pace_minutes(state, guide)
    remaining = budget - elapsed_minutes(state, guide) - max(guide.closing_minutes, pace)
    by_time = max(0, floor(remaining / pace + 1e-9))
    return max(0, min(by_time, guide.max_questions - 1 - state.questions))


def _quota(guide: Guide, budget: float, state: State | None = None) -> dict[str, int]:
    """Each section's fair share of the questions the budget holds at the measured pace, by
    its minutes in the guide."""
    pace = pace_minutes(state, guide) if state is not None else guide.minutes_per_question
    fits = min(floor((budget - guide.closing_minutes) / pace), guide.max_questions - 1)
    total = max(len(guide.order), fits - 1)
    minutes = sum(s.minutes for s in guide.ordered())
    return {s.key: max(1, round(total * s.minutes / minutes)) for s in guide.ordered()}


def _verbatim(key: str, item: Item) -> bool:
    """Whether an item is the customer's quoted words, stored without their quote marks.

    A concrete language-bank item whose text was said word for word counts as quoted, so
    "What exactly did they say?" is not asked again; a model's paraphrase does not.
    """
    if key != "customer_language" or not item.concrete:
        return False
    said = comparable(item.text)
    return bool(said) and any(f" {said} " in f" {comparable(ev.quote)} " for ev in item.evidence)


def _facet_text(key: str, profile: Profile) -> str:
    """A section's items as facet cues read them, verbatim items inside quote marks."""
    items = profile.sections[key].items
    return " ".join(f"“{i.text}”" if _verbatim(key, i) else i.text for i in items)


def uncovered_facets(key: str, profile: Profile, guide: Guide, state: State) -> list[str]:
    """Facets of a section that no item mentions and that were not asked yet."""
    text = _facet_text(key, profile)
    used = state.used.get(key, [])
    return [
        facet.id
        for facet in guide.sections[key].facets
        if f"facet:{facet.id}" not in used and not facet.pattern.search(text)
    ]


def _probes(key: str, profile: Profile, guide: Guide, state: State, last: LastAnswer | None):
    """Follow-ups for a section, best first, leaving out what was already asked."""
    section = profile.sections[key]
    used = set(state.used.get(key, []))
    spec = guide.sections[key]
    out: list[Action] = []
    # "it depends", "the usual", "mid-market" deserve quoting back; a lone "usually" does not.
    hedges = [h for h in (last.hedges if last else []) if h[2] >= 1]
    if last and last.section == key and not last.concrete and hedges and "hedge" not in used:
        phrase, kind, _ = max(hedges, key=lambda h: h[2])
        out.append(Action(kind="probe", section=key, probe="hedge", phrase=phrase, hedge=kind))
    # After an answer that added something, "what else?" invites the rest of the list.
    productive = _productive(key, last) if last else bool(state.gained.get(key))
    if productive and "more" not in used:
        out.append(Action(kind="probe", section=key, probe="more"))
    facets = uncovered_facets(key, profile, guide, state)
    out += [Action(kind="probe", section=key, probe=f"facet:{f}") for f in facets]
    has_quote = any(
        _verbatim(key, i) or any('"' in ev.quote or "“" in ev.quote for ev in i.evidence)
        for i in section.items
    )
    if spec.words and "words" not in used and not has_quote:
        out.append(Action(kind="probe", section=key, probe="words"))
    if "example" not in used and not any(item.concrete for item in section.items):
        out.append(Action(kind="probe", section=key, probe="example"))
    if "more" not in used and not productive:
        out.append(Action(kind="probe", section=key, probe="more"))
    return out


def _satisfied(key: str, profile: Profile, guide: Guide, state: State) -> bool:
    concrete = sum(item.concrete for item in profile.sections[key].items)
    return concrete >= (guide.sections[key].enough or 2) and not uncovered_facets(
        key, profile, guide, state
    )


def plan(
    state: State,
    profile: Profile,
    guide: Guide,
    budget: float,
    last: LastAnswer | None = None,
) -> list[Action]:
    """Ranked candidate questions; the caller asks the first one not asked before."""
    if state.phase == "done":
        return []
    if state.phase == "intro" and state.questions == 0:
        return [Action(kind="intro")]
    if state.phase == "closing":
        return []
    left = questions_left(state, guide, budget)
    close = [Action(kind="close")]
    if left <= 0:
        return close
    cur = state.current
    out: list[Action] = []
    if (
        cur
        and state.phase == "sections"
        and _may_stay(cur, state, profile, guide, budget, left, last)
    ):
        out += _probes(cur, profile, guide, state, last)
    out += _moves(state, profile, guide, left, last)
    return out + close


def _may_stay(
    key: str,
    state: State,
    profile: Profile,
    guide: Guide,
    budget: float,
    left: int,
    last: LastAnswer | None,
) -> bool:
    """Whether the current section deserves another follow-up, given the clock.

    A respondent who just added something probably has more; one who says "that's all" or
    declines twice does not, however thin the section still looks.
    """
    spec = guide.sections[key]
    if key in state.exhausted or state.dont_knows.get(key, 0) >= 2:
        return False
    if last and last.dont_know and not profile.sections[key].items:
        return False
    asked = state.asked.get(key, 0)
    if asked >= 1 + (spec.max_probes or 3):
        return False
    later = [k for k in guide.order if k not in state.visited]
    spare = left - len(later)
    if spare <= 0:
        return False
    concrete = any(item.concrete for item in profile.sections[key].items)
    if asked == 1 or (asked == 2 and last and last.dont_know and not concrete):
        # An opening answer is vague by nature, and one "no idea" may only be about the angle.
        return True
    quota = _quota(guide, budget, state)
    wanted = not _satisfied(key, profile, guide, state)
    if asked < quota[key]:
        return wanted
    # Beyond the fair share only with time banked by sections that finished early.
    return wanted and spare > sum(quota[k] for k in later)


def _productive(key: str, last: LastAnswer | None) -> bool:
    """Whether the last answer, on this section, added something new."""
    return bool(last and last.section == key and last.gained and not last.exhausted)


def _moves(state: State, profile: Profile, guide: Guide, left: int, last: LastAnswer | None):
    """Moving on: the next section in order, then a second pass over what stayed vague.

    Every section is asked about once, even one that volunteered answers already fill: the
    respondent confirms or adds to it, and the report says what was asked.
    """
    out: list[Action] = []
    for key in guide.order:
        if key in state.visited:
            continue
        concrete = sum(item.concrete for item in profile.sections[key].items)
        if concrete >= (guide.sections[key].enough or 2):
            facets = uncovered_facets(key, profile, guide, state)
            probe = f"facet:{facets[0]}" if facets else "more"
            out.append(Action(kind="probe", section=key, probe=probe))
        else:
            out.append(Action(kind="open", section=key))
        return out
    if left < 1:
        return out
    # Second pass with the time left, one follow-up each: the thinnest sections first, and
    # among those the ones where the respondent was still adding things; never one they closed.
    # Thin means few answers said something concrete: one long answer's sentences count once.
    again = [
        key
        for key in guide.order
        if key not in state.declined
        and key not in state.exhausted
        and key != state.current
        and state.dont_knows.get(key, 0) < 2
    ]
    again.sort(
        key=lambda k: (
            len({e.turn for i in profile.sections[k].items if i.concrete for e in i.evidence}),
            not state.gained.get(k),
            state.asked.get(k, 0),
        )
    )
    for key in again:
        out += _probes(key, profile, guide, state, None)[:1]
    return out


def apply(state: State, action: Action, text: str) -> None:
    """Record that a question was asked."""
    state.questions += 1
    state.asked_texts.append(normalise_question(text))
    state.last = action
    if action.kind == "intro":
        state.phase = "intro"
        return
    if action.kind == "ask":
        state.current = action.section
        return
    if action.kind == "close":
        if state.current and state.current not in state.finished:
            state.finished.append(state.current)
        state.phase = "closing"
        state.current = None
        return
    key = action.section
    assert key is not None
    if key != state.current and state.current and state.current not in state.finished:
        state.finished.append(state.current)
    if key not in state.visited:
        state.visited.append(key)
        state.phase = "sections"
    elif key != state.current:
        state.phase = "revisit"
    state.current = key
    state.asked[key] = state.asked.get(key, 0) + 1
    if action.probe:
        state.used.setdefault(key, []).append(action.probe)
    if action.kind == "open":
        state.used.setdefault(key, []).append("open")


def normalise_question(text: str) -> str:
    """Comparable form of a question, to never ask the same one twice."""
    return " ".join("".join(c for c in text.casefold() if c.isalnum() or c.isspace()).split())
