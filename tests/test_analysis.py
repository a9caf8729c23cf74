"""Answer analysis: statements, quotes, hedges, numbers, named things."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.lang import load_pack
from agent.reading.quantities import find_quantities
from agent.reading.quoteback import hedge_context, quote_back, quote_backs
from agent.reading.statements import (
    clean_answer,
    find_entities,
    find_quotes,
    is_dont_know,
    is_exhausted,
    is_filler,
    read_statement,
    split_statements,
)
from tests.conftest import persona_statements, texts_of

PACK = load_pack()
GUIDE = PACK.guide


def texts(answer: str) -> list[str]:
    return [s.text for s in split_statements(answer)]


def test_statements_are_exact_substrings_and_keep_quotes_whole():
    answer = (
        'Well, one owner told us "it is chaos. Total chaos." Then they signed. '
        "e.g. Acme Inc. went live in 2.5 weeks."
    )
    spans = split_statements(answer)
    assert [answer[s.start : s.end] for s in spans] == [s.text for s in spans]
    assert texts(answer) == [
        'one owner told us "it is chaos. Total chaos."',
        "Then they signed.",
        "e.g. Acme Inc. went live in 2.5 weeks.",
    ]


def test_a_list_marker_is_not_part_of_the_statement_and_does_not_end_one():
    answer = (
        "Our best:\n1. Fintech, 2.5x faster.\n 2) Logistics\n- Retail - mostly grocery\nIt. - no"
    )
    assert texts(answer) == [
        "Our best:",
        "Fintech, 2.5x faster.",
        "Logistics",
        "Retail - mostly grocery",
        "It.",
        "- no",  # a dash inside a line is no list marker
    ]
    assert texts("We had 2. Then 3.") == ["We had 2.", "Then 3."]


def test_single_quotes_with_apostrophes_inside():
    answer = "Dentists say 'my patients are old, they won't text'. We show them data."
    assert [q.text for q in find_quotes(answer)] == ["my patients are old, they won't text"]
    assert len(split_statements(answer)) == 2


def test_curly_and_one_word_quotes():
    assert [q.text for q in find_quotes("They call it “the invoice black hole”.")] == [
        "the invoice black hole"
    ]
    assert find_quotes('We use "Slack" a lot.') == []


@pytest.mark.parametrize(
    "text, kind, low, high",
    [
        ("between 200 and 1,000 employees", "employees", 200, 1000),
        ("$2M to $10M ARR", "revenue", 2e6, 1e7),
        ("45 to 60 days", "duration", 45, 60),
        ("3-4 months", "duration", 90, 120),
        ("six weeks", "duration", 42, 42),
        ("within 2 wks", "duration", 14, 14),  # as typed in a chat
        ("3 mos", "duration", 90, 90),
        ("2 yrs", "duration", 730, 730),
        ("15-60 ppl", "employees", 15, 60),
        ("about 40%", "percent", 40, 40),
        ("around $30,000 a year", "money", 30000, 30000),
        ("€12,000", "money", 12000, 12000),
        ("3 to 8 chairs", "count", 3, 8),
        ("more than 2,000 invoices", "volume", 2000, None),
        ("under 50 employees", "employees", None, 50),
        ("from 300 until 5.000 employees", "employees", 300, 5000),
        ("revenue of 10 to 50 million a year", "revenue", 10e6, 50e6),
        ("about 15 % of them", "percent", 15, 15),
        ("6 € per machine", "money", 6, 6),
        ("3 hires a yr", "count", 3, 3),
        ("1.200,50 € per year", "money", 1200.5, 1200.5),
        ("two to five months", "duration", 60, 150),
        ("80k USD", "money", 80000, 80000),
    ],
)
def test_quantities(text, kind, low, high):
    (q,) = find_quantities(text)
    assert (q.kind, q.low, q.high) == (kind, low, high)


def test_lone_small_numbers_are_not_quantities():
    assert find_quantities("We have 2 options") == []


@pytest.mark.parametrize(
    "text", ["Our phone reps hate it.", "Often reps ignore the notes.", "Someone in HR signs off."]
)
def test_number_words_inside_other_words_are_no_numbers(text):
    assert find_quantities(text) == []


@pytest.mark.parametrize("text", ["12 HR managers", "companies with 200 HR people", "3 MO clinics"])
def test_hr_and_mo_in_capitals_are_no_hours_or_months(text):
    assert all(q.kind != "duration" for q in find_quantities(text))


def test_entities_skip_ordinary_sentence_starts():
    assert find_entities("Dentists love it. They run NetSuite and read G2.") == ["NetSuite", "G2"]
    assert "Henry Schein" in find_entities("Reps from Patterson and Henry Schein call.")


def test_hedges_make_statements_vague_and_numbers_concrete():
    vague = read_statement(
        split_statements("Mostly growing companies, the usual mid-market.")[0],
        PACK,
        "company_profile",
    )
    concrete = read_statement(
        split_statements("They have 200 to 1,000 employees.")[0], PACK, "company_profile"
    )
    assert not vague.concrete and {h[1] for h in vague.hedges} >= {"generic", "number"}
    assert concrete.concrete


@pytest.mark.parametrize(
    "text, hedge",
    [
        ("series b-ish, us + uk", "series b-ish"),
        ("50ish people", "50ish"),
        ("companies that are kinda big", "kinda"),
        ("30 days, ish", "ish"),
        ("we're 50-ish people", "50-ish"),
        ("teams of 10-20ish reps", "10-20ish"),
        ("mostly uk-ish", "uk-ish"),
    ],
)
def test_chat_hedges(text, hedge):
    hedges = read_statement(split_statements(text)[0], PACK).hedges
    assert [h.text for h in hedges if h.text == hedge] == [hedge]
    for plain in ("They publish in Polish.", "Our biggest prob is onboarding.", "Ish from Gong."):
        assert not read_statement(split_statements(plain)[0], PACK).hedges


def test_a_lot_is_a_quantity_hedge_only_as_a_lot_of():
    def hedges(text: str) -> list[str]:
        return [h[0] for h in read_statement(split_statements(text)[0], PACK).hedges]

    assert hedges("We talk about this a lot internally.") == []
    assert hedges("A lot of old equipment.") == ["A lot of"]


def test_hedge_context_quotes_a_little_more():
    assert hedge_context("Word of mouth mostly, and some marketing.", "some") == "some marketing"
    assert hedge_context("Usually it breaks.", "Usually") == "usually it breaks"


def test_hedge_context_stops_at_a_phrase_boundary():
    assert hedge_context("Some buildings just don't have the savings.", "Some") == "some buildings"
    assert hedge_context("Small shops don't work.", "Small") == "small shops"
    assert hedge_context("We turn some people away.", "some") == "some people"
    assert hedge_context("A few others get pulled in.", "A few") == "a few others"
    assert hedge_context("There is some stuff we walk away from.", "some") == "some stuff"
    assert hedge_context("It's long usually.", "long") == "long"
    assert hedge_context("Some buildings don’t have the savings.", "Some") == "some buildings"
    assert hedge_context("Some customers can wait.", "Some") == "some customers"
    assert hedge_context("Handsome returns for some clients.", "some") == "some clients"
    assert hedge_context("A lot of old equipment.", "A lot of") == "a lot of old equipment"
    assert hedge_context("Mid-market firms in the Midwest.", "Mid-market") == (
        "mid-market firms in the Midwest"
    )


@pytest.mark.parametrize(
    "answer",
    [
        "I don't know.",
        "No idea, to be honest.",
        "Honestly, I don’t know. We haven't really tracked that.",
        "Don't know.",
        "I don't have that number handy, honestly.",
        "I'd be guessing. Marketing doesn't see that part of the funnel.",
        "That I cannot say, we have never measured it.",
        "Ha, I honestly couldn't tell you, we probably have it in a spreadsheet somewhere.",
        "N/A",
        "idk",
        "TBD.",
        "Pass.",
        "idk tbh",
        "honestly idk",
        "N/A for us",
        "pass for now",
    ],
)
def test_dont_know(answer):
    assert is_dont_know(answer, PACK)


@pytest.mark.parametrize(
    "answer",
    [
        "Mostly they pass their audit and feel safer.",
        "A GC once said \"we don't know what we've signed\".",
        "Not sure, maybe 50 people.",
        "That's all I've got on 200 to 500 employees.",
    ],
)
def test_an_answer_with_substance_is_not_a_decline(answer):
    assert not is_dont_know(answer, PACK)


def test_thats_all_is_a_decline_that_also_says_the_topic_is_used_up():
    assert is_dont_know("That's all I've got on that one.", PACK)
    assert is_exhausted("That's all I've got on that one.", PACK)
    assert is_exhausted("Nothing else comes to mind, honestly.", PACK)
    assert not is_exhausted("I don't know.", PACK)
    assert is_dont_know("I'd have to ask our delivery lead, I genuinely don't know.", PACK)


def test_a_long_answer_mentioning_not_sure_is_not_a_decline():
    answer = "Not sure, but " + "they run NetSuite and have 300 employees. " * 5
    assert not is_dont_know(answer, PACK)


def test_filler():
    assert is_filler("Good question.", PACK)
    assert not is_filler("Good customers cut close from ten days to four.", PACK)


def test_clean_answer_drops_control_characters_but_keeps_text():
    assert clean_answer("  a\x00b\x1b[31mc\u200f שלום 中文 🙂\n") == "ab[31mc\u200f שלום 中文 🙂"


@given(st.text(max_size=400))
def test_statements_never_invent_text(answer):
    for span in split_statements(answer):
        assert answer[span.start : span.end] == span.text
        assert span.text.strip() == span.text and span.text
    for quote in find_quotes(answer):
        assert answer[quote.start : quote.end] == quote.text


@pytest.mark.parametrize(
    "statement, hedge, kind, expected",
    [
        # A phrase with something in it is quoted back as it is.
        ("Partners, and some trade shows.", "some", "variety", ("some trade shows", "variety")),
        ("It depends.", "It depends", "depends", ("it depends", "depends")),
        ("A couple of months.", "A couple of", "number", ("a couple of months", "number")),
        ("A few people at the plant.", "A few", "number", ("a few people at the plant", "number")),
        # Nothing to count in "a lot of hassle": ask for an example instead.
        (
            "Cash back without a lot of hassle.",
            "a lot of",
            "number",
            ("a lot of hassle", "generic"),
        ),
        # A phrase that says nothing quotes the words before it.
        ("Referrals, a lot of it.", "a lot of", "number", ("Referrals", "generic")),
        (
            "Less downtime, better use of the equipment, that kind of thing.",
            "that kind of thing",
            "generic",
            ("better use of the equipment", "generic"),
        ),
        (
            "Word of mouth, and we go to a few shows, the usual stuff.",
            "the usual",
            "generic",
            ("we go to a few shows", "generic"),
        ),
        (
            "Developers hate flaky tests, they say it in all kinds of ways.",
            "all kinds of",
            "variety",
            ("Developers hate flaky tests", "generic"),
        ),
        (
            "Price and service, like always, the usual.",
            "the usual",
            "generic",
            ("Price and service", "generic"),
        ),
        ("Some events here and there.", "Some", "variety", ("some events", "variety")),
        # Quote marks and punctuation are not quoted back, and asides are skipped.
        (
            '"We already have Gusto," that kind of thing.',
            "that kind of thing",
            "generic",
            ("We already have Gusto", "generic"),
        ),
        ("If it breaks, whatever.", "whatever", "generic", None),
        ("I'd say the usual.", "the usual", "generic", ("the usual", "generic")),
        # "some weeks" asks for a number, "a lot of stress" for an example.
        ("It takes some weeks.", "some", "variety", ("some weeks", "number")),
        ("A lot of stress.", "A lot of", "number", ("a lot of stress", "generic")),
        ("A lot of money.", "A lot of", "number", ("a lot of money", "number")),
        # And when there is nothing before it either, there is nothing to quote.
        ("A lot of it, honestly.", "A lot of", "number", None),
        ("Not many.", "many", "number", None),
    ],
)
def test_quote_back_picks_words_worth_quoting_and_the_follow_up_they_need(
    statement, hedge, kind, expected
):
    assert quote_back(statement, hedge, kind) == expected


def quoted_back(text: str) -> list[tuple[str, str, float]]:
    """What the interview would quote back from a one-statement answer (hedges it would ask
    about, not a lone "mostly")."""
    span = split_statements(text)[0]
    return [q for q in quote_backs(span.text, read_statement(span, PACK).hedges) if q[2] >= 1]


def test_each_use_of_a_hedge_is_quoted_back_from_its_own_place():
    assert quoted_back("At some point we tried ads, now some podcasts.") == [
        ("some podcasts", "variety", 1)
    ]
    assert quoted_back("It's a small world, small shops mostly.") == [("small shops", "number", 1)]
    assert [q[0] for q in quoted_back("Events, some trade shows and some webinars.")] == [
        "some trade shows",
        "some webinars",
    ]


def test_a_phrase_that_says_nothing_is_quoted_with_the_words_before_it():
    assert quoted_back("They find us all kinds of ways.") == [
        ("They find us all kinds of ways", "variety", 2)
    ]
    assert quoted_back('They say "we already have a vendor", the usual.') == [
        ("we already have a vendor", "generic", 2)
    ]


def test_the_big_one_and_a_small_world_are_no_sizes():
    def hedges(text: str) -> list[str]:
        return [h[0] for h in read_statement(split_statements(text)[0], PACK).hedges]

    assert hedges("Price is the big one.") == []
    assert hedges("It's a small world.") == []
    assert hedges("Big ones don't fit.") == ["Big"]
    assert hedges("They count how many clicks it takes.") == []


def _every_cue_scanned(text: str, guide) -> tuple:
    """Section scores with every cue list scanned (what sections._scores skips must not count)."""
    from agent.reading import sections
    from agent.reading.statements import normalise

    text, out = normalise(text), []
    for key, section in guide.sections.items():
        counts = [
            min(len({m.group(0).lower() for m in pattern.finditer(text)}), 2)
            for pattern in (section.defining.pattern, section.strong.pattern, section.weak.pattern)
        ]
        weights = (sections.DEFINING, sections.STRONG, sections.WEAK)
        out.append((key, sum(w * c for w, c in zip(weights, counts, strict=True))))
    return tuple(out)


def test_skipping_cues_a_text_cannot_match_never_changes_a_score():
    from agent.reading import sections

    texts = ["Ｗe run NetSuite", "ſpreadsheets everywhere", "They run SAP and the CFO signs."]
    for text in texts + persona_statements():
        assert sections._scores(text, PACK.guide) == _every_cue_scanned(text, PACK.guide), text


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz -'?&%$/0123456789SAPCRMUS", max_size=60))
def test_skipped_cues_hold_for_any_ascii_text(text):
    from agent.reading import sections

    assert sections._scores(text, PACK.guide) == _every_cue_scanned(text, PACK.guide)


def _cue_words() -> list[str]:
    """The words of the cues themselves, so generated texts hit cues, near misses and overlaps."""
    import re

    words = set()
    for section in PACK.guide.sections.values():
        for cue in section.cues.defining + section.cues.strong + section.cues.weak:
            words.update(w for w in re.findall(r"[A-Za-z0-9%$/'-]+", cue) if len(w) > 1)
    return sorted(words)


@given(
    texts_of(
        _cue_words(),
        ["they", "we", "the", "are", "on", "$40k", "30%", "of", "in", "a"],
        [" ", ", ", " - "],
        14,
    )
)
def test_skipped_cues_hold_for_texts_made_of_cue_words(text):
    from agent.reading import sections

    for variant in (text, text.capitalize(), text.upper()):
        assert sections._scores(variant, PACK.guide) == _every_cue_scanned(variant, PACK.guide)


def test_the_first_statement_a_new_guide_scores_sees_every_cue():
    """The cue lists are compiled on first use; the prefilter must know them before it is asked
    which of them a text can match."""
    from agent.lang.guide import Guide
    from agent.reading import sections

    fresh = Guide.model_validate(PACK.guide.model_dump())
    text = "They run NetSuite and the CFO signs; referrals from accountants."
    assert sections._scores(text, fresh) == _every_cue_scanned(text, fresh)
    assert max(sections.section_scores(text, fresh).values()) > 0
