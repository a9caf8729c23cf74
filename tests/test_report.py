"""Report rendering (PDF, HTML, Markdown), the locked-down URL fetcher, and synthesis."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

from agent.errors import InputError, RenderError
from agent.profile.models import SECTION_KEYS, SECTION_TITLES, Evidence, Item, Profile, Quantity
from agent.report import render as report
from agent.report import summary as synthesis
from agent.store.db import SessionInfo, Turn

CJK = "客户说节省了很多时间"
HOSTILE = '<script>alert(1)</script> and <img src="file:///etc/passwd"> and {{ 7*7 }}'
LONG_ANSWER = (
    "We onboarded the Lakeside group last spring and the recall list was a mess. " * 1400
    + "https://example.com/"
    + "x" * 400
)

# (question, answer) pairs; answers are turn 2, 4, 6, ... in the transcript.
INTERVIEW = [
    (
        "Which customers would you clone?",
        "Independent dental groups with 3-15 locations and 40-250 staff, mostly in the US Midwest. "
        "Lakeside Dental (8 sites) closed in 21 days.",
    ),
    (
        "What do they run today?",
        "They all run Dentrix or Open Dental, and most have Weave for phones.",
    ),
    (
        "What happened just before they started looking?",
        "Usually a new COO arrives and within 90 days asks why hygiene chairs sit empty. "
        "Also when they open a fourth site.",
    ),
    (
        "What do they compare vendors on?",
        "Two-way sync with the PMS, no double entry, and proof of recall lift in the first month. "
        "It depends, honestly.",
    ),
    (
        "Which objections come up?",
        "Price per location comes up at the proposal stage; "
        "we answer with the recall revenue math.",
    ),
    ("Where do they find vendors?", "I'd rather not say, that's our secret sauce."),
    (
        "What exactly do they say about the problem?",
        'They say "our recall is a leaky bucket" and "hygiene is our profit center". '
        "One said: we are drowning in no-shows \U0001f62b. " + HOSTILE,
    ),
    (
        "Who is in the room?",
        "The office manager feels the pain and usually finds us on Google. The owner dentist signs "
        "off on anything over $500 a month. The IT contractor can veto it during security review. "
        "Associate dentists weigh in after the demo. Typical titles: COO, regional manager.",
    ),
    (
        "Which deals do you wish you had never taken?",
        "Never target DSOs / corporate chains: they buy centrally and churn after the pilot. "
        "Solo practitioners with one chair who want everything free. "
        "Agencies reselling to their clients, because they churn after one project.",
    ),
    (
        "What makes customers stay?",
        "Recall bookings up 18% within 60 days; they expand to every site by month six. "
        f"العملاء يقولون إن النظام وفر الوقت. {CJK}。",
    ),
    ("Anything else?", LONG_ANSWER),
]


@cache
def cjk_font_installed() -> bool:
    """Whether fontconfig knows a font for Chinese.

    Without one WeasyPrint draws CJK as missing glyphs and writes the font with its own CMap,
    whose text pypdf cannot read back (poppler can), so PDF text checks leave CJK out then.
    """
    fc_list = shutil.which("fc-list")
    found = fc_list and subprocess.run([fc_list, ":lang=zh"], capture_output=True, text=True)
    return bool(found and found.stdout.strip())


def _turns(cjk: bool = True) -> list[Turn]:
    turns: list[Turn] = []
    for question, answer in INTERVIEW:
        if not cjk:
            answer = answer.replace(f" {CJK}。", "")
        turns.append(Turn(len(turns) + 1, "agent", question, "t", "question"))
        turns.append(Turn(len(turns) + 1, "respondent", answer, "t", "answer"))
    return turns


def _item(
    turns: list[Turn],
    n: int,
    quote: str,
    text: str | None = None,
    concrete: bool = False,
    quantities: list[Quantity] | None = None,
) -> Item:
    turn = turns[2 * n + 1]
    assert quote in turn.text, quote
    return Item(
        text=text or quote,
        evidence=[Evidence(turn=turn.seq, quote=quote)],
        concrete=concrete,
        quantities=quantities or [],
    )


def build(cjk: bool = True) -> tuple[Profile, SessionInfo, list[Turn]]:
    """A realistic profile for a made-up company, with empty, vague and hostile sections."""
    t = _turns(cjk)
    p = Profile(
        session="abc12345",
        company="ToothTrack",
        role="Head of Sales",
        version=7,
        product="Patient recall automation for dental groups",
    )
    s = p.sections
    s["company_profile"].status = "covered"
    s["company_profile"].items = [
        _item(
            t,
            0,
            "Independent dental groups with 3-15 locations and 40-250 staff",
            concrete=True,
            quantities=[Quantity(kind="employees", low=40, high=250, text="40-250 staff")],
        ),
        _item(t, 0, "mostly in the US Midwest", text="US Midwest"),
        _item(t, 0, "Lakeside Dental (8 sites) closed in 21 days", concrete=True),
    ]
    s["technographics"].status = "covered"
    s["technographics"].items = [
        _item(
            t,
            1,
            "They all run Dentrix or Open Dental",
            text="Runs Dentrix or Open Dental",
            concrete=True,
        )
    ]
    s["buying_triggers"].status = "covered"
    s["buying_triggers"].items = [
        _item(t, 2, "when they open a fourth site", text="Opening a fourth site"),
        _item(
            t,
            2,
            "a new COO arrives and within 90 days asks why hygiene chairs sit empty",
            concrete=True,
        ),
    ]
    s["evaluation_criteria"].status = "vague"
    s["evaluation_criteria"].items = [_item(t, 3, "Two-way sync with the PMS, no double entry")]
    s["evaluation_criteria"].notes = ["What kills a vendor in the evaluation?"]
    s["objections"].status = "covered"
    s["objections"].items = [
        _item(t, 4, "Price per location comes up at the proposal stage", concrete=True)
    ]
    s["channels"].status = "declined"
    s["customer_language"].status = "covered"
    s["customer_language"].items = [
        _item(t, 6, "our recall is a leaky bucket", concrete=True),
        _item(t, 6, "we are drowning in no-shows \U0001f62b", concrete=True),
        _item(t, 6, HOSTILE, concrete=True),
    ]
    s["buying_committee"].status = "covered"
    s["buying_committee"].items = [
        _item(t, 7, "The office manager feels the pain and usually finds us on Google"),
        _item(t, 7, "The owner dentist signs off on anything over $500 a month", concrete=True),
        _item(t, 7, "The IT contractor can veto it during security review"),
        _item(t, 7, "Associate dentists weigh in after the demo"),
        _item(t, 7, "Typical titles: COO, regional manager"),
    ]
    s["exclusions"].status = "covered"
    s["exclusions"].items = [
        _item(
            t,
            8,
            "Never target DSOs / corporate chains: they buy centrally and churn after the pilot",
            concrete=True,
        ),
        _item(t, 8, "Solo practitioners with one chair who want everything free"),
        _item(t, 8, "Agencies reselling to their clients, because they churn after one project"),
    ]
    s["value_outcomes"].status = "covered"
    s["value_outcomes"].items = [
        _item(t, 9, "Recall bookings up 18% within 60 days", concrete=True),
        _item(t, 9, "العملاء يقولون إن النظام وفر الوقت"),
        *([_item(t, 9, CJK)] if cjk else []),
        _item(t, 10, LONG_ANSWER[:2000]),
    ]
    # sales_cycle stays pending and empty.
    session = SessionInfo(
        id="abc12345",
        company="ToothTrack",
        role="Head of Sales",
        engine="offline",
        minutes=30,
        status="complete",
        started="2025-11-20T14:05:00+00:00",
        turns=len(t),
    )
    return p, session, t


@pytest.fixture(scope="module")
def sample() -> tuple[Profile, SessionInfo, list[Turn]]:
    return build()


@pytest.fixture(scope="module")
def pdf_sample() -> tuple[Profile, SessionInfo, list[Turn]]:
    """The sample, without its Chinese sentence where no installed font can draw it."""
    return build(cjk=cjk_font_installed())


@pytest.fixture(scope="module")
def pdf_run(pdf_sample) -> tuple[bytes, list]:
    """One PDF render of the sample (they are slow), with every URL fetcher it made kept."""
    made = []
    real = report.bundled_fetcher

    def spy(root):
        made.append(real(root))
        return made[-1]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(report, "bundled_fetcher", spy)
        data = report.render(*pdf_sample, "pdf")
    return data, made


@pytest.fixture(scope="module")
def pdf_text(pdf_run) -> str:
    from pypdf import PdfReader

    data = pdf_run[0]
    assert data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def _flat(text: str) -> str:
    return " ".join(text.split())


# PDF


@pytest.mark.slow
def test_pdf_has_every_section_heading(pdf_text):
    flat = _flat(pdf_text)
    for key in SECTION_KEYS:
        assert SECTION_TITLES[key] in flat
    for heading in (
        "One-page summary",
        "Language bank",
        "Buying committee by role",
        "Negative personas",
        "Coverage and confidence",
        "Open questions to validate with closed-won data",
        "Quarterly review checklist",
        "Appendix: interview transcript",
    ):
        assert heading in flat


@pytest.mark.slow
def test_pdf_has_quotes_and_cover(pdf_text):
    flat = _flat(pdf_text)
    assert "our recall is a leaky bucket" in flat
    assert "ToothTrack" in flat and "Head of Sales" in flat and "abc12345" in flat
    assert "20 November 2025" in flat and "Patient recall automation" in flat
    assert "Nothing captured yet" in flat  # sales_cycle is empty
    assert "The DSOs / corporate chains" in flat
    assert "Page 2 of" in flat


@pytest.mark.slow
def test_pdf_keeps_template_syntax_literal(pdf_text):
    flat = _flat(pdf_text)
    assert "{{ 7*7 }}" in flat
    assert "49" not in re.sub(r"Page \d+ of \d+", "", flat)


def heading_pages(reader) -> dict[str, int]:
    """Each PDF bookmark (one per h1-h3) and the 1-based page it is on, status badges dropped."""
    badges = tuple(f" {label}" for label in report.status_labels().values())
    pages: dict[str, int] = {}

    def walk(items: list) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
                continue
            title = item.title
            for badge in badges:
                title = title.removesuffix(badge)
            pages.setdefault(title, reader.get_destination_page_number(item) + 1)

    walk(reader.outline)
    return pages


def contents_mismatches(data: bytes) -> list[str]:
    """Contents lines and page references whose page number is not where the heading is."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    headings = heading_pages(reader)
    contents = reader.pages[1].extract_text(extraction_mode="layout")
    entries = [(t, int(n)) for t, n in re.findall(r"^ *(\S.*?\S) {2,}(\d+) *$", contents, re.M)]
    titles = {t for t, _ in entries}
    expected = {*SECTION_TITLES.values(), "One-page summary", "Appendix: interview transcript"}
    assert expected <= titles, f"contents not parsed: {sorted(expected - titles)}"
    summary = _flat(reader.pages[2].extract_text())
    (ref,) = re.findall(r"see Open questions \(page (\d+)\)", summary)
    entries.append(("Open questions to validate with closed-won data", int(ref)))
    wrong = []
    for title, number in entries:
        page = _flat(reader.pages[number - 1].extract_text()) if number <= len(reader.pages) else ""
        if headings.get(title) != number or title not in page:
            wrong.append(f"{title}: says {number}, heading on {headings.get(title)}")
    return wrong


