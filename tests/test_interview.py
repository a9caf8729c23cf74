"""The interview loop: pacing, no repeats, commands, durability and resume."""

import pytest

from agent.interview.loop import EmptyAnswer, Interview
from agent.interview.planner import State, normalise_question, plan, uncovered_facets
from agent.profile.models import SECTION_KEYS, verify_evidence
from tests.conftest import persona_paths, run_persona


def answers_by_turn(store, sid):
    return {t.seq: t.text for t in store.turns(sid) if t.speaker == "respondent"}


@pytest.mark.parametrize("path", persona_paths()[:2], ids=lambda p: p.stem)
def test_full_interview_asks_every_section_once_and_never_repeats(store, engine, path):
    interview = run_persona(store, engine, path)
    questions = [t for t in store.turns(interview.session.id) if t.kind == "question"]
    texts = [normalise_question(q.text) for q in questions]
    assert len(texts) == len(set(texts)), "a question was asked twice"
    assert {q.topic for q in questions} >= set(SECTION_KEYS)
    assert len(questions) <= 30
    assert interview.done and store.session(interview.session.id).status == "complete"
    assert verify_evidence(interview.profile, answers_by_turn(store, interview.session.id)) == []


def test_short_budget_paces_to_fewer_questions(store, engine):
    path = persona_paths()[0]
    interview = run_persona(store, engine, path, minutes=10)
    questions = [t for t in store.turns(interview.session.id) if t.kind == "question"]
    assert 6 <= len(questions) <= 10
    assert questions[-1].topic == "close"


def test_empty_answer_is_not_stored(store, engine):
    interview = Interview.start(store, engine)
    before = len(store.turns(interview.session.id))
    with pytest.raises(EmptyAnswer):
        interview.answer("  \n\t ")
    assert len(store.turns(interview.session.id)) == before


def test_skip_leaves_the_topic_and_marks_it_declined(store, engine):
    interview = Interview.start(store, engine)
    interview.answer("We sell AP automation.")
    assert interview.question.topic == "company_profile"
    nxt = interview.skip()
    assert nxt.topic == "technographics"
    assert interview.profile.sections["company_profile"].status == "declined"


def test_done_asks_the_closing_question_then_ends(store, engine):
    interview = Interview.start(store, engine)
    interview.answer("We sell AP automation.")
    interview.answer("Companies with 200 to 1,000 employees in the US, run NetSuite.")
    closing = interview.wrap_up()
    assert closing.topic == "close"
    assert "missing or wrong" in closing.text
    assert "200 to 1,000" in closing.preface
    assert interview.answer("Also Canada.") is None and interview.done


def test_dont_know_twice_moves_on(store, engine):
    interview = Interview.start(store, engine)
    interview.answer("We sell AP automation.")
    interview.answer("No idea.")
    assert interview.question.topic == "technographics"


def test_thats_all_leaves_the_topic_for_good(store, engine):
    interview = Interview.start(store, engine, minutes=30)
    interview.answer("We sell AP automation.")
    interview.answer("Mid-market companies, it depends.")
    interview.answer("Companies with 200 to 1,000 employees in the US, mostly distributors.")
    assert interview.question.topic == "company_profile"
    interview.answer("That's all I've got on that one.")
    assert interview.question.topic == "technographics"
    assert interview.state.exhausted == ["company_profile"]
    assert interview.state.dont_knows.get("company_profile", 0) == 0
    while interview.question is not None and interview.question.topic != "close":
        interview.answer("No idea.")
    topics = [t.topic for t in store.turns(interview.session.id) if t.kind == "question"]
    after = topics[topics.index("technographics") :]
    assert "company_profile" not in after, "went back to a topic the respondent closed"


def test_a_productive_answer_is_followed_by_what_else(store, engine):
    interview = Interview.start(store, engine)
    interview.answer("We sell AP automation.")
    interview.answer("Companies, the usual kind.")
    interview.answer("They run NetSuite and have 200 to 1,000 employees; many are distributors.")
    assert interview.question.topic == "company_profile"
    assert interview.state.last.probe == "more"
    assert interview.question.text == interview.guide.sections["company_profile"].more


