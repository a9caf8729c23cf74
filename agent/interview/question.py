"""The question waiting for an answer: its protocol line, finding it again, timing its answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from agent.store.db import Turn

IDLE_CAP_SECONDS = 300  # a coffee break does not eat the interview's budget


@dataclass(frozen=True)
class Question:
    """The question waiting for an answer."""

    seq: int
    text: str
    topic: str | None
    preface: str = ""
    asked_at: str = ""

    def as_json(self) -> dict:
        """The `--jsonl` protocol line for this question."""
        line = {"type": "question", "text": self.text, "topic": self.topic, "seq": self.seq}
        if self.preface:
            line["preface"] = self.preface
        return line


def pending_question(turns: list[Turn]) -> Question | None:
    """The last question in the turns, with the note just before it."""
    for i in range(len(turns) - 1, -1, -1):
        turn = turns[i]
        if turn.speaker == "agent" and turn.kind == "question":
            note = turns[i - 1] if i and turns[i - 1].kind == "note" else None
            return Question(
                turn.seq, turn.text, turn.topic, note.text if note else "", turn.created
            )
    return None


def answer_seconds(question: Question | None, answer: Turn) -> float:
    """Seconds the respondent spent on this answer, capped so idle time does not count."""
    if question is None or not question.asked_at or not answer.created:
        return 0.0
    delta = datetime.fromisoformat(answer.created) - datetime.fromisoformat(question.asked_at)
    return min(max(delta.total_seconds(), 0.0), IDLE_CAP_SECONDS)