@pytest.mark.slow
def test_contents_page_numbers_are_where_the_headings_are(pdf_run):
    assert contents_mismatches(pdf_run[0]) == []


@pytest.mark.slow
def test_transcript_numbers_stand_beside_their_turns(pdf_run, pdf_sample):
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf_run[0]))
    first = heading_pages(reader)["Appendix: interview transcript"]
    text = "\n".join(p.extract_text(extraction_mode="layout") for p in reader.pages[first - 1 :])
    for turn in pdf_sample[2]:
        label = f"{turn.seq} {'Q' if turn.speaker == 'agent' else 'A'}"
        first_words = re.escape(" ".join(turn.text.split()[:4]))
        assert re.search(rf"^ *{label} +{first_words}", text, re.M), label


# HTML


def test_html_escapes_hostile_text(sample):
    html = report.render(*sample, "html").decode()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<img src="file:///etc/passwd">' not in html
    assert "{{ 7*7 }}" in html and "49" not in html
    assert "<style>" in html and 'rel="stylesheet"' not in html  # stands alone
    assert "\U0001f62b" in html and CJK in html


def test_html_has_every_section_even_empty(sample):
    html = report.render(*sample, "html").decode()
    for key in SECTION_KEYS:
        assert f'id="sec-{key}"' in html
    sales = html.split('id="sec-sales_cycle"')[1].split("</section>")[0]
    assert "Nothing captured yet" in sales and "Not covered" in sales


