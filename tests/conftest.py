"""Shared fixtures: an isolated ICP_HOME per test, a store, personas and a scripted run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import strategies as st

from agent.engines import get_engine
from agent.interview.loop import Interview
from agent.sim.respondent import SimulatedRespondent, load_persona
from agent.store.db import Store

ROOT = Path(__file__).resolve().parent.parent
SHARED_PERSONAS = ROOT.parent / "shared" / "personas"
OWN_PERSONAS = Path(__file__).resolve().parent / "personas"


def persona_statements(remarks: bool = False) -> list[str]:
    """What our own personas say: every fact and vague answer, and with `remarks` their ways of
    saying "that's all", their asides and openers too."""
    texts: list[str] = []
    for path in sorted(OWN_PERSONAS.glob("*.yaml")):
        persona = yaml.safe_load(path.read_text(encoding="utf-8"))
        if remarks:
            texts += persona.get("done", []) + persona.get("asides", [])
            texts += persona.get("openers", [])
        for topic in persona["topics"].values():
            texts += [topic.get("vague", "")] + [f["say"] for f in topic.get("facts", [])]
    return texts


def texts_of(words: list[str], fillers: list[str], glues: list[str], most: int):
    """Generated texts of up to `most` of `words` and `fillers`, joined by one of `glues`: texts
    that hit a pattern's words, near misses and overlaps."""
    pieces = st.one_of(st.sampled_from(words), st.sampled_from(fillers))
    return st.builds(
        lambda said, glue: glue.join(said),
        st.lists(pieces, max_size=most),
        st.sampled_from(glues),
    )


def persona_paths() -> list[Path]:
    """Shared personas (when ../shared is present) and our own."""
    return sorted(SHARED_PERSONAS.glob("*.yaml")) + sorted(OWN_PERSONAS.glob("*.yaml"))


@pytest.fixture(autouse=True)
def icp_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "icp-home"
    monkeypatch.setenv("ICP_HOME", str(home))
    return home


@pytest.fixture
def store(icp_home) -> Store:
    s = Store()
    yield s
    s.close()


@pytest.fixture
def engine():
    return get_engine("offline")


def run_persona(store: Store, engine, path: Path, minutes: float = 30) -> Interview:
    """Drive a whole interview in-process with a simulated respondent."""
    persona = load_persona(path)
    interview = Interview.start(store, engine, company=persona.company, minutes=minutes)
    respondent = SimulatedRespondent(persona)
    while interview.question is not None:
        q = interview.question
        interview.answer(respondent.answer(q.text, q.topic))
    return interview


def icp(
    *args: str, input: str | bytes | None = None, env: dict | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """Run the installed `icp` command as a user would."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        input=input,
        capture_output=True,
        env=full_env,
        timeout=timeout,
        cwd=ROOT,
        text=not isinstance(input, bytes),
    )


def spawn_icp(*args: str) -> subprocess.Popen:
    """Start `icp ARGS` as a child process with text pipes on stdin, stdout and stderr."""
    return subprocess.Popen(
        [sys.executable, "-m", "cli", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=os.environ.copy(),
        encoding="utf-8",
    )


def jsonl_interview(persona_path: Path, *extra: str) -> tuple[str, list[dict], list[str]]:
    """Run `icp interview --jsonl` in a child process answering as the persona.

    Returns the session id, every protocol line received and every answer sent.
    """
    persona = load_persona(persona_path)
    respondent = SimulatedRespondent(persona)
    proc = spawn_icp("interview", "--jsonl", "--company", persona.company, *extra)
    lines, answers, sid = [], [], ""
    assert proc.stdout and proc.stdin
    for raw in proc.stdout:
        msg = json.loads(raw)
        lines.append(msg)
        if msg["type"] == "started":
            sid = msg["session"]
        elif msg["type"] == "question":
            answer = respondent.answer(msg["text"], msg["topic"])
            answers.append(answer)
            proc.stdin.write(json.dumps({"answer": answer}) + "\n")
            proc.stdin.flush()
        elif msg["type"] == "done":
            break
    proc.stdin.close()
    assert proc.wait(timeout=60) == 0, proc.stderr.read() if proc.stderr else ""
    return sid, lines, answers


def pdf_text(path: Path) -> str:
    """The PDF's text as a reader would copy it, whitespace collapsed."""
    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(path).pages)
    return " ".join(text.replace("\x00", "").split())
