"""The joint-review pages of the report: rubric, CRM fields, team lists, conflicts, sign-off."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from agent.joint.merge import merge_sessions
from agent.profile.models import Evidence, Item
from agent.report import render as report
from agent.report.bundle import load_bundle
from agent.report.playbook import for_teams, section_lists
from agent.scoring.rubric import derive
from agent.store.db import Store
from tests.conftest import pdf_text
from tests.test_merge import FOUNDER, SALES, interview
from tests.test_report import HOSTILE, build, cjk_font_installed


@pytest.fixture(scope="module")
def single():
    """test_report's sample without its 100 KB last answer: these pages do not need it."""
    profile, session, turns = build(cjk=cjk_font_installed())
    return profile, session, turns[:-2]


@pytest.fixture(scope="module")
def merged(tmp_path_factory):
    """A stored merge of two Ledgerline respondents: the report's inputs and the merge result."""
    store = Store(tmp_path_factory.mktemp("home") / "icp.db")
    founder = interview(store, "Ledgerline", "founder", FOUNDER)
    sales = interview(store, "Ledgerline", "sales", SALES, extra=["We sometimes see G2."])
    result = merge_sessions(store, [founder.id, sales.id], "Ledgerline joint review")
    bundle = load_bundle(store, result.session.id)
    yield (bundle.profile, bundle.session, bundle.turns), result, (founder, sales)
    store.close()


def _flat(text: str) -> str:
    return " ".join(text.split())


def _pdf(tmp_path_factory, inputs) -> tuple[str, list[str]]:
    """The rendered PDF's whole text and each page's text, whitespace collapsed."""
    from pypdf import PdfReader

    path = tmp_path_factory.mktemp("pdf") / "report.pdf"
    path.write_bytes(report.render(*inputs, "pdf"))
    pages = [_flat(page.extract_text() or "") for page in PdfReader(path).pages]
    return pdf_text(path), pages


@pytest.fixture(scope="module")
def single_pdf(tmp_path_factory, single) -> tuple[str, list[str]]:
    return _pdf(tmp_path_factory, single)


@pytest.fixture(scope="module")
def merged_pdf(tmp_path_factory, merged) -> tuple[str, list[str]]:
    return _pdf(tmp_path_factory, merged[0])


@pytest.mark.slow
def test_pdf_has_rubric_crm_fields_team_lists_and_sign_off(single, single_pdf):
    text = single_pdf[0]
    rubric = derive(single[0])
    for heading in ("Scoring rubric", "CRM fields", "For marketing", "For sales", "Sign-off"):
        assert heading in text
    assert "Resolve together" not in text  # one interview: nothing to resolve
    for rule in rubric.rules:
        assert _flat(rule.label) in text
    for dq in rubric.disqualifiers:
        assert dq.code in text
    assert "Employees 40-250" in text and "ICP fit score" in text
    assert "Disqualification reason code" in text
    made = date(2025, 11, 20)
    following = (made + timedelta(days=90)).strftime("%d %B %Y")
    assert "Review date 20 November 2025" in text
    assert f"Next quarterly review {following}" in text
    assert "Name and title" in text and "Owner" in text


@pytest.mark.slow
def test_rubric_fits_on_one_page(single, single_pdf):
    pages = single_pdf[1]
    (page,) = [p for p in pages if p.startswith("Scoring rubric")]
    rubric = derive(single[0])
    for entry in [*rubric.rules, *rubric.disqualifiers]:
        assert _flat(entry.label) in page
    assert "Disqualifiers: out whatever the score" in page and "Tier: A from 80 points" in page
    (crm,) = [p for p in pages if "ICP fit score" in p]  # the CRM table is not split
    assert "ICP segment" in crm and "Disqualification reason code" in crm


@pytest.mark.slow
def test_merged_pdf_resolves_conflicts_with_both_sides(merged, merged_pdf):
    _, result, (founder, sales) = merged
    text = merged_pdf[0]
    assert "Resolve together" in text
    assert f"founder ({founder.id}), sales ({sales.id})" in text
    assert "Merged from 2 interviews (Ledgerline joint review)" in text
    for conflict in result.conflicts:
        assert _flat(conflict.title) in text
        for side in conflict.sides:
            for ev in side.evidence:
                assert _flat(ev.quote)[:60] in text
    assert "founder, turn" in text and "sales, turn" in text
    assert "agreed: founder, sales" in text
    assert "Where you already agree" in text
    assert "Decision" in text and "Owner" in text


def test_html_team_lists_follow_each_section_and_escape_user_text(single):
    html = report.render(*single, "html").decode()
    for key in ("company_profile", "customer_language", "sales_cycle"):
        section = html.split(f'id="sec-{key}"')[1].split("</section>")[0]
        assert "For marketing" in section and "For sales" in section
    language = html.split('id="sec-customer_language"')[1].split("</section>")[0]
    assert "Headline to test" in language
    assert "<script>" not in html and "&lt;script&gt;" in language
    empty = html.split('id="sec-sales_cycle"')[1].split("</section>")[0]
    assert "Nothing to act on yet" in empty


