"""Score an interview against a persona: facts captured, quotes kept, evidence, repeats, hygiene."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from math import floor
from pathlib import Path

from agent.interview.planner import normalise_question
from agent.lang import load_guide
from agent.profile.models import SECTION_KEYS, Profile
from agent.sim.respondent import Persona, SimulatedRespondent, ceiling, load_persona, oracle_said

MAX_QUESTION_WORDS = 30
_SECOND_QUESTION = re.compile(r"\?\s*(?:and|or)\b|\?.*\?", re.IGNORECASE)


@dataclass
class Score:
    """One persona's results; shares are 0..1."""

    persona: str
    facts: int
    said: float
    own_section: float
    anywhere: float
    quotes_said: int
    quotes_verbatim: float
    bad_evidence: int
    repeated_questions: int
    questions: int
    topics_never_asked: list[str] = field(default_factory=list)
    hygiene: float = 1.0
    missed: list[str] = field(default_factory=list)
    ceiling: float = 1.0  # the best capture the question budget allows (respondent.ceiling)
    oracle: float = 1.0  # what an interviewer who knows where facts are left draws out

    def as_dict(self) -> dict:
        """Plain JSON-ready dict."""
        return asdict(self)


def _matches(keys: list[str], text: str) -> bool:
    text = text.casefold()
    return all(any(alt.casefold() in text for alt in group.split("|")) for group in keys)


def hygienic(question: str) -> bool:
    """One question, at most 30 words, not two questions joined together."""
    return (
        question.count("?") == 1
        and len(question.split()) <= MAX_QUESTION_WORDS
        and not _SECOND_QUESTION.search(question)
    )


def score(
    persona: Persona,
    profile: Profile,
    questions: list[dict],
    answers: dict[int, str],
    budget: int = 30,
) -> Score:
    """Score a finished interview: `questions` are protocol lines, `answers` by turn number.

    `budget` is the number of questions the interview's minutes allow, for the ceiling.
    """
    section_text = {k: " ".join(i.text for i in profile.sections[k].items) for k in SECTION_KEYS}
    everything = " ".join(section_text.values())
    facts = persona.facts()
    own = [(k, f) for k, f in facts if _matches(f.keys, section_text[k])]
    anywhere = [(k, f) for k, f in facts if _matches(f.keys, everything)]
    transcript = "\n".join(answers.values())
    said = [f.quote for _, f in facts if f.quote and f.quote in transcript]
    language = {i.text for i in profile.sections["customer_language"].items}
    bad = sum(
        1
        for _, item in profile.all_items()
        for ev in item.evidence
        if ev.quote not in answers.get(ev.turn, "")
    )
    texts = [normalise_question(q["text"]) for q in questions]
    asked_topics = {q.get("topic") for q in questions}
    n = len(facts) or 1
    return Score(
        persona=persona.id,
        facts=len(facts),
        said=sum(f.say in transcript for _, f in facts) / n,
        own_section=len(own) / n,
        anywhere=len(anywhere) / n,
        quotes_said=len(said),
        quotes_verbatim=(sum(q in language for q in said) / len(said)) if said else 1.0,
        bad_evidence=bad,
        repeated_questions=len(texts) - len(set(texts)),
        questions=len(questions),
        topics_never_asked=[k for k in SECTION_KEYS if k not in asked_topics],
        hygiene=(sum(hygienic(q["text"]) for q in questions) / len(questions)) if questions else 0,
        ceiling=ceiling(persona, budget),
        missed=[
            f"{k}:{f.id}{'' if f.say in transcript else ' (never said)'}"
            for k, f in facts
            if (k, f) not in own
        ],
    )


def combine(runs: list[Score]) -> Score:
    """One persona's runs over several seeds: shares averaged, failures kept at their worst."""
    from statistics import mean

    first = runs[0]
    return Score(
        persona=first.persona,
        facts=first.facts,
        said=mean(r.said for r in runs),
        own_section=mean(r.own_section for r in runs),
        anywhere=mean(r.anywhere for r in runs),
        quotes_said=max(r.quotes_said for r in runs),
        quotes_verbatim=min(r.quotes_verbatim for r in runs),
        bad_evidence=max(r.bad_evidence for r in runs),
        repeated_questions=max(r.repeated_questions for r in runs),
        questions=max(r.questions for r in runs),
        topics_never_asked=sorted({t for r in runs for t in r.topics_never_asked}),
        hygiene=min(r.hygiene for r in runs),
        missed=sorted({m for r in runs for m in r.missed}),
        ceiling=first.ceiling,
        oracle=mean(r.oracle for r in runs),
    )


def run_persona(
    path: Path,
    minutes: float = 30,
    seed: int = 0,
    home: Path | None = None,
    extra: tuple[str, ...] = (),
) -> Score:
    """Interview a simulated persona through `icp interview --jsonl` and score the result."""
    persona = load_persona(path)
    respondent = SimulatedRespondent(persona, seed=seed)
    env = {**os.environ, **({"ICP_HOME": str(home)} if home else {})}
    root = Path(__file__).resolve().parent.parent
    cmd = [
        sys.executable,
        "-m",
        "cli",
        "interview",
        "--jsonl",
        "--company",
        persona.company,
        "--minutes",
        str(minutes),
        *extra,
    ]
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=root if (root / "cli.py").exists() else None,
    )
    assert proc.stdin and proc.stdout
    questions: list[dict] = []
    sid = ""
    for raw in proc.stdout:
        msg = json.loads(raw)
        if msg["type"] == "started":
            sid = msg["session"]
        elif msg["type"] == "question":
            questions.append(msg)
            answer = respondent.answer(msg["text"], msg.get("topic"))
            proc.stdin.write(json.dumps({"answer": answer}) + "\n")
            proc.stdin.flush()
        elif msg["type"] == "done":
            break
    proc.stdin.close()
    if proc.wait(timeout=120) != 0:
        raise RuntimeError(f"interview failed: {proc.stderr.read() if proc.stderr else ''}")
    exported = subprocess.run(
        [sys.executable, "-m", "cli", "export", sid, "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=root if (root / "cli.py").exists() else None,
    )
    profile = Profile.model_validate_json(exported.stdout)
    from agent.store.db import Store

    store = Store(Path(env["ICP_HOME"]) / "icp.db") if env.get("ICP_HOME") else Store()
    try:
        answers = {t.seq: t.text for t in store.turns(sid) if t.kind == "answer"}
    finally:
        store.close()
    budget = floor(minutes / load_guide().minutes_per_question)
    result = score(persona, profile, questions, answers, budget)
    result.oracle = oracle_said(persona, budget, seed)
    return result
