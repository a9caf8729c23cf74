"""Reports under hostile conditions: a long unbroken word lays out in linear time (break
opportunities; whole in the transcript appendix, cut short with "…" in items) and a runaway
layout is stopped with a clear error;
report files follow the user's umask; a read-only --out is refused unless --force. (How long
the PDF of a 20,000-character word takes is measured by bench/bench_report.py.)"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import threading
import time
from html.parser import HTMLParser

import pytest

import agent.report.render as render_module
from agent.errors import RenderError
from agent.interview.loop import Interview
from agent.report.bundle import load_bundle
from agent.report.render import html_to_pdf, render, write_report
from tests.conftest import icp, pdf_text
from tests.reliability.corpus import ANSWERS

WORD = ANSWERS["a 20,000-character word"]


@pytest.fixture
def long_word(store, engine):
    """A session whose answer (and so the item quoting it) is one 20,000-character word."""
    interview = Interview.start(store, engine, company="Acme", minutes=5)
    interview.answer("Payroll software for dental clinics.")
    interview.answer(f"Clinics like {WORD} and more.")
    return load_bundle(store, interview.session.id)


class _Runs(HTMLParser):
    """The text between tags, with where each <wbr> falls."""

    def __init__(self) -> None:
        super().__init__()
        self.pieces: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "wbr":
            self.pieces.append("<wbr>")

    def handle_data(self, data):
        self.pieces.append(data)


def test_a_long_word_gets_break_opportunities_and_stays_whole(long_word):
    html = render(long_word.profile, long_word.session, long_word.turns, "html").decode()
    runs = _Runs()
    runs.feed(html)
    text = "".join(p for p in runs.pieces if p != "<wbr>")
    assert text.count(WORD) == 1  # whole in the transcript appendix...
    cut = "y" * render_module.CUT_RUN + "…"
    assert text.count(cut) >= 1 and cut + "y" not in text  # ...cut short in the item
    longest = max(len(run) for piece in runs.pieces for run in re.findall(r"\S+", piece))
    assert longest <= render_module.LONG_RUN  # no run the layout must break by itself
    assert (
        "<wbr>" not in render(long_word.profile, long_word.session, long_word.turns, "md").decode()
    )


@pytest.mark.slow
def test_the_pdf_of_a_long_word_keeps_every_character(long_word, tmp_path):
    out = write_report(long_word.profile, long_word.session, long_word.turns, tmp_path / "r.pdf")
    text = pdf_text(out)
    assert text.count("y") >= len(WORD)  # the transcript's copy, across its pages
    assert "\u200b" not in text  # the break opportunities are not part of the text


# The stop may land in a WeasyPrint destructor, where Python prints and ignores it; render sends
# it again until the layout ends (test_a_stop_swallowed_by_the_layout_is_sent_again).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_layout_past_its_time_limit_is_stopped_with_a_clear_error(long_word):
    html = render(long_word.profile, long_word.session, long_word.turns, "html").decode()
    started = time.perf_counter()
    with pytest.raises(RenderError) as caught:
        html_to_pdf(html, seconds=0.2)
    assert time.perf_counter() - started < 5
    assert "took longer than 0.2 s to lay out" in str(caught.value)
    assert "--out report.html" in str(caught.value)
    for _ in range(100):  # the layout thread is told to stop, not left running
        if not [t for t in threading.enumerate() if t.name == "icp-pdf"]:
            break
        time.sleep(0.1)
    assert not [t for t in threading.enumerate() if t.name == "icp-pdf"]


@pytest.fixture
def strict_umask():
    old = os.umask(0o077)
    yield
    os.umask(old)


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_a_new_report_follows_the_umask(long_word, tmp_path, strict_umask):
    for fmt in ("md", "html"):
        out = write_report(
            long_word.profile, long_word.session, long_word.turns, tmp_path / f"r.{fmt}"
        )
        assert stat.S_IMODE(out.stat().st_mode) == 0o600, fmt
    os.umask(0o002)  # a group-writable habit
    out = write_report(long_word.profile, long_word.session, long_word.turns, tmp_path / "g.md")
    assert stat.S_IMODE(out.stat().st_mode) == 0o664


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_a_read_only_out_is_refused_unless_forced(long_word, tmp_path):
    out = tmp_path / "signed-off.md"
    out.write_text("the version everyone signed\n")
    out.chmod(0o444)
    with pytest.raises(RenderError, match="is read-only") as caught:
        write_report(long_word.profile, long_word.session, long_word.turns, out)
    assert "--force" in str(caught.value)
    assert out.read_text() == "the version everyone signed\n"
    sid = long_word.session.id
    refused = icp("report", sid, "--out", str(out))
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    assert "is read-only" in refused.stderr and out.read_text().startswith("the version")
    forced = icp("report", sid, "--out", str(out), "--force")
    assert forced.returncode == 0, forced.stderr
    assert out.read_text().startswith("# ") and stat.S_IMODE(out.stat().st_mode) == 0o444


def test_a_stop_swallowed_by_the_layout_is_sent_again():
    """A stop that lands in a destructor is ignored by Python: the layout must be told again."""
    from agent.report import render as rendering

    swallowed = []

    def layout_that_ignores_two_stops():
        while len(swallowed) < 2:
            try:
                while True:
                    time.sleep(0.01)
            except rendering._LayoutStopped:
                swallowed.append(1)  # as a __del__ would: printed, then layout goes on
        while True:
            time.sleep(0.01)

    def run():
        with contextlib.suppress(rendering._LayoutStopped):
            layout_that_ignores_two_stops()

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    rendering._stop(worker, 5.0)
    assert not worker.is_alive() and len(swallowed) == 2