@pytest.mark.slow
def test_long_words_wrap_inside_the_page(sample):
    import weasyprint

    profile, session, turns = sample
    profile = profile.model_copy(deep=True)
    token = "https://example.com/" + "y" * 300
    for key in ("company_profile", "exclusions"):
        profile.sections[key].items.insert(
            0,
            Item(
                text=f"Never {token} ever 12",
                evidence=[Evidence(turn=22, quote=token)],
                concrete=True,
            ),
        )
    html = report.render(profile, session, turns[-2:], "html").decode()
    doc = weasyprint.HTML(string=html).render()
    for page in doc.pages:
        right = page.width - page._page_box.margin_right
        for box in page._page_box.descendants():
            if hasattr(box, "text") and box.text.strip():
                assert box.position_x + box.width <= right + 1, box.text[:40]


# Markdown


def test_markdown_escapes_user_text(sample):
    md = report.render(*sample, "md").decode()
    assert not re.search(r"(?<!\\)<", md)  # no unescaped "<" anywhere
    assert r"\<script\>alert(1)\</script\>" in md
    assert r"{{ 7\*7 }}" in md and "49" not in md
    assert "### Sales cycle (Not covered)" in md
    assert "our recall is a leaky bucket" in md


@pytest.mark.parametrize(
    "text, expected",
    [
        ("**bold** _it_ `code`", r"\*\*bold\*\* \_it\_ \`code\`"),
        ("[link](http://x)", r"\[link\](http\://x)"),  # not autolinked by GitHub
        ("# not a heading", r"\# not a heading"),
        ("- not a list", r"\- not a list"),
        ("1. not a list", r"1\. not a list"),
        ("a | b", r"a \| b"),
        ("$5M-$100M", r"\$5M-\$100M"),
        ("two\nlines", "two lines"),
    ],
)
def test_md_escape(text, expected):
    assert report.md_escape(text) == expected


