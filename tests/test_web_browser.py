"""`icp serve` end to end in a real headless Chromium: Debian's package, driven by Playwright.

Answers several questions, reloads, continues, skips, wraps up and downloads the PDF. Screenshots
go to test-output/. No browser is downloaded: the test uses /usr/bin/chromium or is skipped.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from agent.frontends.web.app import create_app
from agent.frontends.web.auth import new_token
from agent.frontends.web.serve import bind, link, server
from agent.frontends.web.views import STATUS_LABELS
from agent.sim.respondent import SimulatedRespondent, load_persona
from agent.store.db import Store
from tests.conftest import ROOT, pdf_text, persona_paths
from tests.test_web import StreamingEngine

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OUT = ROOT / "test-output"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)",
    ),
]


@pytest.fixture
def served(icp_home):
    """The app under uvicorn on a free loopback port, wording questions word by word."""
    token = new_token()
    app = create_app(token, engine_factory=lambda _name: StreamingEngine(delay=0.03))
    sock = bind("127.0.0.1", 0)
    web = server(app)
    thread = threading.Thread(target=web.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    yield link("127.0.0.1", sock.getsockname()[1], token)
    web.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def answer(page, respondent: SimulatedRespondent) -> str:
    """Answer the question on the page as the persona would, and wait for the next one."""
    question = page.locator("#q-text").inner_text()
    topic = page.locator("#current").get_attribute("data-topic") or None
    text = respondent.answer(question, topic)
    page.fill("#answer", text)
    page.keyboard.press("Enter")
    page.wait_for_selector('#composer[aria-busy="false"]')
    return text


def test_a_founder_interviews_in_the_browser(served, browser, tmp_path):
    OUT.mkdir(exist_ok=True)
    persona = load_persona(persona_paths()[0])
    respondent = SimulatedRespondent(persona)
    context = browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

    page.goto(served)
    assert "token=" not in page.url  # traded for a cookie
    page.screenshot(path=OUT / "serve-sessions.png")
    page.fill("#company", persona.company)
    page.select_option("#role", "founder")
    page.click("text=Start interview")
    page.wait_for_selector("#q-text")
    sid = page.url.rsplit("/", 1)[-1]

    # The first answer: the next question streams in before it is complete.
    first = respondent.answer(page.locator("#q-text").inner_text(), "intro")
    page.fill("#answer", first)
    page.click("#send")
    page.wait_for_selector("#current.streaming")
    partial = page.locator("#q-text").inner_text()
    page.wait_for_selector('#composer[aria-busy="false"]')
    final = page.locator("#q-text").inner_text()
    assert partial and len(partial) < len(final) and final.startswith(partial.rstrip())
    sent = [first] + [answer(page, respondent) for _ in range(3)]
    assert page.locator(".msg.you p").all_inner_texts() == sent
    page.screenshot(path=OUT / "serve-chat.png")
    page.fill("#answer", "A half-typed draft")

    # Reload: the transcript, the pending question and the draft are all still there.
    waiting = page.locator("#q-text").inner_text()
    page.reload()
    assert page.locator("#q-text").inner_text() == waiting
    assert page.locator(".msg.you p").all_inner_texts() == sent
    assert page.input_value("#answer") == "A half-typed draft"
    page.fill("#answer", "")
    sent += [answer(page, respondent) for _ in range(2)]

    topic = page.locator("#current").get_attribute("data-topic")
    page.click("#skip")
    page.wait_for_selector('#composer[aria-busy="false"]')
    assert page.locator("#current").get_attribute("data-topic") != topic
    # The side panel shows what the server holds: every section's status and the current one.
    base = served.split("/?")[0]
    status = page.request.get(f"{base}/api/s/{sid}").json()["status"]
    shown = dict(
        zip(
            page.locator(".sec").evaluate_all("els => els.map(e => e.dataset.key)"),
            page.locator(".sec .sec-status").all_inner_texts(),
            strict=True,
        )
    )
    assert shown == {k: STATUS_LABELS[v["status"]] for k, v in status["sections"].items()}
    assert page.locator(".sec.now").get_attribute("data-key") == status["current"]
    assert page.locator(".msg.event").inner_text() == "Skipped this topic"
    sent.append(answer(page, respondent))

    phone = context.new_page()
    phone.set_viewport_size({"width": 390, "height": 844})
    phone.goto(page.url)
    phone.screenshot(path=OUT / "serve-phone.png")
    phone.close()

    # Wrap up: a closing question with the reflect-back, then the summary page.
    page.click("#wrap")
    page.wait_for_selector('#current[data-topic="close"]')
    assert page.locator("#q-preface").is_visible()
    page.screenshot(path=OUT / "serve-closing.png")
    page.fill("#answer", "Nothing missing.")
    page.keyboard.press("Enter")
    page.wait_for_selector(".done-card")
    sent.append("Nothing missing.")
    page.screenshot(path=OUT / "serve-done.png", full_page=True)
    assert page.locator(".summary-grid .box").count() == 4

    with page.expect_download() as download:
        page.click("text=Download PDF")
    pdf = tmp_path / "report.pdf"
    download.value.save_as(pdf)
    assert download.value.suggested_filename.endswith(f"{sid}.pdf")
    text = pdf_text(pdf)
    assert persona.company in text and " ".join(sent[1].split()[:4]) in text

    store = Store()
    try:
        assert store.session(sid).status == "complete"
        assert [t.text for t in store.turns(sid) if t.kind == "answer"] == sent
    finally:
        store.close()
    assert problems == []  # no script errors, no Content-Security-Policy violations
    context.close()