def test_one_no_idea_on_a_follow_up_gets_another_angle(store, engine):
    interview = Interview.start(store, engine)
    interview.answer("We sell AP automation.")
    interview.answer("Companies, the usual kind.")
    first = interview.question.text
    interview.answer("No idea, to be honest.")
    assert interview.question.topic == "company_profile"
    assert interview.question.text != first
    interview.answer("Hard to say.")
    assert interview.question.topic == "technographics"


def test_resume_continues_at_the_same_question(store, engine):
    interview = Interview.start(store, engine, company="Acme")
    interview.answer("We sell AP automation.")
    interview.answer("Mid-market companies, it depends.")
    pending = interview.question
    again = Interview.resume(store, engine, interview.session.id[:5])
    assert again.question == pending
    assert again.profile == interview.profile


def test_resume_processes_an_answer_stored_just_before_a_crash(store, engine):
    interview = Interview.start(store, engine)
    interview.answer("We sell AP automation.")
    q = interview.question
    # The crash window: the answer is committed, the process dies before extraction.
    store.add_turn(
        interview.session.id, "respondent", "They have 200 to 1,000 employees.", q.topic, "answer"
    )
    resumed = Interview.resume(store, engine, interview.session.id)
    items = resumed.profile.sections["company_profile"].items
    assert [i.text for i in items] == ["They have 200 to 1,000 employees."]
    assert resumed.question.seq > q.seq
    # Resuming again does not process the answer twice.
    twice = Interview.resume(store, engine, interview.session.id)
    assert twice.question == resumed.question
    assert twice.profile == resumed.profile


def test_terminal_chat_shows_a_streamed_question_once(store, engine):
    from io import StringIO

    from agent.frontends.chat import run_chat
    from agent.interview.contract import Engine, Wording

    class Streaming(Engine):
        """The offline engine, but each question is handed out word by word first."""

        name = "offline"

        def word(self, action, profile, context):
            wording = engine.word(action, profile, context)
            for piece in wording.text.split(" "):
                if context.on_token:  # none yet when start() asks the first question
                    context.on_token(piece + " ")
            return Wording(wording.text, wording.preface)

        def extract(self, *args):
            return engine.extract(*args)

    interview = Interview.start(store, Streaming())
    answers = iter(["We sell AP automation.", "/done", "Nothing missing."])
    out, err = StringIO(), StringIO()
    assert run_chat(interview, out, err, read=lambda: next(answers)) is True
    shown = out.getvalue()
    second = "Think of the customers you'd most like to clone. What kind of companies are they?"
    assert shown.count("What kind of companies are they?") == 1
    assert second.replace(" ", "") in shown.replace(" ", "").replace("\n", "")
    assert "[Company profile" in shown and interview.done


def profile_after(store, engine, answer: str) -> Interview:
    """An interview whose first topic question got `answer`."""
    interview = Interview.start(store, engine)
    interview.answer("We sell fleet telematics.")
    interview.answer(answer)
    return interview


def test_a_section_filled_by_volunteered_answers_is_still_asked(store, engine):
    interview = profile_after(
        store,
        engine,
        "Oilfield service companies with 40 to 400 pieces of equipment in the Permian. "
        "The fleet manager feels the pain first and champions us to the VP of Operations. "
        "The VP of Operations signs anything over $100,000, and the CFO owns the capex budget. "
        "HSE can block any deal during the safety review and the IT director influences it.",
    )
    guide = interview.guide
    assert not uncovered_facets("buying_committee", interview.profile, guide, interview.state)
    before = guide.order[: guide.order.index("buying_committee")]
    state = State(phase="sections", current=before[-1], visited=before, exhausted=[before[-1]])
    state.questions = len(before) + 1
    (first, *_) = plan(state, interview.profile, guide, budget=30)
    assert first.section == "buying_committee"


