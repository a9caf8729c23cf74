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


@pytest.mark.slow
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
    # The topic label shows the question being streamed, and the panel already follows it.
    assert page.locator("#q-topic").inner_text().lower() == "company profile"
    assert page.locator(".sec.now").get_attribute("data-key") == "company_profile"
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
    assert page.locator("#wrap-confirm").is_hidden()
    assert page.locator("#q-text").inner_text() == waiting
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


# the joint review
def merged_profile() -> str:
    """A merged profile of a founder and a sales lead of one company, with conflicts."""
    from agent.joint.merge import merge_sessions
    from tests.test_merge import FOUNDER, SALES, interview

    store = Store()
    try:
        founder = interview(store, "Ledgerline", "founder", FOUNDER)
        sales = interview(store, "Ledgerline", "sales", SALES, extra=["We sometimes see G2."])
        return merge_sessions(store, [founder.id, sales.id], "Ledgerline joint review").session.id
    finally:
        store.close()


def item(page, start: str):
    """The review page's item whose text starts with `start`."""
    return page.locator(".item", has=page.locator(".item-text", has_text=start)).first


def saved(page, version: int) -> None:
    page.wait_for_selector(f'#review[data-version="{version}"]')


@pytest.mark.slow
def test_sales_and_marketing_review_resolve_and_sign_in_two_browsers(served, browser, tmp_path):
    OUT.mkdir(exist_ok=True)
    sid = merged_profile()
    base = served.split("/?")[0]
    problems: list[str] = []

    def reviewer(name: str, width: int = 1280, height: int = 900):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.goto(served)
        page.goto(f"{base}/s/{sid}/review")
        page.fill("#reviewer", name)
        return context, page

    sales_ctx, dana = reviewer("Dana Ruiz")
    marketing_ctx, lee = reviewer("Lee Chen")
    assert dana.locator("#review").get_attribute("data-version") == "1"
    dana.screenshot(path=OUT / "review-start.png", full_page=True)
    assert axe_problems(dana) == []

    # Dana rewords an item: its quote stays as the evidence.
    netsuite = item(dana, "They run NetSuite")
    netsuite.get_by_role("button", name="Edit").click()
    netsuite.locator("textarea").fill("NetSuite as the ERP, Ramp for cards (50-500 staff)")
    netsuite.get_by_role("button", name="Save wording").click()
    saved(dana, 2)
    edited = item(dana, "NetSuite as the ERP")
    assert (
        "Edited" in edited.inner_text()
        and "They run NetSuite" in edited.locator(".quotes").inner_text()
    )

    # Lee's page still shows version 1: his change is refused (409) and nothing is lost.
    club = item(lee, "Controllers meet")
    club.get_by_role("button", name="Reject").click()
    lee.wait_for_selector("#review-error:not([hidden])")
    assert "someone else changed the review first" in lee.locator("#review-error").inner_text()
    assert lee.locator("#review").get_attribute("data-version") == "1"
    lee.click("#reload")
    saved(lee, 2)
    assert item(lee, "NetSuite as the ERP").is_visible()  # Dana's change, after the reload
    item(lee, "Controllers meet").get_by_role("button", name="Reject").click()
    saved(lee, 3)
    assert item(lee, "Controllers meet").count() == 0

    # Dana reloads, moves an item and resolves the size conflict.
    dana.reload()
    agencies = item(dana, "Agencies that resell")
    agencies.locator("select").select_option("exclusions")
    agencies.get_by_role("button", name="Move").click()
    saved(dana, 4)
    assert item(dana, "Agencies that resell").locator(".badge").inner_text() == "Moved"
    assert dana.locator("#sec-exclusions .item-text", has_text="Agencies that resell").count() == 1
    conflict = dana.locator(".conflict", has_text="Company size").first
    conflict.locator("textarea").fill("Target 500-1,000 employees; check the last 20 deals")
    conflict.get_by_label("Owner").fill("Priya Shah")
    conflict.get_by_label("By (date)").fill("2026-12-31")
    conflict.get_by_role("button", name="Save decision").click()
    saved(dana, 5)
    dana.fill("#icp-owner", "Priya Shah")
    dana.get_by_role("button", name="Save owner").click()
    saved(dana, 6)

    # Both sign: sales here, marketing in the other browser after a reload.
    dana.fill("#sign-sales", "Dana Ruiz")
    dana.get_by_role("button", name="Sign for sales").click()
    saved(dana, 7)
    lee.reload()
    lee.fill("#sign-marketing", "Lee Chen")
    lee.get_by_role("button", name="Sign for marketing").click()
    saved(lee, 8)
    assert "Signed by sales and marketing" in lee.locator(".status-card h2").inner_text()
    assert axe_problems(lee) == []
    lee.screenshot(path=OUT / "review-full.png", full_page=True)
    item(lee, "Our best customers have between 200").get_by_role("button", name="Edit").click()
    lee.evaluate("window.scrollTo(0, 0)")
    lee.screenshot(path=OUT / "review-desktop.png")
    assert axe_problems(lee) == []
    lee.set_viewport_size({"width": 390, "height": 844})
    lee.locator("#sec-company_profile").evaluate("el => el.scrollIntoView()")
    lee.screenshot(path=OUT / "review-phone.png")
    assert axe_problems(lee) == []
    item(lee, "Our best customers have between 200").get_by_role("button", name="Cancel").click()

    # The reports show the decisions and the signatures, not blank lines.
    with lee.expect_download() as download:
        lee.click("text=Download PDF")
    pdf = tmp_path / "signed.pdf"
    download.value.save_as(pdf)
    text = pdf_text(pdf)
    assert "Signed ICP, version 8: sales (Dana Ruiz) and marketing (Lee Chen)" in text
    assert "Decision: Target 500-1,000 employees; check the last 20 deals" in text
    assert "Owner: Priya Shah" in text and "By: 31 December 2026" in text
    md = lee.request.get(f"{base}/s/{sid}/report.md").text()
    assert (
        "**Decision:** Target 500-1,000 employees; check the last 20 deals **Owner:** Priya Shah"
        in md
    )
    assert "**Sales**: signed by Dana Ruiz" in md and "**Marketing**: signed by Lee Chen" in md
    assert "| Owner | Priya Shah |" in md and "NetSuite as the ERP" in md

    # The rules and the drift start from the reviewed version.
    rules = icp("rules", sid)
    assert rules.returncode == 0 and "Controllers Club" not in rules.stdout
    assert "Controllers Club" in icp("rules", sid, "--version", "1").stdout
    diff = icp("diff", f"{sid}@1", f"{sid}@8")
    assert diff.returncode == 0, diff.stderr
    assert "  - Controllers meet in a Slack group called Controllers Club." in diff.stdout
    assert "-> NetSuite as the ERP, Ramp for cards (50-500 staff)" in diff.stdout
    assert "Agencies that resell" in diff.stdout and "moved" in diff.stdout
    doc = json.loads(lee.request.get(f"{base}/api/s/{sid}/review").text())
    assert doc["signed"] and [h["by"] for h in doc["history"]] == [
        "Dana Ruiz",
        "Lee Chen",
        "Dana Ruiz",
        "Dana Ruiz",
        "Dana Ruiz",
        "Dana Ruiz",
        "Lee Chen",
    ]
    assert problems == []
    sales_ctx.close()
    marketing_ctx.close()


