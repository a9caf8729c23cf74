"""Interview quality on the shared personas, through the real `--jsonl` protocol (issue 3).

The full run over every persona and several seeds is `python bench/eval_interview.py`.
"""

import pytest

from agent.evaluate import hygienic, run_persona
from agent.profile import SECTION_KEYS
from agent.respondent import Persona, best_said, ceiling
from tests.conftest import SHARED_PERSONAS

PERSONAS = sorted(SHARED_PERSONAS.glob("*.yaml"))


@pytest.mark.skipif(not PERSONAS, reason="../shared/personas is not beside the project")
@pytest.mark.parametrize("path", PERSONAS, ids=lambda p: p.stem)
def test_interview_quality_targets(path, icp_home):
    score = run_persona(path, minutes=30, seed=0, home=icp_home)
    assert score.bad_evidence == 0
    assert score.repeated_questions == 0
    assert score.topics_never_asked == []
    assert score.questions <= 30
    assert score.hygiene >= 0.95
    assert score.quotes_said >= 1 and score.quotes_verbatim == 1.0
    # The targets: 85% in their own section, 95% anywhere, except where the question
    # budget cannot reach 95% even with perfect questions (the ceiling; see the README).
    assert score.own_section >= 0.85, score.missed
    assert score.anywhere >= min(0.95, score.ceiling - 0.05), score.missed
    assert score.said <= score.ceiling
    assert score.said <= score.best + 0.1  # the clairvoyant can be unlucky with don't-knows too


def _persona(style: str | None, facts_per_topic: int, volunteered: int = 0) -> Persona:
    topics = {}
    for key in SECTION_KEYS:
        facts = [
            {"id": f"{key}{i}", "say": f"Fact {i} about {key}.", "keys": [f"{key}{i}"]}
            for i in range(facts_per_topic)
        ]
        topics[key] = {"vague": "It varies.", "facts": facts}
    for fact in [t["facts"][0] for t in topics.values()][:volunteered]:
        fact["volunteer_in"] = "company_profile"
    return Persona.model_validate(
        {
            "id": "p",
            "company": "P",
            "opening": "We sell P.",
            "unknown": "No idea.",
            "style": style,
            "topics": topics,
        }
    )


def test_ceiling_is_the_question_budget_arithmetic():
    # 30 questions: opener, closing and 11 first questions leave 17 follow-ups for 33 facts.
    assert ceiling(_persona("terse", 3), 30) == pytest.approx(17 / 33)
    # Up to two facts a follow-up: 11 follow-ups get two, the other 6 get the last one.
    assert ceiling(_persona(None, 3), 30) == pytest.approx(28 / 33)
    assert ceiling(_persona(None, 1), 30) == 1.0
    # Volunteered facts come free with a first question.
    assert ceiling(_persona("terse", 3, volunteered=4), 30) == pytest.approx(21 / 33)
    assert ceiling(_persona("terse", 3), 13) == 0.0


@pytest.mark.parametrize("style, facts", [("terse", 3), (None, 3), (None, 1), ("terse", 1)])
def test_a_clairvoyant_interviewer_reaches_the_ceiling_when_nobody_declines(style, facts):
    persona = _persona(style, facts)
    assert best_said(persona, 30, dont_know_rate=0) == pytest.approx(ceiling(persona, 30))
    assert best_said(persona, 30, seed=1) <= ceiling(persona, 30)


@pytest.mark.parametrize(
    "question, ok",
    [
        ("Where are they, geographically?", True),
        ("Who signs? And who blocks?", False),
        ("What do they buy? and when?", False),
        ("Tell me about it.", False),
        ("Which " + "very " * 30 + "long question?", False),
    ],
)
def test_hygiene_check(question, ok):
    assert hygienic(question) is ok
