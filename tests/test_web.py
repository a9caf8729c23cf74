"""`icp serve` over HTTP: the token, a whole interview, resume, downloads, bad and hostile input."""

from __future__ import annotations

import html
import json
import re
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest
from starlette.testclient import TestClient

from agent.engines.offline import OfflineEngine
from agent.frontends.web.app import MAX_ANSWER_CHARS, MAX_BODY_BYTES, create_app
from agent.frontends.web.auth import cookie_name
from agent.interview.contract import Engine
from agent.profile.models import Evidence, Item
from agent.report.bundle import load_bundle
from agent.sim.respondent import SimulatedRespondent, load_persona
from agent.store.db import Store
from tests.conftest import ROOT, icp, pdf_text, persona_paths, run_persona

TOKEN = "test-token-Zq9"
PERSONA = persona_paths()[0]


class StreamingEngine(Engine):
    """The offline engine, but each question arrives word by word through `on_token`."""

    name = "streaming-fake"

    def __init__(self, delay: float = 0.0, fail_after: int | None = None):
        self.inner, self.delay, self.fail_after, self.worded = OfflineEngine(), delay, fail_after, 0

    def word(self, action, profile, context):
        wording = self.inner.word(action, profile, context)
        self.worded += 1
        for piece in re.findall(r"\S+\s*", wording.text):
            if context.on_token:
                context.on_token(piece)
            time.sleep(self.delay)
            if self.fail_after is not None and self.worded > self.fail_after:
                raise RuntimeError("the model went away")
        return wording

    def extract(self, answer, turn, topic, context):
        return self.inner.extract(answer, turn, topic, context)


class BackgroundEngine(StreamingEngine):
    """Like the llm engine: an answer's items arrive in the background, merged at the next one."""

    name = "background-fake"

    def __init__(self):
        super().__init__()
        self.job: tuple[int, str] | None = None

    background = True

    @property
    def pending(self) -> int | None:
        return self.job[0] if self.job else None

    def extract(self, answer, turn, topic, context):
        self.job = (turn, answer)
        return []

    def settle(self, final=False, wait=None):
        job, self.job = self.job, None
        if job is None:
            return []
        turn, answer = job
        quote = answer.split(".")[0]
        item = Item(text=f"Found later: {quote}", evidence=[Evidence(turn=turn, quote=quote)])
        return [("company_profile", item)]


_open_clients: list[TestClient] = []


@pytest.fixture(autouse=True)
def _close_clients():
    """Each app's shutdown runs at the end of the test: its interview threads settle and stop."""
    yield
    while _open_clients:
        _open_clients.pop().__exit__(None, None, None)


def client(engine=None, token: str | None = TOKEN, **options) -> TestClient:
    """A client for a fresh app; with `token`, every request carries it as a header.

    `engine` is an engine, or an engine class to make a new one per interview.
    """
    if engine is not None:
        make = engine if isinstance(engine, type) else lambda: engine
        options["engine_factory"] = lambda _name: make()
    headers = {"x-icp-token": token} if token else {}
    c = TestClient(create_app(TOKEN, **options), headers=headers, follow_redirects=False)
    _open_clients.append(c.__enter__())
    return c


def close(c: TestClient) -> None:
    """Stop the app as `icp serve` does at Ctrl-C."""
    _open_clients.remove(c)
    c.__exit__(None, None, None)


def start(c: TestClient, company: str = "Ledgerline", role: str = "founder") -> str:
    r = c.post("/new", data={"company": company, "role": role, "minutes": "30"})
    assert r.status_code == 303, r.text
    return r.headers["location"].removeprefix("/s/")


def step(c: TestClient, sid: str, action: str, **body) -> tuple[int, list[dict]]:
    """POST an answer or command; the status and the NDJSON events (or the error object)."""
    with c.stream("POST", f"/api/s/{sid}/{action}", json=body) as r:
        if r.status_code != 200:
            r.read()
            return r.status_code, [r.json()]
        assert r.headers["content-type"].startswith("application/x-ndjson")
        return 200, [json.loads(line) for line in r.iter_lines() if line]


