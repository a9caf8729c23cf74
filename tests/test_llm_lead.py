"""The model leads, the rules guard: moves, claims, deadlines and outages, with LangChain fakes."""

from __future__ import annotations

import json
import time

import pytest

from agent.config import ModelSettings
from agent.engines.llm.breaker import Breaker
from agent.engines.llm.engine import TAIL_SECONDS, LLMEngine
from agent.interview.loop import Interview
from agent.profile.models import SECTION_KEYS
from agent.report.bundle import load_bundle
from agent.report.render import render
from tests.conftest import persona_paths, run_persona
from tests.llm_fakes import answer_of, settings
from tests.test_llm_engine import ANSWERS, fake, run

INVENTED = "Fortune 500 banks with over 10,000 employees in Germany"


def invented(messages) -> str:
    """Invented claims behind real quotes: one word long, or long but not saying the claim."""
    answer = answer_of(messages)
    first = answer.split()[0]
    opening = " ".join(answer.split()[:4])
    items = [
        {"section": "company_profile", "text": INVENTED, "quotes": [first]},
        {"section": "company_profile", "text": INVENTED, "quotes": [opening]},
        {
            "section": "customer_language",
            "text": opening,
            "quotes": [opening],
            "said_by": "the CFO of Deutsche Bank",
        },
    ]
    return json.dumps({"items": [{"concrete": True, "said_by": "", **i} for i in items]})


INVENTED_SYNTHESIS = {
    "summary": [{"text": "Fortune 500 banks in Germany.", "refs": ["company_profile#1"]}],
    "rubric": [
        {
            "category": "firmographic",
            "criterion": "Bank headquartered in Germany",
            "points": 30,
            "refs": ["company_profile#1"],
        }
    ],
    "negative_personas": [
        {"name": "Deutsche Bank subsidiaries", "why": "Too slow.", "refs": ["company_profile#1"]}
    ],
    "open_questions": [{"section": "channels", "text": "Do German banks refer?", "refs": []}],
}


def test_invented_claims_with_real_short_quotes_reach_nothing(store):
    model = fake(extract=invented, synthesis=json.dumps(INVENTED_SYNTHESIS))
    interview = run(store, LLMEngine(settings(), model=model))
    profile = interview.profile
    dumped = json.dumps(profile.model_dump(mode="json"))
    bundle = load_bundle(store, interview.session.id)
    md = render(bundle.profile, bundle.session, bundle.turns, "md", bundle.usage).decode()
    html = render(bundle.profile, bundle.session, bundle.turns, "html", bundle.usage).decode()
    for claim in ("Fortune", "Germany", "German", "Deutsche", "10,000"):
        assert claim not in dumped, claim
        assert claim not in md and claim not in html, claim
    assert profile.synthesis is None or profile.synthesis.size() == 0
    # Each failed check was fed back once, with what is wrong, before the items were dropped.
    rechecks = [c for c in model.calls if "cannot be used as they are" in c["messages"][-1].content]
    reasons = " ".join(c["messages"][-1].content for c in rechecks)
    assert 'the name "Germany"' in reasons and "shorter than 3 words" in reasons
    assert 'said_by "the CFO of Deutsche Bank"' in reasons
    assert any(c["purpose"] == "synthesis" for c in rechecks)


@pytest.mark.parametrize("path", persona_paths()[:2], ids=lambda p: p.stem)
def test_a_model_that_repeats_its_wording_still_covers_every_section(store, path):
    model = fake(question="MOVE: 1\nQUOTE:\nACK:\nQUESTION: What else can you tell me about that?")
    interview = run_persona(store, LLMEngine(settings(), model=model), path)
    turns = store.turns(interview.session.id)
    questions = [t for t in turns if t.kind == "question"]
    assert {t.topic for t in questions} >= set(SECTION_KEYS)
    assert 25 <= len(questions) <= 30
    assert len({t.text for t in questions}) == len(questions)


def hanging(every: int, seconds: float):
    """A reply that hangs for `seconds` on every `every`-th call, else answers at once."""
    count = iter(range(1, 10_000))

    def reply(messages):
        n = next(count)
        if n % every == 0:
            time.sleep(seconds)
        if "Your task: extract" in messages[0].content:
            return json.dumps({"items": []})
        return f"MOVE: 1\nQUOTE:\nACK:\nQUESTION: Model question {n}: what happened last time?"

    return reply