def test_markdown_has_the_review_pages_escaped(single, merged):
    md = report.render(*single, "md").decode()
    for heading in ("## Scoring rubric", "## CRM fields", "## Sign-off", "**For marketing**"):
        assert heading in md
    assert "## Resolve together" not in md
    assert not re.search(r"(?<!\\)<script", md)
    merged_md = report.render(*merged[0], "md").decode()
    assert "## Resolve together" in merged_md and "| Respondents |" in merged_md
    assert "founder, turn" in merged_md


def test_team_lists_are_derived_from_items_and_cite_turns(single):
    profile = single[0]
    lists = for_teams(profile)
    assert set(lists) == set(profile.sections)
    triggers = lists["buying_triggers"]
    first = profile.sections["buying_triggers"].items
    concrete = next(i for i in first if i.concrete)
    assert any(concrete.text[:40] in line for line in triggers["marketing"])
    assert all("(turn" in line for line in triggers["sales"])
    language = lists["customer_language"]["marketing"]
    assert any("our recall is a leaky bucket" in line for line in language)
    assert len(lists["buying_committee"]["sales"]) <= 3
    assert lists["sales_cycle"] == {
        "marketing": ["Nothing to act on yet: see this section's open question."],
        "sales": ["Nothing to act on yet: see this section's open question."],
    }
    text = " ".join(lists["technographics"]["sales"])
    assert "Dentrix" in text and HOSTILE not in text


def _text_boxes(box, inside=False):
    """(text box, is it inside a For marketing / For sales block) for every piece of text."""
    element = getattr(box, "element", None)
    classes = (element.get("class") or "").split() if element is not None else []
    inside = inside or "for-teams" in classes
    if getattr(box, "text", "").strip():
        yield box, inside
    for child in getattr(box, "children", []):
        yield from _text_boxes(child, inside)


def overlapping_team_text(html: str) -> list[str]:
    """Text of the team lists that is drawn over other text."""
    import weasyprint

    doc = weasyprint.HTML(string=html, base_url=report.templates_dir().as_uri() + "/").render()
    clashes = []
    for page in doc.pages:
        boxes = list(_text_boxes(page._page_box))
        outside = [b for b, inside in boxes if not inside]
        for box, inside in boxes:
            if not inside:
                continue
            for other in outside:
                if (
                    box.position_y < other.position_y + other.height
                    and other.position_y < box.position_y + box.height
                    and box.position_x < other.position_x + other.width
                    and other.position_x < box.position_x + box.width
                ):
                    clashes.append(box.text)
    return clashes


@pytest.mark.slow
def test_team_lists_take_their_own_space(single):
    html = report.render(*single, "html").decode()
    assert not overlapping_team_text(html)
    # the check can fail: a block that does not take its height overlaps what follows
    squashed = "<style>.for-teams { height: 2mm; overflow: visible }</style>"
    assert overlapping_team_text(html.replace("</head>", squashed + "</head>"))


def test_a_tool_they_replace_is_no_integration_to_lead_with():

    items = [
        Item(text=text, evidence=[Evidence(turn=turn, quote=text)], concrete=True)
        for turn, text in [
            (4, "Before us the shift plan lived in a giant Excel sheet."),
            (6, "They run NetSuite and Ramp."),
        ]
    ]
    lists = section_lists("technographics", items)
    marketing = " ".join(lists["marketing"])
    assert "Switch campaign for teams still on Excel" in marketing
    assert "Technographic audience: NetSuite or Ramp; lead with the integration" in marketing
    assert "Excel; lead with the integration" not in marketing
    assert "do they run NetSuite or Ramp?" in " ".join(lists["sales"])


@pytest.mark.parametrize(
    "text, replaced, current",
    [
        ("They replaced QuickBooks with NetSuite.", ["QuickBooks"], ["NetSuite"]),
        (
            "Most are migrating off AVImark or Cornerstone, often old.",
            ["AVImark", "Cornerstone"],
            [],
        ),
        ("They still run NetSuite and want it connected.", [], ["NetSuite"]),
        ("They use Ramp instead of corporate cards.", [], ["Ramp"]),
        ("They're used to Salesforce and won't leave it.", [], ["Salesforce"]),
    ],
)
def test_only_the_tools_named_after_a_switch_count_as_replaced(text, replaced, current):
    item = Item(text=text, evidence=[Evidence(turn=2, quote=text)], concrete=True)
    lists = section_lists("technographics", [item])
    marketing = " ".join(lists["marketing"])
    assert ("Switch campaign" in marketing) == bool(replaced)
    for name in replaced:
        assert name in marketing.split("Switch campaign")[1].split("(turn")[0]
    for name in current:
        assert f"Technographic audience: {name}" in marketing