def pending(c: TestClient, sid: str) -> dict:
    return c.get(f"/api/s/{sid}").json()["question"]


def stored_answers(sid: str) -> list[str]:
    store = Store()
    try:
        return [t.text for t in store.turns(sid) if t.kind == "answer"]
    finally:
        store.close()


# the token
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/s/0123abcd"),
        ("GET", "/s/0123abcd/report.pdf"),
        ("GET", "/static/app.css"),
        ("GET", "/api/s/0123abcd"),
        ("POST", "/api/s/0123abcd/answer"),
        ("POST", "/new"),
        ("GET", "/no-such-page"),
    ],
)
def test_every_request_without_the_token_is_refused(method, path):
    anonymous = client(token=None)
    assert anonymous.request(method, path).status_code == 403
    wrong = client(token="not-" + TOKEN)
    assert wrong.request(method, path).status_code == 403
    stale = client(token=None)
    stale.cookies.set(cookie_name(TOKEN), "x")
    assert stale.request(method, path).status_code == 403
    assert anonymous.request(method, path + "?token=nope").status_code == 403


def test_the_token_in_the_link_becomes_a_strict_cookie_and_leaves_the_address():
    c = client(token=None)
    r = c.get(f"/s/0123abcd?token={TOKEN}&x=1")
    assert r.status_code == 303 and r.headers["location"] == "/s/0123abcd?x=1"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{cookie_name(TOKEN)}={TOKEN};")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    # The client kept the cookie: the next request needs nothing else.
    assert c.get("/").status_code == 200
    assert client(token=None).get("/", headers={"authorization": f"Bearer {TOKEN}"}).is_success


def test_forbidden_api_answers_json_and_pages_explain():
    anonymous = client(token=None)
    refused = anonymous.get("/api/s/0123abcd").json()
    assert refused["reason"] == "token"
    # An old tab after a restart is told what to do, not only what is wrong.
    assert "earlier run of icp serve" in refused["error"] and "?token=" in refused["error"]
    page = anonymous.get("/")
    assert "Access token needed" in page.text and "?token=" in page.text


# a whole interview
def test_full_interview_through_the_api_matches_the_in_process_loop(store, engine):
    c = client()
    persona = load_persona(PERSONA)
    sid = start(c, company=persona.company)
    respondent = SimulatedRespondent(persona)
    sent, asked = [], []
    question = pending(c, sid)
    while True:
        asked.append(question["text"])
        answer = respondent.answer(question["text"], question["topic"])
        sent.append(answer)
        code, events = step(c, sid, "answer", answer=answer, seq=question["seq"])
        assert code == 200 and [e["type"] for e in events[:-1]] in ([], ["topic"])
        if events[-1]["type"] == "done":
            break
        assert (
            events[0]["type"] == "topic" and events[0]["topic"] == events[-1]["question"]["topic"]
        )
        question, status = events[-1]["question"], events[-1]["status"]
        assert status["minutes_left"] <= 30 and set(status["sections"]) >= {"exclusions"}
    # Every answer was stored, in order; the same persona in-process hears the same questions.
    assert stored_answers(sid) == sent
    local = run_persona(store, engine, PERSONA)
    local_questions = [t.text for t in store.turns(local.session.id) if t.kind == "question"]
    assert asked == local_questions
    assert c.get(f"/api/s/{sid}").json() == {"type": "done", "session": sid}
    page = c.get(f"/s/{sid}").text
    assert "Interview complete" in page and "<textarea" not in page
    for fmt in ("pdf", "html", "md"):
        assert f'href="/s/{sid}/report.{fmt}"' in page
    summary_item = html.escape(local.profile.sections["company_profile"].items[0].text)
    assert summary_item in page
    assert step(c, sid, "answer", answer="one more")[0] == 409
    listing = c.get("/").text
    assert sid in listing and "Complete" in listing


