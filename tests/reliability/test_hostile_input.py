"""Hostile answers through the interview (--jsonl and the terminal chat), the export and every
report format: no traceback, the text kept and escaped, nothing evaluated, nothing fetched."""

from __future__ import annotations

import json
import re
import socket
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

import agent.report.render as report
from agent.profile.models import verify_evidence
from agent.reading.statements import clean_answer
from agent.report.bundle import load_bundle
from agent.store.db import Store
from tests.conftest import icp, pdf_text
from tests.reliability.corpus import ANSWERS, ATTACKER, INVALID_UTF8, REFUSED, accepted

CLOSE = [{"command": "done"}, {"answer": "Nothing missing."}]


@pytest.fixture(scope="module")
def corpus_session(tmp_path_factory) -> tuple[Path, str, list[dict]]:
    """One --jsonl interview answered with the whole corpus, then closed: (home, id, lines)."""
    home = tmp_path_factory.mktemp("corpus-home")
    lines = [{"answer": text} for text in ANSWERS.values()] + CLOSE
    stdin = "".join(json.dumps(line) + "\n" for line in lines)
    result = icp("interview", "--jsonl", "--minutes", "120", input=stdin, env=_home(home))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert out[-1] == {"type": "done", "session": out[0]["session"], "complete": True}
    return home, out[0]["session"], out


def _home(home: Path) -> dict:
    return {"ICP_HOME": str(home)}


def test_jsonl_refuses_only_what_it_must_and_stores_the_rest_exactly(corpus_session, figures):
    home, sid, out = corpus_session
    errors = [m["message"] for m in out if m["type"] == "error"]
    assert len(errors) == len(REFUSED)
    assert sum("empty answer" in e for e in errors) == 2
    assert sum("characters; please shorten it" in e for e in errors) == 1
    store = Store(home / "icp.db")
    stored = [t.text for t in store.turns(sid) if t.kind == "answer"]
    store.close()
    assert stored == [*accepted().values(), "Nothing missing."]  # kept, in order
    assert "\ufffd" in stored[list(accepted()).index("lone surrogate")]
    figures["hostile inputs tried (interview, export, HTML, Markdown, PDF)"] += len(ANSWERS)


def test_export_is_valid_json_with_grounded_evidence(corpus_session):
    home, sid, _ = corpus_session
    result = icp("export", sid, env=_home(home))
    assert result.returncode == 0 and result.stderr == ""
    profile = json.loads(result.stdout)
    store = Store(home / "icp.db")
    bundle = load_bundle(store, sid)
    store.close()
    answers = {t.seq: t.text for t in bundle.turns if t.speaker == "respondent"}
    assert not verify_evidence(bundle.profile, answers)
    quotes = [
        ev["quote"]
        for s in profile["sections"].values()
        for i in s["items"]
        for ev in i["evidence"]
    ]
    assert quotes and all(any(q in a for a in answers.values()) for q in quotes)
    language = [i["text"] for i in profile["sections"]["customer_language"]["items"]]
    assert "{{ 7*7 }} is our {% raw %} problem" in language  # kept verbatim, not rendered


