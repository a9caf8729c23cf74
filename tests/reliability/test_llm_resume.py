"""`icp resume` with the llm engine re-extracts an answer whose model items a killed process
never stored (LangChain fake chat models: no network, no key)."""

from __future__ import annotations

import json
import threading

import pytest

from agent.engines.llm.engine import LLMEngine
from agent.engines.offline import OfflineEngine
from agent.interview.loop import Interview
from agent.interview.recovery import MODEL_PENDING
from agent.profile.models import Profile, verify_evidence
from agent.store.db import Store
from tests.llm_fakes import answer_of, settings
from tests.test_llm_engine import ANSWERS, fake, first_words, grounded_and_invented


@pytest.fixture
def release():
    """Lets a hung extraction finish when the test ends (its process is 'dead' by then)."""
    event = threading.Event()
    yield event
    event.set()


def hang_on(answer: str, release: threading.Event):
    """Extraction that answers at once, except for `answer`, which waits until released."""

    def reply(messages):
        text = answer_of(messages)
        if text == answer:
            release.wait(30)
        return json.dumps({"items": grounded_and_invented(text)})

    return reply


def killed(store: Store, release: threading.Event, answers: int = 4) -> tuple[Interview, int]:
    """An llm interview left as SIGKILL leaves it: the model still extracting the last answer."""
    last = ANSWERS[answers - 1]
    engine = LLMEngine(settings(), model=fake(extract=hang_on(last, release)))
    interview = Interview.start(store, engine, company="Acme")
    for text in ANSWERS[:answers]:
        interview.answer(text)
    seq = max(t.seq for t in store.turns(interview.session.id) if t.text == last)
    store.release(interview.session.id)  # as the OS does for a killed process's lock
    return interview, seq  # never settled, never interrupted: the process is gone


def uninterrupted(store: Store, answers: int) -> Interview:
    """The same answers in a process that lived: the last extraction kept by Ctrl-C."""
    interview = Interview.start(store, LLMEngine(settings(), model=fake()), company="Acme")
    for text in ANSWERS[:answers]:
        interview.answer(text)
    interview.interrupt()
    return interview


def model_items(profile: Profile, turn: int) -> list:
    return [i for _, i in profile.all_items() if i.source == "llm" and i.evidence[0].turn == turn]


def answers_of(store: Store, sid: str) -> dict[int, str]:
    return {t.seq: t.text for t in store.turns(sid) if t.kind == "answer"}


def extract_calls(model) -> int:
    """Extractions asked for: each answer's call, not the re-ask that feeds a failed check back."""
    return sum(
        c["purpose"] == "extract" and "cannot be used as they are" not in c["messages"][-1].content
        for c in model.calls
    )


def test_resume_extracts_again_what_a_killed_process_never_stored(store, release):
    dead, seq = killed(store, release)
    sid = dead.session.id
    before = store.last_step(sid)
    assert before.meta == {MODEL_PENDING: seq}
    assert model_items(Profile.model_validate(before.data), seq) == []

    fresh, model = Store(), fake()
    try:
        again = Interview.resume(fresh, LLMEngine(settings(), model=model), sid)
        assert again.question.text == dead.question.text  # the same question is still waiting
        assert extract_calls(model) == 1
        record = fresh.last_step(sid)
        saved = Profile.model_validate(record.data)
        assert record.meta == {} and record.after_seq == before.after_seq
        items = model_items(saved, seq)
        assert [i.text for i in items] == [f"Noted: {first_words(ANSWERS[3]).lower()}"]
        assert all(ev.quote in ANSWERS[3] for i in items for ev in i.evidence)
        assert items == model_items(uninterrupted(store, 4).profile, seq)
        assert verify_evidence(saved, answers_of(fresh, sid)) == []

        # Resuming again (another kill before the next answer) redoes nothing.
        versions = fresh.profile(sid).version
        model = fake()
        twice = Interview.resume(fresh, LLMEngine(settings(), model=model), sid)
        assert extract_calls(model) == 0
        assert twice.profile.model_dump() == saved.model_dump()
        assert fresh.profile(sid).version == versions
    finally:
        fresh.close()


def test_an_answer_stored_before_the_kill_is_processed_after_the_recovered_one(store, release):
    dead, seq = killed(store, release)
    sid = dead.session.id
    # Killed right after the next answer committed, before anything processed it.
    stored = store.add_turn(sid, "respondent", ANSWERS[4], dead.question.topic, "answer").seq
    store.release(sid)  # and then it died
    fresh, model = Store(), fake()
    try:
        again = Interview.resume(fresh, LLMEngine(settings(), model=model), sid)
        assert again.question.seq > dead.question.seq  # the stored answer got its next question
        latest = fresh.last_step(sid)
        assert latest.meta == {MODEL_PENDING: stored}  # now the model extracts that answer
        assert model_items(Profile.model_validate(latest.data), seq)
        again.interrupt()  # its extraction has finished: kept, and nothing is left pending
        record = fresh.last_step(sid)
        saved = Profile.model_validate(record.data)
        assert record.meta == {} and model_items(saved, stored)
        assert verify_evidence(saved, answers_of(fresh, sid)) == []
        assert list(answers_of(fresh, sid).values()) == ANSWERS[:5]
        model = fake()
        Interview.resume(fresh, LLMEngine(settings(), model=model), sid)
        assert extract_calls(model) == 0
    finally:
        fresh.close()


def test_an_interrupt_that_kept_the_extraction_leaves_nothing_to_redo(store):
    interview = Interview.start(store, LLMEngine(settings(), model=fake()), company="Acme")
    for text in ANSWERS[:2]:
        interview.answer(text)
    assert store.last_step(interview.session.id).meta[MODEL_PENDING]
    interview.interrupt()
    assert store.last_step(interview.session.id).meta == {}
    model = fake()
    Interview.resume(store, LLMEngine(settings(), model=model), interview.session.id)
    assert extract_calls(model) == 0


def test_an_offline_resume_stores_nothing_so_a_later_llm_resume_still_recovers(store, release):
    dead, seq = killed(store, release)
    sid, version = dead.session.id, store.profile(dead.session.id).version
    offline = Interview.resume(store, OfflineEngine(), sid)
    assert offline.question.text == dead.question.text
    assert store.profile(sid).version == version  # quit again before answering
    Interview.resume(store, LLMEngine(settings(), model=fake()), sid)
    assert model_items(Profile.model_validate(store.profile(sid).data), seq)