def test_skip_and_wrap_up_buttons():
    c = client()
    sid = start(c)
    step(c, sid, "answer", answer="We sell AP automation.")
    first = pending(c, sid)
    code, events = step(c, sid, "skip", seq=first["seq"])
    assert code == 200 and events[-1]["question"]["topic"] != first["topic"]
    skipped = events[-1]["status"]["sections"][first["topic"]]
    assert skipped["status"] == "declined" and skipped["label"] == "Skipped"
    code, events = step(c, sid, "wrap-up", seq=events[-1]["question"]["seq"])
    assert code == 200 and events[-1]["question"]["topic"] == "close"
    assert "Skipped this topic" in c.get(f"/s/{sid}").text


def test_questions_stream_in_pieces_before_the_final_line():
    c = client(StreamingEngine())
    sid = start(c)
    code, events = step(c, sid, "answer", answer="We sell AP automation.", seq=1)
    assert code == 200
    tokens = [e["text"] for e in events if e["type"] == "token"]
    assert len(tokens) > 3 and events[-1]["type"] == "question"
    # First the topic (the label and panel update at once), then the words as they come.
    assert events[0]["type"] == "topic" and events[0]["topic_title"] == "Company profile"
    assert events[0]["status"]["sections"]["company_profile"]["label"] == "Asking now"
    assert [e["type"] for e in events[1 : len(tokens) + 1]] == ["token"] * len(tokens)
    assert "".join(tokens).endswith(events[-1]["question"]["text"])


def test_an_engine_failure_after_the_answer_keeps_it_and_reload_continues():
    broken = StreamingEngine(fail_after=1)  # the first question words; the next one fails
    c = client(broken)
    sid = start(c)
    code, events = step(c, sid, "answer", answer="We sell AP automation.", seq=1)
    assert code == 200 and events[-1]["type"] == "error"
    assert events[-1]["error"] == "internal error; reload the page"
    assert stored_answers(sid) == ["We sell AP automation."]
    # A reload resumes: the stored answer is processed once and the next question is asked.
    healthy = client(StreamingEngine())
    page = healthy.get(f"/s/{sid}").text
    assert "We sell AP automation." in page
    assert pending(healthy, sid)["topic"] == "company_profile"
    assert stored_answers(sid) == ["We sell AP automation."]


def found_later(sid: str) -> list[str]:
    store = Store()
    try:
        items = load_bundle(store, sid).profile.sections["company_profile"].items
    finally:
        store.close()
    return [i.text for i in items if i.text.startswith("Found later")]


def answer_three(c: TestClient, sid: str, count: int = 3) -> None:
    texts = ["We sell AP automation.", "Mid-market firms. Mostly US.", "They use NetSuite. Often."]
    for text in texts[:count]:
        code, _ = step(c, sid, "answer", answer=text, seq=pending(c, sid)["seq"])
        assert code == 200


def test_an_engines_background_work_is_merged_at_the_next_answer():
    c = client(BackgroundEngine)  # a new engine per interview, kept between requests
    sid = start(c)
    answer_three(c, sid)
    assert found_later(sid) == ["Found later: Mid-market firms"]


def test_stopping_the_server_keeps_background_work_and_pauses_the_interview():
    c = client(BackgroundEngine)
    sid = start(c)
    answer_three(c, sid, 2)
    assert found_later(sid) == []  # still pending in the engine
    close(c)
    assert found_later(sid) == ["Found later: Mid-market firms"]
    store = Store()
    try:
        assert store.session(sid).status == "interrupted"
    finally:
        store.close()
    again = client(BackgroundEngine)
    assert "Mid-market firms. Mostly US." in again.get(f"/s/{sid}").text
    answer_three(again, sid, 1)
    assert found_later(sid) == ["Found later: Mid-market firms"]  # merged once, not twice


