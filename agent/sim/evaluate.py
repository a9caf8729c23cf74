"""Score an interview against a persona: facts captured, quotes kept, evidence, repeats, hygiene."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from functools import cache
from math import floor
from pathlib import Path

from agent.interview.planner import normalise_question
from agent.lang import load_guide
from agent.lang.patterns import alternation
from agent.profile.models import SECTION_KEYS, Profile
from agent.sim.respondent import (
    Persona,
    SimulatedRespondent,
    ceiling,
    load_persona,
    oracle_said,
    words,
)

MAX_QUESTION_WORDS = 30


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
    # Precision: what the profile says wrongly.
    non_answers_filed: int = 0  # items made from words that answered nothing
    non_answers_in_summary: int = 0  # ... that reach the one-page summary, personas, language
    polarity_errors: list[str] = field(default_factory=list)  # excluded/negated/retracted rewarded
    corrections_said: int = 0  # facts with a correction in them that were said
    corrections_honoured: int = 0  # ... whose retracted value no live item still claims
    content_lost: int = 0  # facts said that are in no section and not in Unsorted
    declined_with_content: int = 0  # sections marked declined although facts were given
    loops_after_done: int = 0  # questions on a topic after the respondent said it was used up
    counters_ignored: int = 0  # counter-questions the interviewer moved on from
    non_answer_items: list[str] = field(default_factory=list)  # "section: text" of those items

    def as_dict(self) -> dict:
        """Plain JSON-ready dict."""
        return asdict(self)


def _matches(keys: list[str], text: str) -> bool:
    text = text.casefold()
    return all(any(alt.casefold() in text for alt in group.split("|")) for group in keys)


@cache
def _second_question() -> re.Pattern[str]:
    joined = alternation(words()["joined_question"])
    return re.compile(rf"\?\s*{joined}\b|\?.*\?", re.IGNORECASE)


def hygienic(question: str) -> bool:
    """One question, at most 30 words, not two questions joined together."""
    return (
        question.count("?") == 1
        and len(question.split()) <= MAX_QUESTION_WORDS
        and not _second_question().search(question)
    )


def _comparable(text: str) -> str:
    return " " + " ".join(re.findall(r"\w+", text.casefold())) + " "


GLUED_WORDS = 4  # a remark this long inside an item's evidence was glued onto it


def polluted(item_quotes: list[str], non_answers: list[str]) -> bool:
    """True when an item's evidence is made of words that answered nothing, or holds such a
    remark of GLUED_WORDS words or more ("...in Texas. Anyway, that's how it goes."). A short
    filler inside a sentence with content ("you know", "honestly") does not count."""
    said = [_comparable(n) for n in non_answers if n.strip()]
    for quote in item_quotes:
        q = _comparable(quote)
        for n in said:
            if not n.strip():
                continue
            if q in n or (n in q and len(n.split()) >= GLUED_WORDS):
                return True
    return False


def precision(
    persona: Persona,
    respondent: SimulatedRespondent,
    profile: Profile,
    questions: list[dict],
    transcript: str,
) -> dict:
    """What the profile says wrongly: non-answers filed, polarity errors in the derived rules,
    corrections not honoured, content lost, declines with content, loops after "that's all"."""
    from agent.report.summary import summarize
    from agent.scoring.rubric import derive

    non = respondent.non_answers
    items = [item for _, item in profile.all_items()]
    made_of = [
        f"{key}: {i.text}"
        for key, i in profile.all_items()
        if polluted([ev.quote for ev in i.evidence], non)
    ]
    filed = len(made_of)
    summary = summarize(profile)
    shown = [
        *summary.who_we_sell_to,
        *summary.top_triggers,
        *summary.top_criteria,
        *summary.never_target,
        *summary.language_bank,
    ]
    in_summary = sum(polluted([ev.quote for ev in i.evidence], non) for i in shown)
    in_summary += sum(
        polluted([ev.quote for ev in p.evidence], non) for p in summary.negative_personas
    )
    facts = [(k, f) for k, f in persona.facts() if f.say in transcript]
    rubric = derive(profile)
    positive = [(r, t) for r in rubric.rules for t in (r.any_of or [])]
    disqualifying = [(d.id, t) for d in rubric.disqualifiers for t in (d.any_of or [])]
    errors = []
    for _, fact in facts:
        for term in [*fact.excluded, *fact.negated, *fact.retracted]:
            errors += [
                f"{rule.id} rewards {term!r}"
                for rule, t in positive
                if _rewards(rule, t, term, fact.say)
            ]
        for term in fact.target:
            errors += [
                f"{rid} disqualifies {term!r}" for rid, t in disqualifying if _same_term(t, term)
            ]
    live = [i for i in items if not i.retracted]
    corrected = [f for _, f in facts if f.retracted]
    honoured = sum(not any(_claims(i, r) for r in f.retracted for i in live) for f in corrected)
    unsorted = profile.unsorted
    everything = " ".join(i.text for i in [*items, *unsorted])
    lost = sum(not _matches(f.keys, everything) for _, f in facts)
    given = {k for k, f in facts}
    declined = sum(profile.sections[k].status == "declined" for k in given)
    loops = 0
    for key, at in respondent.done_at.items():
        loops += sum(1 for i, q in enumerate(questions, 1) if i > at and q.get("topic") == key)
    ignored = 0
    for key, at in respondent.countered.items():
        after = questions[at] if at < len(questions) else None  # the question after the counter
        ignored += after is None or after.get("topic") != key
    return {
        "non_answers_filed": filed,
        "non_answers_in_summary": in_summary,
        "polarity_errors": errors,
        "corrections_said": len(corrected),
        "corrections_honoured": honoured,
        "content_lost": lost,
        "declined_with_content": declined,
        "loops_after_done": loops,
        "counters_ignored": ignored,
        "non_answer_items": made_of,
    }


def _claims(item, term: str) -> bool:
    """True when an item still claims a term: in its text, and not in what it denies."""
    said = _comparable(item.text)
    if _comparable(term) not in said:
        return False
    return not any(_comparable(term) in _comparable(n) for n in item.negations)


def _rewards(rule, rule_term: str, term: str, said: str) -> bool:
    """True when a positive rule's term rewards a term a fact excludes, denies or retracts: it
    names the term, or a part of it ("trucking" of "trucking podcast") taken from that fact's
    own words (a part said elsewhere, "trucking schools", is another thing)."""
    a, b = _comparable(rule_term), _comparable(term)
    if b in a:
        return True
    return a in b and any(ev.quote in said or said in ev.quote for ev in rule.evidence)


def _same_term(rule_term: str, term: str) -> bool:
    a, b = _comparable(rule_term), _comparable(term)
    return a in b or b in a


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
        non_answers_filed=mean(r.non_answers_filed for r in runs),
        non_answers_in_summary=max(r.non_answers_in_summary for r in runs),
        polarity_errors=sorted({e for r in runs for e in r.polarity_errors}),
        corrections_said=sum(r.corrections_said for r in runs),
        corrections_honoured=sum(r.corrections_honoured for r in runs),
        content_lost=max(r.content_lost for r in runs),
        declined_with_content=max(r.declined_with_content for r in runs),
        loops_after_done=sum(r.loops_after_done for r in runs),
        counters_ignored=sum(r.counters_ignored for r in runs),
        non_answer_items=sorted({t for r in runs for t in r.non_answer_items}),
    )


def run_persona(
    path: Path,
    minutes: float = 30,
    seed: int = 0,
    home: Path | None = None,
    extra: tuple[str, ...] = (),
    engine_root: Path | None = None,
) -> Score:
    """Interview a simulated persona through `icp interview --jsonl` and score the result.

    `engine_root` runs the interview from another checkout (an earlier release, for a before and
    after), while this one scores it."""
    persona = load_persona(path)
    respondent = SimulatedRespondent(persona, seed=seed)
    env = {**os.environ, **({"ICP_HOME": str(home)} if home else {})}
    root = engine_root or Path(__file__).resolve().parent.parent
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
    transcript = "\n".join(answers.values())
    for name, value in precision(persona, respondent, profile, questions, transcript).items():
        setattr(result, name, value)
    return result
