"""The headless `--jsonl` protocol: questions out as JSON lines, answers in as JSON lines."""

from __future__ import annotations

import json
import sys
from typing import BinaryIO, TextIO

from agent.errors import ICPError, InputError
from agent.interview.loop import EmptyAnswer, Interview
from agent.safety import Hostile, load_json


def _emit(out: TextIO, obj: dict) -> None:
    out.write(json.dumps(obj, ensure_ascii=False) + "\n")
    out.flush()


def parse_line(raw: bytes, number: int) -> dict:
    """Decode one input line into an object, or raise InputError naming the line."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"input line {number} is not valid UTF-8 (byte {exc.start})") from None
    try:
        obj = load_json(text)
    except json.JSONDecodeError as exc:
        why = f"{exc.msg.removesuffix(' at')}, column {exc.colno}"
        raise InputError(f"input line {number} is not valid JSON ({why})") from None
    except Hostile as exc:
        raise InputError(f"input line {number} is refused: {exc}") from None
    if not isinstance(obj, dict):
        raise InputError(f'input line {number} must be a JSON object like {{"answer": "..."}}')
    return obj


def run_jsonl(interview: Interview, inp: BinaryIO | None = None, out: TextIO = sys.stdout) -> bool:
    """Drive an interview over JSON lines; True when it completed, False at end of input."""
    inp = inp or sys.stdin.buffer
    _emit(out, {"type": "started", "session": interview.session.id})
    number = 0
    while interview.question is not None:
        _emit(out, interview.question.as_json())
        while True:
            raw = inp.readline()
            number += 1
            if not raw:
                interview.interrupt()
                _emit(out, {"type": "done", "session": interview.session.id, "complete": False})
                return False
            if raw.strip():
                break
        try:
            obj = parse_line(raw, number)
        except InputError as exc:
            interview.interrupt()
            _emit(out, {"type": "error", "message": str(exc)})
            raise
        command = obj.get("command")
        try:
            if command == "status":
                _emit(out, {"type": "status", **interview.status()})
            elif command == "skip":
                interview.skip()
            elif command == "done":
                interview.wrap_up()
            elif command is not None:
                _emit(out, {"type": "error", "message": f"unknown command {command!r}"})
            elif "answer" in obj:
                interview.answer(obj["answer"])
            else:
                _emit(
                    out,
                    {"type": "error", "message": 'expected {"answer": ...} or {"command": ...}'},
                )
        except EmptyAnswer as exc:
            _emit(out, {"type": "error", "message": str(exc)})
        except InputError as exc:
            _emit(out, {"type": "error", "message": str(exc)})
        except ICPError as exc:  # a full disk, another writer: the run ends, and says why
            _emit(out, {"type": "error", "message": str(exc)})
            raise
    _emit(out, {"type": "done", "session": interview.session.id, "complete": True})
    return True