def test_an_idle_interview_is_settled_and_reopened_on_the_next_request():
    c = client(BackgroundEngine, idle_seconds=0.2)
    sid = start(c)
    answer_three(c, sid, 2)
    deadline = time.monotonic() + 10
    while not found_later(sid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert found_later(sid) == ["Found later: Mid-market firms"]
    answer_three(c, sid, 1)
    assert pending(c, sid)["seq"] > 5


def test_a_merged_profile_gets_a_summary_page_and_no_chat():
    from agent.profile.models import Profile

    store = Store()
    try:
        profile = Profile(session="x", company="Joint Co", role="merged")
        info = store.create_derived(
            "Joint Co", "merged", "merge", {"kind": "merged"}, profile.model_dump(mode="json")
        )
    finally:
        store.close()
    c = client()
    page = c.get(f"/s/{info.id}")
    assert page.status_code == 200 and "Merged profile" in page.text
    assert "<textarea" not in page.text and f"/s/{info.id}/report.pdf" in page.text
    assert step(c, info.id, "answer", answer="hello")[0] == 404
    store = Store()
    try:
        assert store.turns(info.id) == []
    finally:
        store.close()


# resume
def test_a_new_server_resumes_where_the_interview_stopped():
    c = client()
    sid = start(c, company="Acme")
    step(c, sid, "answer", answer="We sell AP automation.", seq=1)
    q = pending(c, sid)
    step(c, sid, "answer", answer="Mid-market companies, 200 to 1,000 employees.", seq=q["seq"])
    waiting = pending(c, sid)
    close(c)  # the old server stops (Ctrl-C): it lets go of the interview
    again = client()  # a restarted server: a new app, nothing in memory
    page = again.get(f"/s/{sid}").text
    assert "Mid-market companies, 200 to 1,000 employees." in page
    assert html.escape(waiting["text"], quote=False) in page
    assert f'data-seq="{waiting["seq"]}"' in page
    code, events = step(again, sid, "answer", answer="US and Canada.", seq=waiting["seq"])
    assert code == 200 and events[-1]["question"]["seq"] > waiting["seq"]


def test_a_stale_tab_cannot_answer_an_answered_question():
    c = client()
    sid = start(c)
    step(c, sid, "answer", answer="We sell AP automation.", seq=1)
    code, [error] = step(c, sid, "answer", answer="A second tab's answer", seq=1)
    assert code == 409 and "already answered" in error["error"]
    assert stored_answers(sid) == ["We sell AP automation."]


def test_two_answers_at_once_store_exactly_one():
    c = client(StreamingEngine(delay=0.02))
    sid = start(c)
    codes: list[int] = []
    threads = [
        threading.Thread(
            target=lambda text: codes.append(step(c, sid, "answer", answer=text, seq=1)[0]),
            args=(text,),
        )
        for text in ("first tab", "second tab")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(codes) == [200, 409]
    assert len(stored_answers(sid)) == 1


# downloads
@pytest.mark.slow
def test_downloads_serve_only_that_sessions_report():
    c = client()
    alpha, beta = start(c, company="Alpha Freight"), start(c, company="Beta Dental")
    for sid, text in ((alpha, "We sell freight audit software."), (beta, "We sell dental CRM.")):
        step(c, sid, "answer", answer=text, seq=1)
    md = c.get(f"/s/{alpha}/report.md")
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert f'filename="icp-alpha-freight-{alpha}.md"' in md.headers["content-disposition"]
    assert "Alpha Freight" in md.text and "freight audit" in md.text
    assert "Beta" not in md.text and "dental" not in md.text
    page = c.get(f"/s/{beta}/report.html")
    assert page.headers["content-disposition"].startswith("attachment;")
    assert "Beta Dental" in page.text and "Alpha" not in page.text
    pdf = c.get(f"/s/{alpha}/report.pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    for bad in (
        f"/s/{alpha[:4]}/report.md",  # a prefix is not an id here
        f"/s/{alpha}/report.json",
        f"/s/{alpha}/report.md.pdf",
        "/s/..%2F..%2Fetc%2Fpasswd/report.md",
        "/s/ffffffff/report.md",
        "/s/report.md",
    ):
        assert c.get(bad).status_code == 404, bad


@pytest.mark.slow
def test_a_downloaded_pdf_has_the_sessions_text(tmp_path):
    c = client()
    sid = start(c, company="Gamma Robotics")
    step(c, sid, "answer", answer="We sell welding robots to job shops.", seq=1)
    out = tmp_path / "r.pdf"
    out.write_bytes(c.get(f"/s/{sid}/report.pdf").content)
    text = pdf_text(out)
    assert "Gamma Robotics" in text and "welding robots" in text


def usage_appendix(page: str) -> str:
    found = re.search(r'<section class="part flow" id="model-usage">.*?</section>', page, re.S)
    assert found, "no model usage appendix"
    return found.group(0)


@pytest.mark.slow
def test_a_downloaded_report_has_the_model_usage_appendix_of_icp_report(tmp_path):
    from agent.engines.llm.engine import LLMEngine
    from tests.llm_fakes import settings
    from tests.test_llm_engine import fake

    quiet = lambda _notice: None  # noqa: E731
    c = client(engine_factory=lambda _name: LLMEngine(settings(), model=fake(), notify=quiet))
    sid = start(c, company="Delta Payables")
    step(c, sid, "answer", answer="We sell accounts-payable automation to CFOs.", seq=1)
    code, events = step(c, sid, "wrap-up", seq=pending(c, sid)["seq"])
    assert code == 200 and events[-1]["type"] == "question"  # the closing question
    code, events = step(c, sid, "wrap-up", seq=pending(c, sid)["seq"])
    assert code == 200 and events[-1]["type"] == "done"
    store = Store()
    try:
        calls = store.model_calls(sid)
    finally:
        store.close()
    assert {"question", "synthesis"} <= {row["purpose"] for row in calls}
    page = c.get(f"/s/{sid}/report.html").text
    appendix = usage_appendix(page)
    assert f"{len(calls)} model calls to openai:gpt-4o-mini" in _flat(appendix)
    assert 'href="#model-usage"' in page
    # The same appendix, word for word, as `icp report` writes for the session.
    out = tmp_path / "cli.html"
    done = icp("report", sid, "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert appendix == usage_appendix(out.read_text("utf-8"))
    md = c.get(f"/s/{sid}/report.md").text
    assert f"## Appendix: model usage\n\n{len(calls)} model calls (openai:gpt-4o-mini)" in md


def _flat(text: str) -> str:
    return " ".join(text.split())


# bad and hostile input
def test_oversized_answers_are_refused_with_a_clear_message_and_nothing_stored():
    c = client()
    sid = start(c)
    code, [error] = step(c, sid, "answer", answer="x" * (MAX_ANSWER_CHARS + 1), seq=1)
    assert code == 413
    assert f"{MAX_ANSWER_CHARS:,}" in error["error"] and "Nothing was saved" in error["error"]
    huge = c.post(
        f"/api/s/{sid}/answer",
        content=b'{"answer": "' + b"y" * MAX_BODY_BYTES + b'"}',
        headers={"content-type": "application/json"},
    )
    assert huge.status_code == 413
    assert stored_answers(sid) == []
    long_but_fine = "word " * (MAX_ANSWER_CHARS // 5)
    assert step(c, sid, "answer", answer=long_but_fine, seq=1)[0] == 200
    assert stored_answers(sid) == [long_but_fine.strip()]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"answer": "  \n\t "}, "empty answer"),
        ({"answer": "\x00\x07"}, "empty answer"),
        ({"answer": 42}, "must be text"),
        ({"text": "hello"}, "must be text"),
        ([1, 2], "JSON object"),
    ],
)
def test_bad_answers_are_refused_and_nothing_is_stored(body, message):
    c = client()
    sid = start(c)
    r = c.post(f"/api/s/{sid}/answer", json=body)
    assert r.status_code == 400 and message in r.json()["error"]
    not_json = c.post(f"/api/s/{sid}/answer", content=b"\xff{", headers={"content-type": "x"})
    assert not_json.status_code == 400
    assert stored_answers(sid) == []