def test_md_quote_keeps_lines_and_escapes():
    assert report.md_quote("# one\n\n> two") == "> \\# one\n>\n> \\> two"


# URL fetcher


def test_fetcher_refuses_everything_but_bundled_files(tmp_path):
    root = report.templates_dir()
    fetcher = report.bundled_fetcher(root)
    css = fetcher.fetch((root / "report.css").as_uri())
    assert b"@page" in css.read()
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    for url in (
        "http://example.com/x.css",
        "https://example.com/x.png",
        "file:///etc/passwd",
        secret.as_uri(),
        (root / ".." / "agent" / "report.py").as_uri(),
        "data:text/plain,hi",
        "ftp://example.com/x",
        "file://evil.com/etc/passwd",
    ):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    assert len(fetcher.refused) == 8 and len(fetcher.served) == 1


@pytest.mark.slow
def test_pdf_loads_only_bundled_assets(pdf_run):
    root = report.templates_dir()
    (fetcher,) = pdf_run[1]
    assert [u.rsplit("/", 1)[-1] for u in fetcher.served] == ["report.css"]
    assert all(report.bundled_path(root, url) for url in fetcher.served)
    assert not fetcher.refused


@pytest.mark.slow
def test_pdf_of_hostile_html_fetches_nothing(monkeypatch):
    made = []
    real = report.bundled_fetcher
    monkeypatch.setattr(report, "bundled_fetcher", lambda root: made.append(real(root)) or made[-1])
    hostile = (
        '<link rel="stylesheet" href="http://example.com/evil.css">'
        '<img src="file:///etc/passwd"><img src="https://example.com/x.png">'
        '<p style="background: url(file:///etc/hostname)">x</p>'
        '<style>@import url("https://example.com/a.css");'
        "@font-face { font-family: X; src: url(file:///etc/passwd) }</style>"
    )
    assert report.html_to_pdf(hostile).startswith(b"%PDF")
    (fetcher,) = made
    assert not fetcher.served
    assert "file:///etc/passwd" in fetcher.refused
    assert any(u.startswith("http://") for u in fetcher.refused)
    assert any(u.startswith("https://") for u in fetcher.refused)


