"""`icp demo`: a complete interview answered by the built-in sample respondent."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from agent.interview.contract import Engine
from agent.interview.loop import Interview
from agent.paths import resource
from agent.sim.respondent import SimulatedRespondent, load_persona, words
from agent.store.db import Store


def sample_persona_path() -> Path:
    """The bundled sample respondent."""
    return resource("prompts") / "sample_respondent.yaml"


def run_demo(
    store: Store,
    engine: Engine,
    persona: Path | None = None,
    minutes: float = 30,
    on_turn: Callable[[str, str, str | None], None] | None = None,
) -> Interview:
    """Run a whole interview with a simulated respondent; `on_turn(question, answer, topic)`."""
    person = load_persona(persona or sample_persona_path())
    interview = Interview.start(
        store, engine, company=person.company, role=_role(person.respondent), minutes=minutes
    )
    respondent = SimulatedRespondent(person)
    while interview.question is not None:
        question = interview.question
        answer = respondent.answer(question.text, question.topic)
        if on_turn:
            on_turn(question.text, answer, question.topic)
        interview.answer(answer)
    return interview


def _role(respondent: str) -> str:
    """The interview role of a persona's respondent ("head of sales" is sales)."""
    text = respondent.lower()
    for role, cues in words()["roles"].items():
        if any(cue in text for cue in cues):
            return role
    return "founder"
