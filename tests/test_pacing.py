"""Pacing from the observed time per answer: every section is asked within the budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agent.engines.offline import OfflineEngine
from agent.interview.loop import Interview
from agent.profile.models import SECTION_KEYS
from agent.sim.respondent import SimulatedRespondent, load_persona
from tests.conftest import persona_paths


class FakeClock:
    """The store's clock: moves only when the respondent takes time to answer."""

    def __init__(self):
        self.at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def now(self) -> str:
        return self.at.isoformat(timespec="seconds")

    def wait(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@pytest.mark.parametrize("seconds", [30, 60, 90, 120])
@pytest.mark.parametrize("path", persona_paths()[:3], ids=lambda p: p.stem)
def test_every_section_is_asked_within_the_budget(store, monkeypatch, seconds, path):
    clock = FakeClock()
    monkeypatch.setattr("agent.store.db.now", clock.now)
    persona = load_persona(path)
    interview = Interview.start(store, OfflineEngine(), company=persona.company, minutes=30)
    respondent = SimulatedRespondent(persona)
    while interview.question is not None:
        question = interview.question
        clock.wait(seconds)
        interview.answer(respondent.answer(question.text, question.topic))
    turns = store.turns(interview.session.id)
    asked = {t.topic for t in turns if t.kind == "question"}
    assert set(SECTION_KEYS) <= asked
    questions = sum(t.kind == "question" for t in turns)
    assert questions <= 30
    assert questions * seconds <= 30 * 60  # every answer, the closing one too, fits the budget
    assert interview.state.active_seconds == questions * seconds
