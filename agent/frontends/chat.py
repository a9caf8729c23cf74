"""Terminal chat: one question at a time, slash commands; Ctrl-C saves and says how to resume."""

from __future__ import annotations

import os
import select
import sys
from collections.abc import Callable
from typing import TextIO

from agent.errors import InputError
from agent.interview.loop import EmptyAnswer, Interview, Question
from agent.profile.models import SECTION_KEYS, SECTION_TITLES

_MARKS = {"covered": "✓", "vague": "~", "declined": "–", "pending": " "}  # identifiers: statuses


def status_lines(interview: Interview) -> list[str]:
    """The /status view: every section with its mark and items, then the minutes left."""
    status = interview.status()
    lines = []
    for key in SECTION_KEYS:
        section = status["sections"][key]
        here = "  <- now" if key == status["current"] else ""
        lines.append(
            f"  [{_MARKS[section['status']]}] {SECTION_TITLES[key]:<20} {section['status']:<9}"
            f" {section['items']} item(s){here}"
        )
    lines.append(
        f"  {status['minutes_left']:.0f} minutes left · {status['questions']} questions asked"
    )
    return lines


def read_answer(stream: TextIO = sys.stdin) -> str | None:
    """Read one answer; a multi-line paste arrives as one answer. None at end of input."""
    if not stream.isatty():
        line = stream.buffer.readline() if hasattr(stream, "buffer") else stream.readline()
        if not line:
            return None
        return line.decode("utf-8", "replace") if isinstance(line, bytes) else line
    fd = stream.fileno()
    chunks = [os.read(fd, 1 << 16)]
    if not chunks[0]:
        return None
    while select.select([fd], [], [], 0.05)[0]:  # the rest of a paste is already waiting
        more = os.read(fd, 1 << 16)
        if not more:
            break
        chunks.append(more)
    return b"".join(chunks).decode("utf-8", "replace")


def run_chat(
    interview: Interview,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    read: Callable[[], str | None] = read_answer,
) -> bool:
    """Run the chat until the interview ends (True) or the user leaves (False)."""
    sid = interview.session.id
    say = lambda text="": print(text, file=out, flush=True)  # noqa: E731
    note = lambda text: print(text, file=err, flush=True)  # noqa: E731
    budget = interview.session.minutes
    note(f"Interview {sid} · {budget:.0f}-minute budget · /help for commands")
    streamed: list[str] = []

    def show_piece(piece: str) -> None:
        if not streamed:
            out.write("\n")
        streamed.append(piece)
        out.write(piece)
        out.flush()

    interview.on_token = show_piece  # a model's wording appears as it is produced
    question: Question | None = interview.question
    try:
        while question is not None:
            topic = SECTION_TITLES.get(question.topic or "", (question.topic or "").title())
            header = f"[{topic} · {interview.minutes_left():.0f} min left]"
            shown = "".join(streamed).strip()
            if streamed and shown == f"{question.preface}\n\n{question.text}".strip():
                say()  # the lead-in and the question are on screen; the header goes below
                say(header)
            elif streamed and shown == question.text.strip():
                say()  # the question is already on screen; its header goes below it
                if question.preface:
                    say(question.preface)
                say(header)
            else:
                if streamed:
                    say()
                say()
                if question.preface:
                    say(question.preface)
                say(header)
                say(question.text)
            streamed.clear()
            raw = read()
            if raw is None:
                raise EOFError
            answer = raw.strip()
            command = answer.lower()
            if command in ("/help", "/?"):
                say(interview.guide.commands_help.rstrip())
                continue
            if command == "/status":
                for line in status_lines(interview):
                    say(line)
                continue
            try:
                if command == "/skip":
                    question = interview.skip()
                elif command == "/done":
                    question = interview.wrap_up()
                elif command.startswith("/") and " " not in command:
                    note(f"Unknown command {answer}; /help lists them.")
                    continue
                else:
                    question = interview.answer(raw)
            except EmptyAnswer:
                note("(Nothing typed; take your time, or /skip to move on.)")
            except InputError as exc:  # e.g. a paste over the size limit: say so, ask again
                note(f"({exc})")
    except (KeyboardInterrupt, EOFError):
        interview.interrupt()
        note(f"\nSaved. Every answer so far is stored. Resume with:\n  icp resume {sid}")
        return False
    note(f"\nDone. Write the report with:\n  icp report {sid} --out icp-report-{sid}.pdf")
    return True
