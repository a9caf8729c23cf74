"""Child processes for the reliability tests: `icp` as a user runs it, or under the kill harness."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from agent.sim.respondent import SimulatedRespondent, load_persona
from tests.conftest import ROOT

HARNESS = Path(__file__).resolve().parent / "killpoint.py"


def spawn(
    args: list[str],
    env: dict | None = None,
    kill_at: str | None = None,
    stdin: int | None = subprocess.PIPE,
) -> subprocess.Popen:
    """Start `icp ARGS` (text mode); with `kill_at` it SIGKILLs itself there (killpoint.py)."""
    full_env = {**os.environ, **(env or {})}
    command = [sys.executable, "-m", "cli", *args]
    if kill_at:
        full_env["ICP_KILL_AT"] = kill_at
        command = [sys.executable, str(HARNESS), *args]
    return subprocess.Popen(
        command,
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=full_env,
        text=True,
        encoding="utf-8",
    )


class JsonlChild:
    """A whole `icp interview --jsonl` answered by a persona, in a background thread."""

    def __init__(self, persona: Path, pause: float = 0.0, *extra: str):
        self.respondent = SimulatedRespondent(load_persona(persona))
        self.pause = pause
        self.proc = spawn(["interview", "--jsonl", "--company", persona.stem, *extra])
        self.sid = ""
        self.sent: list[str] = []
        self.lines: list[dict] = []
        self.thread = threading.Thread(target=self._converse, daemon=True)
        self.thread.start()

    def _converse(self) -> None:
        proc = self.proc
        assert proc.stdin and proc.stdout
        for raw in proc.stdout:
            msg = json.loads(raw)
            self.lines.append(msg)
            if msg["type"] == "started":
                self.sid = msg["session"]
            elif msg["type"] == "question":
                time.sleep(self.pause)
                answer = self.respondent.answer(msg["text"], msg["topic"])
                self.sent.append(answer)
                proc.stdin.write(json.dumps({"answer": answer}) + "\n")
                proc.stdin.flush()
            elif msg["type"] == "done":
                break
        proc.stdin.close()

    def finish(self, timeout: float = 300) -> tuple[int, str]:
        """Wait for the interview to end: (exit code, stderr)."""
        self.thread.join(timeout)
        code = self.proc.wait(timeout)
        assert self.proc.stderr
        return code, self.proc.stderr.read()