@pytest.mark.slow
def test_a_model_that_hangs_never_holds_a_question_past_its_deadlines(store):
    first_token, extract_wait = 0.6, 0.3
    engine = LLMEngine(
        settings(first_token_timeout=first_token, extract_wait=extract_wait),
        model=fake(question=hanging(2, 3.0), extract=hanging(3, 3.0)),
        notify=lambda _: None,
        breaker=Breaker(failures=99),  # keep calling the model: every question meets a hang
    )
    interview = Interview.start(store, engine, company="Acme", minutes=12)
    waits = []
    for text in ANSWERS[:10]:
        started = time.perf_counter()
        interview.answer(text)
        waits.append(time.perf_counter() - started)
    budget = first_token + extract_wait
    assert max(waits) < budget + 0.5, waits
    questions = [t.text for t in store.turns(interview.session.id) if t.kind == "question"]
    assert any(q.startswith("Model question") for q in questions)  # the model still asks
    assert any(not q.startswith("Model question") for q in questions)  # the drafts fill in
    # The defaults keep the same promise at full size: at most 12 s for any question.
    defaults = ModelSettings(provider="openai", name="m")
    assert defaults.first_token_timeout == 8
    assert defaults.extract_wait + defaults.first_token_timeout + TAIL_SECONDS <= 12


def test_an_outage_then_recovery_uses_the_model_again(store):
    down = {"on": False}
    count = iter(range(1, 10_000))

    def question(messages):
        if down["on"]:
            raise ConnectionError("connection refused")
        return f"Model question {next(count)}: what happened in your last deal?"

    def extract(messages):
        if down["on"]:
            raise ConnectionError("connection refused")
        return json.dumps({"items": []})

    clock = {"now": 0.0}
    notices: list[str] = []
    engine = LLMEngine(
        settings(),
        model=fake(question=question, extract=extract),
        notify=notices.append,
        breaker=Breaker(cooldown=30, clock=lambda: clock["now"]),
    )
    interview = Interview.start(store, engine, company="Acme", minutes=30)
    asked = [interview.answer(ANSWERS[0]).text]
    down["on"] = True
    for text in ANSWERS[1:6]:
        asked.append(interview.answer(text).text)
    assert engine.disabled and any("until the model answers again" in n for n in notices)
    calls = len(engine.client.model.calls)
    asked.append(interview.answer("Mostly referrals.").text)  # open: no call is made
    assert len(engine.client.model.calls) == calls
    down["on"] = False
    clock["now"] += 31  # the cooldown has passed: the next step probes the model
    asked += [interview.answer(t).text for t in ("G2 reviews.", "Peers.", "Events.")]
    assert not engine.disabled and any("answers again" in n for n in notices), (notices, asked)
    assert all(q.startswith("Model question") for q in asked[-3:])
    assert not any(q.startswith("Model question") for q in asked[1:7])


def test_the_model_may_follow_up_on_a_phrase_once_and_only_on_what_was_said(store):
    replies = iter(
        [
            "Model question 1: what do you sell?",
            "MOVE: 1\nQUOTE:\nACK:\nQUESTION: Which companies are your best customers?",
            "MOVE: F\nQUOTE: run NetSuite\nACK: Thanks, that is clear.\n"
            'QUESTION: Why "run NetSuite" in particular?',
            "MOVE: F\nQUOTE: a new CFO\nACK:\nQUESTION: What did the new CFO change first?",
            'MOVE: F\nQUOTE: words nobody said\nACK:\nQUESTION: About "words nobody said"?',
            "MOVE: 7\nQUOTE:\nACK:\nQUESTION: A move the plan never offered?",
        ]
    )
    model = fake(question=lambda m: next(replies), extract=lambda m: json.dumps({"items": []}))
    interview = Interview.start(store, LLMEngine(settings(), model=model), company="Acme")
    interview.answer(ANSWERS[0])
    follow = interview.answer(ANSWERS[1])
    assert follow.text == 'Why "run NetSuite" in particular?'
    assert follow.preface == "Thanks, that is clear." and follow.topic == "company_profile"
    assert interview.state.last.probe == "follow" and interview.state.last.phrase == "run NetSuite"
    # A second follow-up on the same section is not offered: the plan's first move is asked.
    second = interview.answer("Usually a new CFO.")
    assert "new CFO change" not in second.text
    third = interview.answer("The controller, mostly.")
    assert "words nobody said" not in third.text  # a quote that is not in the answer
    fourth = interview.answer("Not sure.")
    assert "never offered" not in fourth.text  # a move outside the plan's


def test_the_report_marks_the_models_paraphrases(store):
    interview = run(store, LLMEngine(settings(), model=fake()))
    paraphrased = [i for _, i in interview.profile.all_items() if i.source == "llm"]
    assert paraphrased and all(i.text.startswith("Noted:") for i in paraphrased)
    bundle = load_bundle(store, interview.session.id)
    md = render(bundle.profile, bundle.session, bundle.turns, "md", bundle.usage).decode()
    html = render(bundle.profile, bundle.session, bundle.turns, "html", bundle.usage).decode()
    lines = [line for line in md.splitlines() if line.startswith("- Noted:")]
    assert lines and all("*(model's paraphrase)*" in line for line in lines)
    assert "model's paraphrase" in html
    offline = [line for line in md.splitlines() if "paraphrase" in line and "Noted:" not in line]
    assert offline == []