def test_a_bad_start_form_is_explained():
    c = client()
    r = c.post("/new", data={"company": "Acme", "role": "ceo", "minutes": "30"})
    assert r.status_code == 400 and "between 1 and 240 minutes" in r.text
    assert c.post("/new", data={"minutes": "abc"}).status_code == 400
    assert c.get("/api/s/zzzzzzzz").status_code == 404
    assert "There is no page" in c.get("/nowhere").text


HOSTILE = [
    "<script>alert('answer')</script> We sell AP automation.",
    "{{ 7*7 }} and {% raw %}{% endraw %} and ${7*7}",
    '"><img src=x onerror=alert(1)> companies with 200 to 1,000 employees',
]


def test_hostile_text_is_escaped_in_every_page():
    c = client()
    sid = start(c, company="<b>Evil</b> Corp")
    q = pending(c, sid)
    for text in HOSTILE:
        code, events = step(c, sid, "answer", answer=text, seq=q["seq"])
        assert code == 200
        q = events[-1]["question"]
    step(c, sid, "wrap-up", seq=q["seq"])
    step(c, sid, "answer", answer="<script>alert('closing')</script>", seq=pending(c, sid)["seq"])
    for path in (f"/s/{sid}", "/"):
        r = c.get(path)
        page = r.text
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert "<script>alert" not in page and "<img src=x" not in page and "<b>Evil" not in page
        assert "&lt;b&gt;Evil&lt;/b&gt; Corp" in page
    page = c.get(f"/s/{sid}").text
    assert "Interview complete" in page
    assert "&lt;script&gt;alert(&#39;answer&#39;)&lt;/script&gt;" in page
    assert "{{ 7*7 }}" in page and "{% raw %}" in page
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert page.count("<script") == 1  # only the page's own script file


