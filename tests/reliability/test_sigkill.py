"""Durability: SIGKILL a real `icp interview --jsonl` at random points, many times; every
acknowledged answer stays, `icp resume` asks the right question, the profile stays grounded."""

from __future__ import annotations

import json
import random
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from agent.interview.loop import Interview
from agent.profile.models import verify_evidence
from agent.sim.respondent import SimulatedRespondent, load_persona
from agent.store.db import Store
from tests.conftest import persona_paths
from tests.reliability.children import spawn

MIN_KILLS = 20
# Where the child dies (killpoint.py), plus "timer": an outside SIGKILL a few ms after an answer.
POINTS = ("answer_committed", "extract", "save_step", "step_committed", "timer")


class Run:
    """One interview under fire: what was acknowledged, what the next process must ask."""

    def __init__(self, persona: Path, rng: random.Random):
        self.respondent = SimulatedRespondent(load_persona(persona))
        self.rng = rng
        self.sid: str | None = None
        self.acknowledged: list[str] = []  # answers the next question came back for
        self.expect: str | None = None  # the question a resumed process must ask first
        self.complete = False
        self.kills: Counter = Counter()

    def life(self, point: str) -> None:
        """One process: start or resume, answer until it dies (or the interview ends)."""
        nth = self.rng.choice((1, 1, 2))
        args = ["resume", self.sid, "--jsonl"] if self.sid else ["interview", "--jsonl"]
        proc = spawn(args, kill_at=None if point == "timer" else f"{point}:{nth}")
        budget = self.rng.randint(1, 3)  # answers before an outside kill ("timer")
        question, sent = None, None
        assert proc.stdin and proc.stdout
        for raw in proc.stdout:
            msg = json.loads(raw)
            if msg["type"] == "started":
                self.sid = msg["session"]
            elif msg["type"] == "done":
                self.complete = msg["complete"]
                break
            elif msg["type"] == "question":
                if sent is not None:
                    self.acknowledged.append(sent)
                elif self.expect is not None:
                    assert msg["text"] == self.expect, "icp resume asked another question"
                question = msg
                sent = self.respondent.answer(msg["text"], msg["topic"])
                proc.stdin.write(json.dumps({"answer": sent}) + "\n")
                proc.stdin.flush()
                if point == "timer":
                    budget -= 1
                    if budget == 0:
                        time.sleep(self.rng.choice([0, 0.001, 0.005, 0.02]))  # mid-processing
                        proc.send_signal(signal.SIGKILL)
                        break
        code = proc.wait(timeout=60)
        if code == -signal.SIGKILL:
            self.kills[point] += 1
        else:
            assert code == 0 and self.complete, proc.stderr.read() if proc.stderr else ""
            return
        self.check(question, sent)

    def check(self, question: dict | None, sent: str | None) -> None:
        """After a kill: the database holds what was acknowledged, and resumes correctly."""
        store = Store()
        try:
            assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            if self.sid is None:  # killed inside `icp interview` before the first question
                self.sid = store.sessions()[0].id
            turns = store.turns(self.sid)
            stored = [t.text for t in turns if t.kind == "answer"]
            ack = self.acknowledged
            assert stored[: len(ack)] == ack, "an acknowledged answer was lost"
            assert len(stored) - len(ack) in (0, 1)
            resumed = Interview.resume(store, get_engine(), self.sid)
            turns = store.turns(self.sid)
            answers = {t.seq: t.text for t in turns if t.speaker == "respondent"}
            assert not verify_evidence(resumed.profile, answers)
            assert_alternates(turns)
            if len(stored) > len(ack):
                ack.append(sent)  # committed before the kill: it counts as given
            elif question is not None and not resumed.done:
                assert resumed.question.text == question["text"]  # asked again, not skipped
                assert resumed.question.seq == question["seq"]  # and not stored twice
            if resumed.done:  # the kill landed after the closing answer was committed
                assert store.session(self.sid).status == "complete"
                self.complete = True
            self.expect = resumed.question.text if resumed.question else None
        finally:
            store.close()


def get_engine():
    from agent.engines import get_engine as make

    return make("offline")


def assert_alternates(turns) -> None:
    """Question, answer, question, answer...: no answer processed twice, none skipped."""
    kinds = [t.kind for t in turns if t.kind in ("question", "answer", "command")]
    for i, kind in enumerate(kinds):
        assert (kind == "question") == (i % 2 == 0), f"turn order broken at {i}: {kinds}"


@pytest.mark.slow
def test_survives_repeated_sigkill(icp_home, figures):
    rng = random.Random(7)
    runs: list[Run] = []
    for persona in persona_paths():
        run = Run(persona, rng)
        runs.append(run)
        while not run.complete:
            point = POINTS[sum(run.kills.values()) % len(POINTS)]
            run.life(point)
            assert sum(run.kills.values()) < 120, "the interview never finished"
        total = sum(sum(r.kills.values()) for r in runs)
        if total >= MIN_KILLS:
            break
    kills = sum((r.kills for r in runs), Counter())
    survived = sum(kills.values())
    assert survived >= MIN_KILLS, f"only {survived} kills happened"
    assert all(kills[p] >= 2 for p in POINTS), kills
    store = Store()
    for run in runs:  # the finished interviews hold every answer, once, in order
        stored = [t.text for t in store.turns(run.sid) if t.kind == "answer"]
        assert stored == run.acknowledged + stored[len(run.acknowledged) :]
        assert len(stored) - len(run.acknowledged) <= 1  # the closing answer of a last kill
    store.close()
    figures["SIGKILLs survived"] += survived
    answers = sum(len(r.acknowledged) for r in runs)
    print(f"\nsurvived {survived} SIGKILLs ({dict(kills)}); {answers} answers, none lost")
