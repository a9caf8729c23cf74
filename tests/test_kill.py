"""Durability: SIGKILL a real `icp` process at random points; nothing acknowledged is lost."""

import json
import os
import random
import signal
import subprocess
import sys
import time

from agent.interview import Interview
from agent.profile import verify_evidence
from agent.respondent import SimulatedRespondent, load_persona
from agent.store import Store
from tests.conftest import ROOT, persona_paths

KILLS = 12


def start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "cli", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
        env=os.environ.copy(),
        text=True,
        encoding="utf-8",
    )


def test_survives_repeated_sigkill(icp_home, engine):
    rng = random.Random(7)
    respondent = SimulatedRespondent(load_persona(persona_paths()[0]))
    acknowledged: list[str] = []  # answers for which the next question came back
    sid, survived, complete = None, 0, False
    while not complete and survived < 50:
        proc = start(["resume", sid, "--jsonl"] if sid else ["interview", "--jsonl"])
        question, sent = None, None
        budget = rng.randint(1, 4)  # answers this process gets before it is killed
        for raw in proc.stdout:
            msg = json.loads(raw)
            if msg["type"] == "started":
                sid = msg["session"]
            elif msg["type"] == "done":
                complete = msg["complete"]
                break
            elif msg["type"] == "question":
                if sent is not None:
                    acknowledged.append(sent)
                question = msg
                if budget == 0:
                    break
                budget -= 1
                sent = respondent.answer(question["text"], question["topic"])
                proc.stdin.write(json.dumps({"answer": sent}) + "\n")
                proc.stdin.flush()
                if budget == 0:
                    time.sleep(rng.choice([0, 0.001, 0.005, 0.02]))  # die mid-processing
                    break
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            survived += 1
        proc.wait(timeout=30)
        if complete:
            break
        store = Store()
        stored = [t.text for t in store.turns(sid) if t.kind == "answer"]
        assert stored[: len(acknowledged)] == acknowledged, "an acknowledged answer was lost"
        assert len(stored) - len(acknowledged) in (0, 1)
        resumed = Interview.resume(store, engine, sid)
        answers = {t.seq: t.text for t in store.turns(sid) if t.speaker == "respondent"}
        assert not verify_evidence(resumed.profile, answers)
        if resumed.done:  # the kill landed after the closing answer was committed
            assert store.session(sid).status == "complete"
            complete = True
            store.close()
            break
        assert resumed.question is not None
        if len(stored) > len(acknowledged):
            acknowledged.append(sent)  # committed before the kill: it counts as given
        elif question is not None:
            assert resumed.question.text == question["text"]  # asked again, not skipped
        store.close()
    assert survived >= KILLS, f"only {survived} kills happened"
    print(f"\nsurvived {survived} SIGKILLs; {len(acknowledged)} answers, none lost")