# the command
def test_icp_serve_prints_a_tokened_link_and_stops_cleanly(icp_home):
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--no-browser", "--port", "0", "--host", "0.0.0.0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        url = proc.stdout.readline().strip()
        match = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/\?token=([\w-]{20,})", url)
        assert match, url
        base = url.split("?")[0]
        assert httpx.get(base).status_code == 403
        assert httpx.get(url, follow_redirects=True).status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "warning: listening on 0.0.0.0" in err and "stopped" in err
    assert match.group(2) not in err  # no access log with the token in it


def test_icp_serve_refuses_a_busy_port_in_one_line(icp_home):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "cli", "serve", "--no-browser", "--port", str(port)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=30,
        )
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"icp: error: cannot listen on 127.0.0.1:{port}")
    assert "Traceback" not in proc.stderr


# forgery: a page on another port of this host sends the cookie, never the header or form token
OTHER = "http://127.0.0.1:9999"


def cookie_only() -> TestClient:
    c = client(token=None)
    c.cookies.set(cookie_name(TOKEN), TOKEN)
    return c


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": OTHER, "sec-fetch-site": "same-site", "content-type": "text/plain"},
        {"origin": OTHER, "content-type": "application/json"},
        {"sec-fetch-site": "cross-site", "content-type": "application/json"},
        {"content-type": "application/json"},  # says nothing about where it came from
        {"origin": "http://testserver", "content-type": "text/plain"},  # a no-cors fetch
    ],
)
def test_a_state_change_with_only_the_cookie_from_elsewhere_is_refused(headers):
    c = client()
    sid = start(c)
    forger = cookie_only()
    r = forger.post(
        f"/api/s/{sid}/answer", content=b'{"answer": "forged", "seq": 1}', headers=headers
    )
    assert r.status_code == 403 and r.json()["reason"] == "origin"
    assert "Nothing was changed" in r.json()["error"]
    assert stored_answers(sid) == []
    form = forger.post("/new", data={"company": "Forged", "role": "founder"}, headers=headers)
    assert form.status_code == 403 and "Request refused" in form.text
    store = Store()
    try:
        assert [s.company for s in store.sessions()] == ["Ledgerline"]
    finally:
        store.close()