# Writing


@pytest.mark.slow
def test_write_report_picks_format_from_suffix(tmp_path):
    session = SessionInfo(
        id="s1",
        company="Acme",
        role="CEO",
        engine="offline",
        minutes=30,
        status="complete",
        started="2025-01-02T03:04:05+00:00",
    )
    sample = (Profile(company="Acme"), session, [])
    for name, magic in (
        ("r.pdf", b"%PDF"),
        ("r.html", b"<!DOCTYPE html>"),
        ("r.HTM", b"<!DOCTYPE html>"),
        ("r.md", b"# Ideal"),
    ):
        out = report.write_report(*sample, tmp_path / name)
        assert out.read_bytes().startswith(magic)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.HTM", "r.html", "r.md", "r.pdf"]


def test_bad_suffix_is_input_error(tmp_path, sample):
    with pytest.raises(InputError, match=r"\.pdf, \.html, \.htm, \.md"):
        report.write_report(*sample, tmp_path / "r.docx")
    with pytest.raises(InputError):
        report.render(*sample, "docx")
    assert not list(tmp_path.iterdir())


def test_failed_write_keeps_old_file_and_leaves_no_debris(tmp_path, sample, monkeypatch):
    out = tmp_path / "r.md"
    out.write_text("old report")

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(RenderError, match="No space left on device"):
        report.write_report(*sample, out)
    assert out.read_text() == "old report"
    assert [p.name for p in tmp_path.iterdir()] == ["r.md"]


def test_unwritable_path_is_render_error(tmp_path, sample):
    with pytest.raises(RenderError) as err:
        report.write_report(*sample, tmp_path / "missing" / "r.md")
    assert "\n" not in str(err.value)


# Synthesis


def test_the_summary_counts_open_questions_in_words_that_fit_the_count(sample):
    profile, session, turns = sample
    n = len(synthesis.summarize(profile).open_questions)
    html = report.render(profile, session, turns, "html").decode()
    assert n > 1 and f"{n} open questions to validate" in html
    covered = profile.model_copy(deep=True)
    for section in covered.sections.values():
        concrete = Item(text="A concrete fact", evidence=[Evidence(turn=1, quote="x")])
        section.items = [concrete.model_copy(update={"concrete": True})]
        section.status, section.notes = "covered", []
    assert synthesis.summarize(covered).open_questions == []
    html = report.render(covered, session, turns, "html").decode()
    assert "No open questions: every section has concrete evidence." in html
    assert "0 open questions" not in html


def test_summary_picks_concrete_items_first(sample):
    summary = synthesis.summarize(sample[0])
    texts = [i.text for i in summary.who_we_sell_to]
    assert texts[0].startswith("Independent dental groups")
    assert "US Midwest" not in texts  # concrete company items exist, so the vague one is left out
    assert texts[-1] == "Runs Dentrix or Open Dental"
    assert summary.top_triggers[0].text.startswith("a new COO arrives")
    assert len(summary.never_target) == 3
    assert len(summary.checklist) >= 5


def test_negative_personas_are_named_from_exclusions(sample):
    personas = synthesis.summarize(sample[0]).negative_personas
    assert [p.name for p in personas] == [
        "The DSOs / corporate chains",
        "Solo practitioners with one chair",
        "Agencies reselling to their clients",
    ]
    assert personas[0].why == "They buy centrally and churn after the pilot"
    assert personas[2].why == "They churn after one project"
    assert personas[0].evidence[0].turn == 18


def test_committee_grouped_by_role(sample):
    groups = {g.role: [i.text for i in g.items] for g in synthesis.summarize(sample[0]).committee}
    assert list(groups) == ["feels", "budget", "influences", "blocks", "other"]
    assert groups["feels"] == ["The office manager feels the pain and usually finds us on Google"]
    assert groups["budget"] == ["The owner dentist signs off on anything over $500 a month"]
    assert groups["blocks"] == ["The IT contractor can veto it during security review"]
    assert groups["influences"] == ["Associate dentists weigh in after the demo"]
    assert groups["other"] == ["Typical titles: COO, regional manager"]


