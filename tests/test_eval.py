"""Interview quality on the shared personas, through the real `--jsonl` protocol (issue 3).

The full run over every persona and several seeds is `python bench/eval_interview.py`.
"""

import pytest

from agent.evaluate import hygienic, run_persona
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
    # Regression floors, below the 85% / 95% targets this engine does not yet reach on every
    # persona (see the README's evaluation section for the measured numbers and why).
    assert score.own_section >= 0.75, score.missed
    assert score.anywhere >= 0.80, score.missed


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
