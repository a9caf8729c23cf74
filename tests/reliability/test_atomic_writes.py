"""Atomic writes: a report or settings file is the old one or the new one, never half, and a
failed or killed write leaves no temporary files behind."""

from __future__ import annotations

import errno
import os
import signal
import stat

import pytest

import agent.files as files
from agent.config import config_path, set_value
from agent.errors import ICPError, RenderError
from agent.report.bundle import load_bundle
from agent.report.render import write_report
from tests.conftest import persona_paths, run_persona
from tests.reliability.children import spawn

OLD = b"the previous report, which must survive\n"


@pytest.fixture
def bundle(store, engine):
    session = run_persona(store, engine, persona_paths()[0], minutes=5).session
    return load_bundle(store, session.id)


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


class _HalfThenInterrupt:
    """A file object that writes half of what it is given, then Ctrl-C arrives."""

    def __init__(self, fh):
        self.fh = fh

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self.fh.__exit__(*exc)

    def write(self, data: bytes) -> int:
        self.fh.write(data[: len(data) // 2])
        self.fh.flush()
        raise KeyboardInterrupt

    def __getattr__(self, name):
        return getattr(self.fh, name)


CRASHES = {
    "disk full at fsync": ("fsync", _disk_full, RenderError),
    "Ctrl-C halfway through the bytes": ("fdopen", None, KeyboardInterrupt),
    "rename refused": ("replace", _disk_full, RenderError),
}


# Every crash for the text formats; the write path does not depend on the format, so the
# slower PDF gets one.
CASES = [(suffix, crash) for suffix in (".md", ".html") for crash in CRASHES]
CASES.append((".pdf", "disk full at fsync"))


@pytest.mark.parametrize(("suffix", "crash"), CASES)
def test_a_failed_write_keeps_the_previous_report(bundle, tmp_path, monkeypatch, suffix, crash):
    out = tmp_path / "reports" / f"icp{suffix}"
    out.parent.mkdir()
    out.write_bytes(OLD)
    name, replacement, expected = CRASHES[crash]
    if name == "fdopen":
        fdopen = os.fdopen
        replacement = lambda fd, *a, **k: _HalfThenInterrupt(fdopen(fd, *a, **k))  # noqa: E731
    with monkeypatch.context() as patched, pytest.raises(expected) as caught:
        patched.setattr(files.os, name, replacement)
        write_report(bundle.profile, bundle.session, bundle.turns, out)
    assert out.read_bytes() == OLD
    assert os.listdir(out.parent) == [out.name]  # no temporary file left behind
    if expected is RenderError:
        message = str(caught.value)
        assert "\n" not in message and str(out) in message and "No space left" in message


def test_a_new_report_replaces_the_old_one_whole(bundle, tmp_path):
    tmp_path = tmp_path / "reports"
    tmp_path.mkdir()
    out = tmp_path / "icp.md"
    out.write_bytes(OLD)
    os.chmod(out, 0o640)
    write_report(bundle.profile, bundle.session, bundle.turns, out)
    assert out.read_bytes() != OLD and out.read_text("utf-8").startswith("# ")
    assert stat.S_IMODE(out.stat().st_mode) == 0o640  # the old file's permissions are kept
    assert os.listdir(tmp_path) == [out.name]


@pytest.mark.slow
@pytest.mark.parametrize("point", ["write", "replace"])
@pytest.mark.parametrize("suffix", [".html", ".pdf"])
def test_a_killed_report_write_keeps_the_previous_file(bundle, tmp_path, point, suffix):
    """`icp report` SIGKILLed halfway through the bytes, or before the rename."""
    tmp_path = tmp_path / "reports"
    tmp_path.mkdir()
    out = tmp_path / f"icp{suffix}"
    out.write_bytes(OLD)
    proc = spawn(["report", bundle.session.id, "--out", str(out)], kill_at=f"{point}:1")
    proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    assert out.read_bytes() == OLD
    debris = [name for name in os.listdir(tmp_path) if name != out.name]
    assert len(debris) == 1 and debris[0].startswith(f".{out.name}.")  # the dead process's
    proc = spawn(["report", bundle.session.id, "--out", str(out)])
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert out.read_bytes().startswith(b"%PDF" if suffix == ".pdf" else b"<!")
    assert os.listdir(tmp_path) == [out.name]  # the next write cleared the debris


def test_another_writers_temporary_file_is_left_alone(bundle, tmp_path):
    """Only files of processes that no longer run are swept; a live writer keeps its own."""
    tmp_path = tmp_path / "reports"
    tmp_path.mkdir()
    out = tmp_path / "icp.md"
    live = tmp_path / f".icp.md.{os.getppid()}.abc123.tmp"  # pytest's parent runs
    live.write_bytes(b"in progress")
    write_report(bundle.profile, bundle.session, bundle.turns, out)
    assert sorted(os.listdir(tmp_path)) == sorted([out.name, live.name])


def test_settings_are_written_whole_and_owner_only(icp_home, monkeypatch):
    set_value("model", "openai:gpt-4o-mini")
    path = config_path()
    assert path.parent == icp_home
    os.chmod(path, 0o644)  # an older file with wider permissions
    before = path.read_bytes()
    with monkeypatch.context() as patched, pytest.raises(ICPError):
        patched.setattr(files.os, "fsync", _disk_full)
        set_value("api_key", "sk-test-not-a-real-key-0000")
    assert path.read_bytes() == before
    assert not [n for n in os.listdir(path.parent) if n.endswith(".tmp")]
    set_value("api_key", "sk-test-not-a-real-key-0000")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b"gpt-4o-mini" in path.read_bytes()
    assert not [n for n in os.listdir(path.parent) if n.endswith(".tmp")]