def test_the_pages_own_requests_pass_the_forgery_checks():
    from agent.frontends.web.auth import form_token

    c = client()
    sid = start(c)
    page = cookie_only()
    same = {"origin": "http://testserver", "sec-fetch-site": "same-origin"}
    r = page.post(
        f"/api/s/{sid}/answer", json={"answer": "We sell AP automation.", "seq": 1}, headers=same
    )
    assert r.status_code == 200
    scripted = {"x-icp-form": form_token(TOKEN), "content-type": "application/json"}
    r = page.put(f"/api/s/{sid}/draft", content=b'{"seq": 3, "text": "half"}', headers=scripted)
    assert r.status_code == 200
    # The start form needs its form token: a stale form (earlier run) is explained, not obeyed.
    form = {"company": "Acme", "role": "founder", "minutes": "30"}
    stale = page.post("/new", data={**form, "form_token": "old"}, headers=same)
    assert stale.status_code == 403 and "earlier run of icp serve" in stale.text
    ok = page.post("/new", data={**form, "form_token": form_token(TOKEN)}, headers=same)
    assert ok.status_code == 303


def test_a_double_click_on_start_starts_one_interview():
    c = client()
    form = {"company": "Acme", "role": "founder", "minutes": "30", "start_key": "k1"}
    first, second = c.post("/new", data=form), c.post("/new", data=form)
    assert first.headers["location"] == second.headers["location"]
    third = c.post("/new", data={**form, "start_key": "k2"})
    assert third.headers["location"] != first.headers["location"]
    assert c.get("/").text.count('name="start_key"') == 1  # a fresh key with every form
    store = Store()
    try:
        assert len(store.sessions()) == 2
    finally:
        store.close()


# drafts, skip, wrap up and undo
def test_a_draft_is_kept_on_the_server_until_its_question_is_answered():
    c = client()
    sid = start(c)
    assert c.put(f"/api/s/{sid}/draft", json={"seq": 1, "text": "We sell <AP> autom"}).is_success
    close(c)  # the server stops and starts again, on a new port
    again = client()
    assert "We sell &lt;AP&gt; autom</textarea>" in again.get(f"/s/{sid}").text
    step(again, sid, "skip", seq=1)  # a skip keeps the text: it is not an answer
    assert "We sell &lt;AP&gt; autom</textarea>" in again.get(f"/s/{sid}").text
    q = pending(again, sid)
    step(again, sid, "answer", answer="We sell AP automation.", seq=q["seq"])
    assert "autom</textarea>" not in again.get(f"/s/{sid}").text
    assert again.put(f"/api/s/{sid}/draft", json={"text": "x"}).status_code == 400


def test_wrap_up_can_be_undone_until_the_closing_answer():
    c = client()
    sid = start(c)
    step(c, sid, "answer", answer="We sell AP automation.", seq=1)
    step(
        c,
        sid,
        "answer",
        answer="Mid-market firms with 200 to 1,000 staff.",
        seq=pending(c, sid)["seq"],
    )
    before = pending(c, sid)
    code, events = step(c, sid, "wrap-up", seq=before["seq"])
    closing = events[-1]["question"]
    assert closing["topic"] == "close" and events[-1]["can_undo"]
    r = c.post(f"/api/s/{sid}/undo-wrap-up", json={"seq": closing["seq"]})
    assert r.status_code == 200
    back = r.json()["question"]
    assert back["text"] == before["text"] and back["topic"] == before["topic"]
    assert back["seq"] > closing["seq"] and not r.json()["can_undo"]
    close(c)
    again = client()  # a restart resumes at the question asked again
    assert pending(again, sid)["seq"] == back["seq"]
    page = again.get(f"/s/{sid}").text
    assert "Asked to wrap up" in page and "Wrap-up undone" in page
    assert again.post(f"/api/s/{sid}/undo-wrap-up", json={"seq": back["seq"]}).status_code == 409
    code, events = step(again, sid, "answer", answer="Mostly in the US.", seq=back["seq"])
    assert code == 200 and events[-1]["type"] == "question"
    assert stored_answers(sid)[-1] == "Mostly in the US."