class _Page(HTMLParser):
    """Tags, attributes and text of an HTML page as a browser would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.glue = False  # after <wbr>: a break opportunity, not a space

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self.glue = tag == "wbr" and bool(self.text)

    def handle_data(self, data):
        if self.glue:
            self.text[-1] += data
        else:
            self.text.append(data)
        self.glue = False


def _squash(text: str) -> str:
    return " ".join(text.split())


def test_html_report_shows_every_answer_as_text(corpus_session, tmp_path):
    home, sid, _ = corpus_session
    out = tmp_path / "r.html"
    result = icp("report", sid, "--out", str(out), env=_home(home))
    assert result.returncode == 0 and result.stderr == "", result.stderr
    page = _Page()
    page.feed(out.read_text("utf-8"))
    tags = {tag for tag, _ in page.tags}
    assert not tags & {"script", "img", "iframe", "object", "svg", "image", "link", "base"}
    assert [tag for tag, _ in page.tags].count("style") <= 1  # the bundled stylesheet only
    for tag, attrs in page.tags:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            assert ATTACKER not in (value or "") and "file:" not in (value or ""), (tag, value)
            assert "javascript:" not in (value or ""), (tag, value)
    text = _squash(" ".join(page.text))
    for name, answer in accepted().items():
        assert _squash(answer) in text, f"{name} is not shown as written"
    assert "{{ 7*7 }}" in text and "looplooploop" not in text and "${7*7}" in text


def _md_plain(markdown: str) -> str:
    """The text a Markdown reader shows: backslash escapes and blockquote marks removed."""
    lines = [re.sub(r"^>\s?", "", line) for line in markdown.splitlines()]
    return _squash(re.sub(r"\\(.)", r"\1", "\n".join(lines)))


def test_markdown_report_escapes_markup(corpus_session, tmp_path):
    home, sid, _ = corpus_session
    out = tmp_path / "r.md"
    result = icp("report", sid, "--out", str(out), env=_home(home))
    assert result.returncode == 0 and result.stderr == ""
    md = out.read_text("utf-8")
    unescaped = re.compile(r"(?<!\\)")
    for pattern in (r"<(script|img|iframe|link|style|object|svg|div|h1|a)\b", r"\]\(", r"<http"):
        assert not re.search(unescaped.pattern + pattern, md), pattern
    assert not re.search(r"^\s*\[ref\]:", md, re.M)  # no live reference link
    plain = _md_plain(md)
    for name, answer in accepted().items():
        for line in answer.splitlines():
            assert _squash(line) in plain, f"{name}: {line[:60]!r} is not shown as written"


class _Spy:
    """Every URL the PDF renderer asks for, every socket it opens, and any Python-level open of
    a file the corpus names: the renderer must fetch nothing but bundled assets."""

    def __init__(self, monkeypatch, root: Path):
        self.root, self.urls, self.sockets, self.files = root, [], [], []
        make = report.bundled_fetcher

        def spying(root):
            fetcher = make(root)
            fetch = fetcher.fetch

            def recorded(url, *args, **kwargs):
                self.urls.append(url)
                return fetch(url, *args, **kwargs)

            fetcher.fetch = recorded
            return fetcher

        monkeypatch.setattr(report, "bundled_fetcher", spying)
        for name in ("connect", "connect_ex"):
            monkeypatch.setattr(socket.socket, name, self._socket)
        monkeypatch.setattr(socket, "getaddrinfo", self._socket)
        self.listening = True
        sys.addaudithook(self._audit)

    def _socket(self, *args, **kwargs):
        self.sockets.append(args[1:] or args)
        raise OSError("network access during a report render")

    def _audit(self, event: str, args: tuple) -> None:
        if self.listening and event == "open" and isinstance(args[0], str | bytes):
            path = str(args[0], "utf-8", "replace") if isinstance(args[0], bytes) else args[0]
            if path.startswith(("/etc/passwd", "/etc/shadow")) or ATTACKER in path:
                self.files.append(path)

    def external(self) -> list[str]:
        outside = [u for u in self.urls if report.bundled_path(self.root, u) is None]
        return outside + [str(s) for s in self.sockets] + self.files


def test_pdf_fetches_nothing_outside_the_bundle(corpus_session, tmp_path, monkeypatch, figures):
    home, sid, _ = corpus_session
    store = Store(home / "icp.db")
    bundle = load_bundle(store, sid)
    store.close()
    spy = _Spy(monkeypatch, report.templates_dir())
    try:
        out = report.write_report(bundle.profile, bundle.session, bundle.turns, tmp_path / "r.pdf")
    finally:
        spy.listening = False
    assert spy.urls, "the spy saw no fetch at all: it is not in the renderer's path"
    assert spy.external() == []
    figures["external fetches while rendering the corpus as PDF"] += len(spy.external())
    text = pdf_text(out)
    # Shown literally (pypdf reads the "fi" ligature oddly, so no marker contains "fi").
    for marker in ("{{ 7*7 }}", "<script>alert", "<img src=", "/etc/passwd", "${7*7}"):
        assert marker in text


def test_the_fetcher_refuses_hostile_html_given_to_it_directly(tmp_path, monkeypatch):
    """Even unescaped, the URLs in the corpus are refused and the PDF still comes out."""
    root = report.templates_dir()
    spy = _Spy(monkeypatch, root)
    hostile = ANSWERS["img file URL"] + ANSWERS["CSS url()"] + ANSWERS["link, iframe, object, svg"]
    try:
        pdf = report.html_to_pdf(f"<html><body><p>{hostile}</p></body></html>")
    finally:
        spy.listening = False
    assert pdf.startswith(b"%PDF")
    refused = [u for u in spy.urls if report.bundled_path(root, u) is None]
    assert any("/etc/passwd" in u for u in refused) and any(ATTACKER in u for u in refused)
    assert spy.sockets == [] and spy.files == []


def test_terminal_chat_takes_the_corpus_and_invalid_utf8(tmp_path, figures):
    lines = [text.replace("\r", " ").replace("\n", " ") for text in ANSWERS.values()]
    stdin = "\n".join(lines).encode("utf-8", "surrogatepass") + b"\n" + INVALID_UTF8 + b"\n"
    stdin += b"/done\nNothing missing.\n"
    result = icp("interview", "--minutes", "120", input=stdin, env=_home(tmp_path))
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 0, err
    assert "Traceback" not in err and "characters; please shorten it" in err
    store = Store(tmp_path / "icp.db")
    session = store.sessions()[0]
    stored = [t.text for t in store.turns(session.id) if t.kind == "answer"]
    store.close()
    assert session.status == "complete"
    assert clean_answer(INVALID_UTF8.decode("utf-8", "replace")) in stored  # U+FFFD for bad bytes
    assert "Dental clinics \ufffd\ufffd\ufffd with 200 employees in Germany." in stored
    assert any("<script>alert('x')</script>" in s for s in stored)
    figures["hostile inputs tried (terminal chat)"] += len(ANSWERS) + 1


def test_jsonl_invalid_utf8_and_a_line_cut_in_half_are_one_line_errors(tmp_path):
    for bad, why in (
        (b'{"answer": "' + INVALID_UTF8 + b'"}\n', "input line 1 is not valid UTF-8"),
        (b'{"answer": "We sell payroll softw', "input line 1 is not valid JSON"),
    ):
        result = icp("interview", "--jsonl", input=bad, env=_home(tmp_path))
        err = result.stderr.decode()
        assert result.returncode == 1 and err.count("\n") == 1 and why in err, err
        assert err.startswith("icp: error: ")


def test_jsonl_non_text_answers_are_refused_not_stored(tmp_path):
    odd = [{"answer": 42}, {"answer": None}, {"answer": ["a"]}, {"answer": {"x": 1}}, [1], "x"]
    stdin = "".join(json.dumps(x) + "\n" for x in odd[:4])
    result = icp("interview", "--jsonl", input=stdin, env=_home(tmp_path))
    assert result.returncode == 0, result.stderr
    messages = [json.loads(x).get("message") for x in result.stdout.splitlines()]
    assert messages.count("an answer must be text") == 4
    for line in odd[4:]:  # valid JSON, but not an object
        result = icp("interview", "--jsonl", input=json.dumps(line) + "\n", env=_home(tmp_path))
        assert result.returncode == 1 and "must be a JSON object" in result.stderr
    store = Store(tmp_path / "icp.db")
    assert all(t.kind != "answer" for s in store.sessions() for t in store.turns(s.id))
    store.close()


def test_lone_surrogates_from_an_import_or_an_argument(tmp_path):
    """ "\\ud800" in a JSON transcript, or a byte that is not UTF-8 in --company or a file name:
    stored as U+FFFD, never a UnicodeEncodeError."""
    env = _home(tmp_path / "home")
    transcript = tmp_path / "call\udcff.jsonl"  # the file name holds the byte 0xff
    transcript.write_text(
        '{"speaker": "Ann", "text": "What kind of companies are your best customers?"}\n'
        '{"speaker": "Dana", "text": "Dental clinics with 200 employees \\ud800 in Germany."}\n',
        encoding="utf-8",
    )
    result = icp("import", str(transcript), "--respondent", "Dana", "--json", input=b"", env=env)
    assert result.returncode == 0, result.stderr
    sid = json.loads(result.stdout.decode("utf-8", "surrogateescape"))[0]["session"]
    profile = json.loads(icp("export", sid, env=env).stdout)
    quotes = [
        e["quote"] for s in profile["sections"].values() for i in s["items"] for e in i["evidence"]
    ]
    assert "Dental clinics with 200 employees \ufffd in Germany." in quotes
    result = icp("interview", "--jsonl", "--company", "Acme\udcff", input="", env=env)
    assert result.returncode == 0, result.stderr
    sessions = json.loads(icp("sessions", "--json", env=env).stdout)
    assert {s["company"] for s in sessions} >= {"Acme\ufffd"}


def test_weasyprint_is_pinned_to_a_release_with_the_url_fetcher_fixes():
    """70.0 reworked URL fetching (URLFetcher, allowed protocols, no redirects by default)."""
    import tomllib
    from importlib.metadata import version

    from packaging.requirements import Requirement
    from packaging.version import Version

    from tests.conftest import ROOT

    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    pins = [Requirement(d) for d in project["dependencies"] if d.lower().startswith("weasyprint")]
    assert len(pins) == 1
    assert not pins[0].specifier.contains(Version("69.9")) and pins[0].specifier.contains("70.0")
    assert Version(version("weasyprint")) >= Version("70.0")