def test_quoted_words_in_the_language_bank_are_not_asked_for_again(store, engine):
    interview = profile_after(
        store,
        engine,
        'A plant manager told me "we find out what we used a month after we used it". '
        'Maintenance says "the compressors run all weekend and nobody knows".',
    )
    guide = interview.guide
    words = guide.sections["customer_language"].words
    state = State(phase="sections", current="customer_language", visited=["customer_language"])
    state.asked["customer_language"] = 2
    state.questions = 3
    actions = plan(state, interview.profile, guide, budget=30)
    assert "facet:verbatim" not in [a.probe for a in actions if a.section == "customer_language"]
    assert words not in [engine.word(a, interview.profile).text for a in actions[:3]]


def test_the_pronouns_it_and_us_cover_no_facet():
    from agent.lang import load_guide
    from agent.profile.models import Evidence, Item, Profile

    guide, profile = load_guide(), Profile()
    for key, text in [
        ("buying_committee", "The ops manager finds us and runs it."),
        ("company_profile", "Clinics that need us, with 5 to 40 dentists."),
    ]:
        profile.sections[key].items.append(Item(text=text, evidence=[Evidence(turn=2, quote=text)]))
    assert "blocker" in uncovered_facets("buying_committee", profile, guide, State())
    assert "geography" in uncovered_facets("company_profile", profile, guide, State())
    profile.sections["company_profile"].items[0].text += " All in the US."
    assert "geography" not in uncovered_facets("company_profile", profile, guide, State())


def test_the_second_pass_goes_first_where_the_fewest_answers_said_something():
    """Three sentences from one answer are thinner evidence than two answers."""
    from agent.lang import load_guide
    from agent.profile.models import Evidence, Item, Profile

    guide, profile = load_guide(), Profile()
    for key, turn, text in [
        ("technographics", 4, "They run NetSuite."),
        ("technographics", 4, "Payroll sits in ADP."),
        ("technographics", 4, "Stock counts live in Excel."),
        ("channels", 6, "Most find us on G2."),
        ("channels", 8, "Two accounting firms refer us."),
    ]:
        item = Item(text=text, evidence=[Evidence(turn=turn, quote=text)], concrete=True)
        profile.sections[key].items.append(item)
    for key in guide.order:
        if key not in ("technographics", "channels"):
            profile.sections[key].items = [
                Item(text=f"{key} {n}.", evidence=[Evidence(turn=n, quote="x")], concrete=True)
                for n in (10, 12, 14)
            ]
    state = State(phase="revisit", current="sales_cycle", visited=list(guide.order))
    state.questions = 20
    state.gained = {"technographics": 3, "channels": 1}
    first = plan(state, profile, guide, budget=30)[0]
    assert first.section == "technographics"


def test_a_vague_phrase_in_the_language_bank_is_followed_up_for_words_not_numbers(engine):
    from agent.interview.planner import Action
    from agent.profile.models import Profile

    def hedge_probe(section: str, phrase: str = "too many alerts", hedge: str = "number") -> str:
        action = Action(kind="probe", section=section, probe="hedge", phrase=phrase, hedge=hedge)
        return engine.word(action, Profile()).text

    assert hedge_probe("customer_language") == (
        'You said "too many alerts". What exact words do customers use for that?'
    )
    assert "number or range" in hedge_probe("objections")
    assert "On what" in hedge_probe("customer_language", "it depends", "depends")


def test_a_paraphrase_in_the_language_bank_still_gets_asked_for_the_exact_words():
    from agent.lang import load_guide
    from agent.profile.models import Evidence, Item, Profile

    guide = load_guide()
    said = "Honestly they just say the month-end close is a nightmare for everyone."

    def with_item(text: str) -> list[str]:
        profile = Profile()
        item = Item(text=text, evidence=[Evidence(turn=4, quote=said)], concrete=True)
        profile.sections["customer_language"].items.append(item)
        state = State(phase="sections", current="customer_language")
        state.visited, state.asked, state.questions = (
            ["customer_language"],
            {"customer_language": 2},
            5,
        )
        return [a.probe for a in plan(state, profile, guide, budget=30) if a.probe]

    assert "facet:verbatim" in with_item("Customers find closing the books painful")
    assert "facet:verbatim" not in with_item("the month-end close is a nightmare")