def test_open_questions_for_weak_sections(sample):
    questions = synthesis.summarize(sample[0]).open_questions
    by_key: dict[str, list[synthesis.OpenQuestion]] = {}
    for q in questions:
        by_key.setdefault(q.key, []).append(q)
    assert set(by_key) == {"evaluation_criteria", "channels", "sales_cycle"}
    assert by_key["channels"][0].reason == "the respondent declined to answer"
    assert by_key["sales_cycle"][0].reason == "not covered in the interview"
    assert "cycle length" in by_key["sales_cycle"][0].text
    assert [q.text for q in by_key["evaluation_criteria"]][1] == (
        "What kills a vendor in the evaluation?"
    )


def test_open_question_for_covered_section_without_concrete_items():
    profile = Profile()
    profile.sections["channels"].status = "covered"
    profile.sections["channels"].items = [
        Item(text="Conferences", evidence=[Evidence(turn=2, quote="Conferences")])
    ]
    keys = [q.key for q in synthesis.open_questions(profile)]
    assert "channels" in keys and len(keys) == len(SECTION_KEYS)
    assert synthesis.confidence(profile.sections["channels"]) == "medium"


def test_coverage_confidence(sample):
    conf = {c.key: c.confidence for c in synthesis.summarize(sample[0]).coverage}
    assert conf["company_profile"] == "high"
    assert conf["evaluation_criteria"] == "low"  # vague, nothing concrete
    assert conf["channels"] == "low" and conf["sales_cycle"] == "low"


def test_summarize_is_deterministic(sample):
    assert synthesis.summarize(sample[0]) == synthesis.summarize(sample[0])


def test_empty_profile_renders_everything():
    session = SessionInfo(
        id="e", company="", role="", engine="offline", minutes=30, status="active", started=""
    )
    for fmt in ("html", "md"):
        out = report.render(Profile(), session, [], fmt).decode()
        assert out.count("Nothing captured yet") >= len(SECTION_KEYS)


@pytest.mark.slow
def test_importing_report_is_cheap():
    import subprocess
    import sys

    code = "import sys, agent.report; print('weasyprint' in sys.modules, 'jinja2' in sys.modules)"
    root = Path(report.__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True
    ).stdout
    assert out.split() == ["False", "False"]


def test_no_49_in_fixture_source():
    # Guard for the {{ 7*7 }} checks: nothing in the sample may legitimately contain 49.
    profile, _, turns = build()
    blob = profile.model_dump_json() + "".join(t.text for t in turns)
    assert not re.search(r"49", blob)


# The llm engine's draft rubric, folded into the derived one on the one "Scoring rubric" page

MODEL_RUBRIC = [
    # Restates the derived "Employees 40-250" rule.
    {
        "category": "firmographic",
        "criterion": "Between 40 and 250 employees",
        "points": 25,
        "refs": ["company_profile#1"],
    },
    # Restates the derived technology rule, though the model filed it elsewhere.
    {
        "category": "behavioural",
        "criterion": "Already runs Dentrix or Open Dental",
        "points": 10,
        "refs": ["technographics#1"],
    },
    # Cites the item the employees rule came from, but checks something no rule checks.
    {
        "category": "firmographic",
        "criterion": "Has 3 to 15 locations",
        "points": 15,
        "refs": ["company_profile#1"],
    },
    {
        "category": "behavioural",
        "criterion": "Needs two-way sync with the practice management system",
        "points": 10,
        "refs": ["evaluation_criteria#1", "objections#1"],
    },
]
ONLY_MODEL = ["Has 3 to 15 locations", "Needs two-way sync with the practice management system"]
LABEL = "Suggested by the model, check before use"


@pytest.fixture(scope="module")
def with_model() -> tuple[Profile, SessionInfo, list[Turn]]:
    """build()'s sample (without its 100 KB answer) with the llm engine's synthesis, from a
    LangChain fake chat model."""
    from agent.engines.llm.engine import LLMEngine
    from agent.interview.contract import Context
    from tests.llm_fakes import RoutedFake, settings

    reply = {"summary": [], "rubric": MODEL_RUBRIC, "negative_personas": [], "open_questions": []}
    model = RoutedFake(replies={"synthesis": json.dumps(reply)})
    profile, session, turns = build(cjk=cjk_font_installed())
    profile.synthesis = LLMEngine(settings(), model=model).synthesize(profile, Context())
    assert profile.synthesis is not None and len(profile.synthesis.rubric) == len(MODEL_RUBRIC)
    return profile, session, turns[:-2]


