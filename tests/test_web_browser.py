"""`icp serve` end to end in a real headless Chromium: Debian's package, driven by Playwright.

Answers several questions, reloads, continues, skips, wraps up and downloads the PDF; runs a
joint review with two reviewers; tries forgery from another local port; checks every page
with axe-core (vendored from npm). Screenshots go to test-output/. No browser is downloaded:
the tests use /usr/bin/chromium or are skipped.
"""

from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path

import pytest

from agent.frontends.web.app import create_app
from agent.frontends.web.auth import new_token
from agent.frontends.web.serve import bind, link, server
from agent.sim.respondent import SimulatedRespondent, load_persona
from agent.store.db import Store
from tests.conftest import ROOT, icp, pdf_text, persona_paths
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
AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
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


def axe_problems(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now (WCAG 2.2 AA)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text("utf-8"))  # via DevTools, so the page's CSP allows it
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def contrast(page, selector: str, prop: str, against: str = "rgb(255, 255, 255)") -> float:
    """The contrast ratio of a computed colour of an element against a background colour."""
    return page.evaluate(
        r"""([sel, prop, bg]) => {
          const rgb = (c) => c.match(/[\d.]+/g).slice(0, 3).map(Number);
          const lum = ([r, g, b]) => [r, g, b].map((v) => {
            v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
          }).reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
          const a = lum(rgb(getComputedStyle(document.querySelector(sel))[prop]));
          const b = lum(rgb(bg));
          return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        }""",
        [selector, prop, against],
    )


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
    assert axe_problems(page) == []
    page.keyboard.press("Tab")  # the first stop is the skip link, and it shows
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    assert page.locator(".skip-link").bounding_box()["y"] >= 0
    assert contrast(page, ".skip-link", "outlineColor", "rgb(245, 246, 248)") >= 3
    assert contrast(page, "#company", "borderTopColor") >= 3  # controls: 3:1 (WCAG 1.4.11)
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
    assert axe_problems(page) == []
    # An emoji is one character, as the server counts it.
    page.fill("#answer", "😀" * 16_001)
    assert page.locator("#counter").inner_text() == "16,001 / 20,000 characters"
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
    page.fill("#answer", "Half a thought I want to keep")
    page.click("#skip")
    page.wait_for_selector('#composer[aria-busy="false"]')
    assert page.locator("#current").get_attribute("data-topic") != topic
    assert page.input_value("#answer") == "Half a thought I want to keep"  # Skip keeps it
    page.fill("#answer", "")
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
    assert shown == {k: v["label"] for k, v in status["sections"].items()}
    assert shown[topic] == "Skipped"
    assert page.locator(".sec.now").get_attribute("data-key") == status["current"]
    assert page.locator(".msg.event").inner_text() == "Skipped this topic"
    sent.append(answer(page, respondent))

    phone = context.new_page()
    phone.set_viewport_size({"width": 390, "height": 844})
    phone.goto(page.url)
    phone.screenshot(path=OUT / "serve-phone.png")
    phone.close()

    # Wrap up asks first, and can be undone until the closing answer is sent.
    waiting = page.locator("#q-text").inner_text()
    waiting_topic = page.locator("#current").get_attribute("data-topic")
    page.click("#wrap")
    assert page.locator("#wrap-confirm").is_visible()
    page.click("#wrap-no")
    assert page.locator("#wrap-confirm").is_hidden() and page.locator("#q-text").inner_text() == waiting
    page.click("#wrap")
    page.click("#wrap-yes")
    page.wait_for_selector('#current[data-topic="close"]')
    page.wait_for_selector('#composer[aria-busy="false"]')
    assert page.locator("#q-preface").is_visible()
    page.click("#undo")
    page.wait_for_selector(f'#current[data-topic="{waiting_topic}"]')
    assert page.locator("#q-text").inner_text() == waiting
    assert "Wrap-up undone" in page.locator("#transcript").inner_text()
    page.click("#wrap")
    page.click("#wrap-yes")
    page.wait_for_selector('#current[data-topic="close"]')
    page.wait_for_selector('#composer[aria-busy="false"]')
    page.screenshot(path=OUT / "serve-closing.png")
    page.fill("#answer", "Nothing missing.")
    page.keyboard.press("Enter")
    page.wait_for_selector(".done-card")
    sent.append("Nothing missing.")
    page.screenshot(path=OUT / "serve-done.png", full_page=True)
    assert page.locator(".summary-grid .box").count() == 4
    assert axe_problems(page) == []
    # One count of answers: the page, the report and the transcript agree (a skip is not one).
    shown_answers = page.locator(".done-card .muted").inner_text().split(" answers")[0]
    assert int(shown_answers) == len(sent)

    with page.expect_download() as download:
        page.click("text=Download PDF")
    pdf = tmp_path / "report.pdf"
    download.value.save_as(pdf)
    assert download.value.suggested_filename.endswith(f"{sid}.pdf")
    text = pdf_text(pdf)
    assert persona.company in text and " ".join(sent[1].split()[:4]) in text
    assert f"Interview {len(sent)} answers, complete" in text
    assert "Skipped this topic" in text and "/skip" not in text

    store = Store()
    try:
        assert store.session(sid).status == "complete"
        assert [t.text for t in store.turns(sid) if t.kind == "answer"] == sent
    finally:
        store.close()
    assert problems == []  # no script errors, no Content-Security-Policy violations
    context.close()