# honest progress
def test_progress_reads_as_it_is_and_the_clock_ticks_from_the_pace():
    c = client()
    sid = start(c)
    state = c.get(f"/api/s/{sid}").json()["status"]
    labels = {k: s["label"] for k, s in state["sections"].items()}
    assert set(labels.values()) == {"Not asked yet"}  # nothing asked, nothing vague
    assert state["answers"] == 0 and state["timer"]["clock"] <= 30 * 60
    step(c, sid, "answer", answer="We sell AP automation to CFOs.", seq=1)
    q = pending(c, sid)
    code, events = step(c, sid, "skip", seq=q["seq"])
    assert code == 200
    status = events[-1]["status"]
    assert status["sections"][q["topic"]]["label"] == "Skipped"
    # While the next question is worded, only its topic is "now", not the one just left.
    announced = events[0]["status"]["sections"]
    assert events[0]["type"] == "topic"
    assert [k for k, v in announced.items() if v["state"] == "now"] == [events[0]["topic"]]
    now = events[-1]["question"]["topic"]
    assert status["sections"][now]["label"] == "Asking now" and status["current"] == now
    assert status["answers"] == 1  # a skip is not an answer
    # Fast answers: the time left follows the pace, not only the clock.
    assert status["minutes_left"] <= 30 and status["questions_left"] >= 1
    page = c.get(f"/s/{sid}").text
    assert 'data-clock="' in page and "1 answer so far" in page


# the joint review
def merged_session() -> str:
    from agent.joint.merge import merge_sessions
    from tests.test_merge import FOUNDER, SALES, interview

    store = Store()
    try:
        founder = interview(store, "Ledgerline", "founder", FOUNDER)
        sales = interview(store, "Ledgerline", "sales", SALES)
        return merge_sessions(store, [founder.id, sales.id]).session.id
    finally:
        store.close()


def test_the_review_api_saves_changes_as_versions_and_refuses_stale_ones():
    c = client()
    sid = merged_session()
    doc = c.get(f"/api/s/{sid}/review").json()
    assert doc["version"] == 1 and set(doc) >= {"sections", "unsorted", "conflicts", "signoffs"}
    item = doc["sections"]["channels"]["items"][0]
    assert set(item) >= {"id", "text", "status", "evidence"}
    change = {"version": 1, "by": "Dana", "changes": [{"item": item["id"], "action": "reject"}]}
    r = c.post(f"/api/s/{sid}/review", json=change)
    assert r.status_code == 200 and r.json()["version"] == 2
    assert item["id"] not in [i["id"] for i in r.json()["review"]["sections"]["channels"]["items"]]
    stale = c.post(f"/api/s/{sid}/review", json={**change, "by": "Lee"})
    assert stale.status_code == 409 and "latest is version 2" in stale.json()["error"]
    bad = c.post(f"/api/s/{sid}/review", json={"version": 2, "by": "", "changes": []})
    assert bad.status_code == 400
    page = c.get(f"/s/{sid}/review")
    assert page.status_code == 200 and 'data-version="2"' in page.text
    # A page from another origin cannot review, even with the cookie.
    forged = cookie_only().post(
        f"/api/s/{sid}/review", json={**change, "version": 2}, headers={"origin": OTHER}
    )
    assert forged.status_code == 403 and c.get(f"/api/s/{sid}/review").json()["version"] == 2


def test_an_unfinished_interview_is_not_reviewed_yet():
    c = client()
    sid = start(c)
    r = c.get(f"/api/s/{sid}/review")
    assert r.status_code == 409 and "not finished" in r.json()["error"]
    assert "not finished" in c.get(f"/s/{sid}/review").text


def test_listening_on_every_address_prints_a_link_per_machine_address(monkeypatch):
    from agent.frontends.web import serve

    monkeypatch.setattr(serve, "machine_addresses", lambda: ["192.0.2.7", "198.51.100.4"])
    assert serve.links("0.0.0.0", 8765, "t") == [
        "http://127.0.0.1:8765/?token=t",
        "http://192.0.2.7:8765/?token=t",
        "http://198.51.100.4:8765/?token=t",
    ]
    assert serve.links("127.0.0.1", 8765, "t") == ["http://127.0.0.1:8765/?token=t"]


def test_the_machines_addresses_leave_out_loopback():
    from agent.frontends.web.serve import machine_addresses

    assert all(not a.startswith(("127.", "169.254.")) for a in machine_addresses())