def test_html_shows_one_rubric_with_the_models_additions_labelled(with_model):
    html = report.render(*with_model, "html").decode()
    assert html.count(">Scoring rubric</h1>") == 1 and "Draft scoring rubric" not in html
    assert 'id="rubric"' not in html
    # Restatements are not shown twice: the derived rule stands for them.
    assert "Between 40 and 250" not in html and "Already runs Dentrix" not in html
    assert html.count("Employees 40-250") == 1
    rows = re.findall(r'<tr class="suggested">(.*?)</tr>', html, flags=re.DOTALL)
    assert [_flat(re.sub(r"<[^>]+>", "", re.sub(r"<br>|</td>", " ", r))) for r in rows] == [
        f"Has 3 to 15 locations {LABEL}; cites Company profile: &ldquo;Independent dental groups "
        "with 3-15 locations and 40-250 staff&rdquo; (15) 2",
        f"Needs two-way sync with the practice management system {LABEL}; cites Evaluation "
        "criteria: &ldquo;Two-way sync with the PMS, no double entry&rdquo;, Objections: "
        "&ldquo;Price per location comes up at the proposal stage&rdquo; (10) 8, 10",
    ]
    # Each suggestion sits in its category, after the derived rules, without a tick box.
    order = [html.index(s) for s in ("Region: US", ONLY_MODEL[0], "Technographic fit")]
    assert order == sorted(order)
    assert html.index("Signal: new COO") < html.index(ONLY_MODEL[1])
    assert not any("tickbox" in r for r in rows)
    assert "4 criteria from the same profile: 2 restate rules here" in _flat(html)


def test_markdown_shows_one_rubric_with_the_models_additions_labelled(with_model):
    md = report.render(*with_model, "md").decode()
    assert md.count("## Scoring rubric") == 1 and "Draft scoring rubric" not in md
    assert "Between 40 and 250" not in md and "Already runs Dentrix" not in md
    rows = [line for line in md.splitlines() if LABEL in line]
    assert rows == [
        f"| Firmographic (up to 50) | Has 3 to 15 locations _({LABEL}; cites Company profile: "
        "“Independent dental groups with 3-15 locations and 40-250 staff”)_ | (15) | 2 |",
        f"| Behavioural (up to 30) | Needs two-way sync with the practice management system "
        f"_({LABEL}; cites Evaluation criteria: “Two-way sync with the PMS, no double entry”, "
        "Objections: “Price per location comes up at the proposal stage”)_ | (10) | 8, 10 |",
    ]


@pytest.mark.slow
def test_pdf_has_one_rubric_page_with_the_models_additions(with_model, tmp_path):
    from pypdf import PdfReader

    path = tmp_path / "report.pdf"
    path.write_bytes(report.render(*with_model, "pdf"))
    pages = [_flat(page.extract_text() or "") for page in PdfReader(path).pages]
    assert not any("Draft scoring rubric" in p for p in pages)
    (page,) = [p for p in pages if p.startswith("Scoring rubric")]
    assert page.count(LABEL) == 2 and all(text in page for text in ONLY_MODEL)
    assert "Employees 40-250" in page and "Disqualifiers: out whatever the score" in page


def test_for_teams_acts_only_on_usable_items():
    from agent.report.playbook import for_teams

    def item(text: str, **flags) -> Item:
        return Item(text=text, evidence=[Evidence(turn=2, quote=text)], **flags)

    profile = Profile()
    kept = item("Controllers meet in the Controllers Club Slack.")
    doubt = item("Maybe the Finance Leaders podcast.", certain=False)
    gone = item("Trade shows like SaaStr.", retracted=True)
    profile.sections["channels"].items = [doubt, gone, kept]
    lines = " ".join(line for team in for_teams(profile)["channels"].values() for line in team)
    assert "Controllers Club" in lines
    assert "Finance Leaders" not in lines and "SaaStr" not in lines