def test_a_correction_to_the_closing_summary_is_filed_and_noted_for_the_team(store, engine):
    from agent.quarterly.reextract import reextract

    interview = Interview.start(store, engine)
    interview.answer("We sell recall software to dental practices.")
    interview.answer("Independent practices with 3 to 8 chairs.")
    question = interview.wrap_up()
    assert question is not None and question.topic == "close"
    follow_up = interview.answer(
        "Actually, the sweet spot is 5 to 12 chairs. Study clubs refer us."
    )
    assert follow_up.topic == "close" and "instead" in follow_up.text  # one follow-up on it
    assert interview.answer("Our last one had nine chairs and two hygienists.") is None
    assert interview.done
    profile = interview.profile
    fit = [i.text for i in profile.sections["company_profile"].items]
    assert fit == [
        "Independent practices with 3 to 8 chairs.",
        "The sweet spot is 5 to 12 chairs.",
    ]
    (note,) = profile.sections["company_profile"].notes
    assert (
        note.startswith("Corrected at the closing summary")
        and '"The sweet spot is 5 to 12 chairs"' in note
    )
    assert profile.sections["channels"].notes == []  # an addition, not a correction
    turns = store.turns(interview.session.id)
    again = reextract(store.session(interview.session.id), turns, engine)
    assert again.sections["company_profile"].notes == [note]


@pytest.mark.parametrize(
    "closing, noted",
    [
        ("That’s wrong. The sweet spot is 5 to 12 chairs.", True),
        ("Looks good. Actually, the sweet spot is 5 to 12 chairs.", True),
        ("No, the sweet spot is 5 to 12 practices with 3 owners.", True),
        ("- Actually, the sweet spot is 5 to 12 chairs.", True),
        ("Nothing is wrong, but add that the best ones have 4 hygienists.", False),
        ("Actually, one more thing: the best ones also have 4 hygienists.", False),
        ("Solo practices aren't worth it.", False),  # an addition, to an empty section
    ],
)
def test_only_a_correction_at_the_closing_summary_becomes_a_note(store, engine, closing, noted):
    interview = Interview.start(store, engine)
    interview.answer("We sell recall software to dental practices.")
    interview.answer("Independent practices with 3 to 8 chairs.")
    interview.wrap_up()
    interview.answer(closing)
    notes = [n for s in interview.profile.sections.values() for n in s.notes]
    assert bool(notes) == noted, notes


def test_a_correction_with_no_cue_goes_where_the_words_it_corrects_are(store, engine):
    interview = Interview.start(store, engine)
    interview.answer("We sell recall software to dental practices.")
    interview.answer("Independent practices with 3 to 8 chairs.")
    interview.wrap_up()
    interview.answer("It should be 5 to 12 chairs, not 3 to 8.")
    fit = interview.profile.sections["company_profile"]
    assert [i.text for i in fit.items][-1] == "It should be 5 to 12 chairs, not 3 to 8."
    assert len(fit.notes) == 1 and "5 to 12 chairs" in fit.notes[0]


def test_the_closing_summary_states_ranges_tools_and_exclusions_and_is_rated(store, engine):
    interview = Interview.start(store, engine)
    interview.answer("We sell accounts-payable automation to finance teams.")
    for answer in [
        "Our best customers have 200 to 1,000 employees and about $50M in revenue.",
        "They run NetSuite or Sage Intacct, with Salesforce for the CRM.",
    ]:
        interview.answer(answer)
    closing = interview.wrap_up()
    assert closing.topic == "close" and "1 (not at all) to 4 (exactly)" in closing.text
    assert "200 to 1,000 employees" in closing.preface
    assert "NetSuite" in closing.preface and "Sage Intacct" in closing.preface
    assert interview.answer("3, that is about right.") is None  # no correction: no follow-up
    assert interview.done and interview.rating == 3
    assert store.last_step(interview.session.id).meta["closing_rating"] == 3


def test_a_low_rating_gets_one_follow_up_and_only_one(store, engine):
    interview = Interview.start(store, engine)
    interview.answer("We sell recall software to dental practices.")
    interview.answer("Independent practices with 3 to 8 chairs.")
    interview.wrap_up()
    follow_up = interview.answer("2")
    assert follow_up is not None and follow_up.topic == "close"
    assert interview.answer("2. Actually, group practices buy too.") is None
    assert interview.done