# forgery from another local port
class Attacker(http.server.BaseHTTPRequestHandler):
    """A page on another port of 127.0.0.1 that tries to change the victim's interviews."""

    target = ""
    sid = ""

    def do_GET(self) -> None:
        body = f"""<!DOCTYPE html><html><body>
<form id="f" method="post" action="{self.target}/new">
  <input name="company" value="Forged Co"><input name="role" value="founder">
  <input name="minutes" value="30">
</form>
<script>
fetch("{self.target}/api/s/{self.sid}/answer", {{
  method: "POST", mode: "no-cors", credentials: "include",
  headers: {{"Content-Type": "text/plain"}},
  body: JSON.stringify({{answer: "forged answer", seq: 1}})
}}).finally(() => {{ document.title = "sent"; document.getElementById("f").submit(); }});
</script></body></html>""".encode()
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.mark.slow
def test_a_page_on_another_port_can_change_nothing(served, browser):
    base = served.split("/?")[0]
    context = browser.new_context()
    page = context.new_page()
    page.goto(served)  # the victim has the cookie
    page.fill("#company", "Victim Co")
    page.click("text=Start interview")
    page.wait_for_selector("#q-text")
    sid = page.url.rsplit("/", 1)[-1]

    Attacker.target, Attacker.sid = base, sid
    evil = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Attacker)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    statuses: list[tuple[str, int]] = []
    page.on(
        "response", lambda r: statuses.append((r.url, r.status)) if r.url.startswith(base) else None
    )
    try:
        page.goto(f"http://127.0.0.1:{evil.server_address[1]}/")
        page.wait_for_url(f"{base}/new")
        assert "Request refused" in page.content()
    finally:
        evil.shutdown()
    assert (f"{base}/new", 403) in statuses
    assert (f"{base}/api/s/{sid}/answer", 403) in statuses
    store = Store()
    try:
        assert [s.company for s in store.sessions()] == ["Victim Co"]
        assert [t for t in store.turns(sid) if t.speaker == "respondent"] == []
    finally:
        store.close()
    context.close()
