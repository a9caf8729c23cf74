"""Escape sequences from every untrusted source stop at the boundary: imported text and speaker
names, model output and streamed tokens, a company name from the web form. None reaches a
terminal (`icp import`'s prompt and errors, `icp interview --review`, `icp sessions`, the chat)
or a report; newlines and tabs in the words are kept. URLs in the Markdown report stay text."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from agent.engines.llm.engine import LLMEngine
from agent.frontends.chat import run_chat
from agent.interview.loop import Interview
from agent.report.bundle import load_bundle
from agent.report.render import render
from agent.safety import clean_text
from agent.store.db import Store
from tests.conftest import ROOT, icp
from tests.llm_fakes import RoutedFake, answer_of, settings
from tests.reliability.corpus import ANSWERS, ATTACKER, ESCAPE_SPEAKER, ESCAPES
from tests.test_llm_engine import SYNTHESIS, fake

HOSTILE = "\x1b]0;pwned\x07\x1b[2J\x1b]52;c;cm0gLXJmIH4=\x07\x9b31m"


def escapes_in(text: str) -> list[str]:
    return [e for e in ESCAPES if e in text]


@pytest.fixture
def hostile_transcript(tmp_path) -> Path:
    """A call whose words and speaker label carry terminal escape sequences."""
    path = tmp_path / "call.md"
    path.write_text(
        "**Interviewer\x07:** What kind of companies are your best customers?\n"
        f"**{ESCAPE_SPEAKER}:** Dental clinics{HOSTILE} with 200 employees in Germany.\n"
        "\tThey run Dentrix.\n"
        f"**Interviewer:** What made them buy?{HOSTILE}\n"
        f"**{ESCAPE_SPEAKER}:** A new practice manager{HOSTILE}, within 90 days of joining.\n",
        encoding="utf-8",
    )
    return path


def test_imported_text_and_names_are_stored_and_shown_without_escapes(
    hostile_transcript, tmp_path, icp_home
):
    result = icp("import", str(hostile_transcript), "--respondent", ESCAPE_SPEAKER, "--json")
    assert result.returncode == 0, result.stderr
    assert escapes_in(result.stdout + result.stderr) == []
    sid = json.loads(result.stdout)[0]["session"]
    store = Store()
    try:
        turns = store.turns(sid)
        labels = {row["speaker"] for row in store.import_turns(sid).values()}
    finally:
        store.close()
    assert all(escapes_in(t.text) == [] for t in turns)
    assert labels == {"Interviewer", "Dana]0;pwned[2J"}  # the ESC and BEL gone, the rest text
    assert "Dental clinics]0;pwned[2J]52;c;cm0gLXJmIH4=31m with 200" in turns[1].text
    assert "\n\tThey run Dentrix." in turns[1].text  # newlines and tabs are content
    for fmt in ("md", "html"):
        out = tmp_path / f"r.{fmt}"
        made = icp("report", sid, "--out", str(out))
        assert made.returncode == 0, made.stderr
        assert escapes_in(out.read_text("utf-8")) == [], fmt
    exported = icp("export", sid)
    assert exported.returncode == 0 and escapes_in(exported.stdout) == []


def test_the_respondent_error_and_the_review_echo_carry_no_escapes(hostile_transcript):
    wrong = icp("import", str(hostile_transcript), "--respondent", "Nobody")
    assert wrong.returncode == 1 and "no speaker named 'Nobody'" in wrong.stderr
    assert "Dana]0;pwned[2J" in wrong.stderr and escapes_in(wrong.stderr) == []
    imported = icp("import", str(hostile_transcript), "--respondent", ESCAPE_SPEAKER, "--json")
    sid = json.loads(imported.stdout)[0]["session"]
    review = icp("interview", "--review", sid, "--jsonl", input="")
    assert review.returncode == 0, review.stderr
    first = json.loads(review.stdout.splitlines()[1])
    assert "Dental clinics" in first["preface"]  # the reviewed profile, echoed back
    assert escapes_in(review.stdout + review.stderr) == []


@pytest.mark.slow
@pytest.mark.skipif(os.name == "nt", reason="a pseudo-terminal")
def test_the_respondent_prompt_in_a_terminal_carries_no_escapes(hostile_transcript):
    """`icp import` without --respondent in a terminal lists the speakers and asks."""
    import pty

    main, child = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "import", str(hostile_transcript)],
        stdin=child,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=os.environ.copy(),
    )
    os.close(child)
    os.write(main, b"2\n")  # Dana, the second speaker listed
    out, err = proc.communicate(timeout=120)
    os.close(main)
    shown = err.decode("utf-8", "replace")
    assert proc.returncode == 0, shown
    assert "2) Dana]0;pwned[2J" in shown and escapes_in(shown) == []
    assert "respondent Dana]0;pwned[2J" in out.decode()


# The model's claims are checked before they are kept (a number or name an item adds to its
# quotes is refused), so items and the synthesis carry escapes without digits.
PLAIN_HOSTILE = "\x1b]title\x07\x1b[J\x9bm"


def _escaping_model() -> RoutedFake:
    """A model whose every reply tries to retitle the window, clear it and fill the clipboard."""

    def extract(messages):
        answer = answer_of(messages)
        quote = " ".join(answer.split()[:4])
        item = {
            "section": "buying_committee",
            "text": f"{quote}{PLAIN_HOSTILE} arrives",
            "quotes": [quote],
            "concrete": False,
            "said_by": "",
        }
        return json.dumps({"items": [item]})

    synthesis = json.loads(json.dumps(SYNTHESIS))
    synthesis["summary"][0].update(text=f"A new CFO{PLAIN_HOSTILE}", refs=["buying_committee#1"])
    synthesis["negative_personas"][0].update(
        why=f"No AP{PLAIN_HOSTILE}", refs=["buying_committee#1"]
    )
    return fake(
        question=f"Which{HOSTILE} tools do they run {HOSTILE}today?",
        close=f"You sell to{HOSTILE} finance teams.\n\nWhat in that is missing{HOSTILE}?",
        extract=extract,
        synthesis=json.dumps(synthesis),
    )


def test_model_output_and_streamed_tokens_reach_no_terminal_and_no_store(store):
    interview = Interview.start(
        store, LLMEngine(settings(), model=_escaping_model()), company="Acme", minutes=6
    )
    answers = iter(
        ["We sell AP automation.", "Usually a new CFO arrives and wants the close fast."]
        + ["/done", "Nothing missing."] * 9
    )
    out, err = io.StringIO(), io.StringIO()
    assert run_chat(interview, out, err, read=lambda: next(answers))
    shown = out.getvalue() + err.getvalue()
    assert "Which]0;pwned[2J]52;c;cm0gLXJmIH4=31m tools" in shown  # streamed, harmless
    assert escapes_in(shown) == []
    bundle = load_bundle(store, interview.session.id)
    stored = json.dumps(bundle.profile.model_dump(mode="json"))
    assert "Usually a new CFO]title[Jm arrives" in stored  # the model's item, kept cleaned
    assert "A new CFO]title[Jm" in stored and "No AP]title[Jm" in stored  # its synthesis
    assert escapes_in(bundle.profile.model_dump_json()) == []
    assert all(escapes_in(t.text) == [] for t in bundle.turns)
    for fmt in ("md", "html"):
        text = render(bundle.profile, bundle.session, bundle.turns, fmt, bundle.usage).decode()
        assert escapes_in(text) == [], fmt


def test_a_company_name_from_the_web_form_is_listed_without_escapes(icp_home):
    from starlette.testclient import TestClient

    from agent.frontends.web.app import create_app

    with TestClient(create_app("t" * 32), headers={"x-icp-token": "t" * 32}) as c:
        r = c.post("/new", data={"company": f"Acme{HOSTILE}", "role": "founder", "minutes": "30"})
        assert r.status_code in (200, 303), r.text
    listed = icp("sessions")
    assert listed.returncode == 0 and "Acme]0;pwned" in listed.stdout
    assert escapes_in(listed.stdout) == []
    as_json = json.loads(icp("sessions", "--json").stdout)
    assert escapes_in(as_json[0]["company"]) == []


def test_typed_terminal_escapes_are_kept_as_text_without_their_escape_character():
    cleaned = clean_text(ANSWERS["terminal escapes"])
    assert escapes_in(cleaned) == []
    assert cleaned.startswith("Clinics]0;pwned title with[2J[H 200 staff]52;c;")


def test_bare_urls_are_not_links_when_github_renders_the_markdown_report(store, engine):
    """GitHub's Markdown (cmark-gfm with its autolink extension) shows them as plain text."""
    cmarkgfm = pytest.importorskip("cmarkgfm")
    interview = Interview.start(store, engine, company="Acme", minutes=5)
    interview.answer("Payroll software for dental clinics.")
    interview.answer(ANSWERS["bare URLs"])
    bundle = load_bundle(store, interview.session.id)
    md = render(bundle.profile, bundle.session, bundle.turns, "md").decode()
    html = cmarkgfm.github_flavored_markdown_to_html(md)
    assert ATTACKER in html
    links = re.findall(r"<a [^>]*href=\"([^\"]*)", html)
    assert [href for href in links if ATTACKER in href] == []
    text = re.sub(r"<[^>]+>", "", html)
    assert f"http://{ATTACKER}/phish" in text and f"www.{ATTACKER}" in text  # shown as said
