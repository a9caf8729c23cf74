"""Reading what was meant: non-answers, questions back, polarity, denials, corrections, content
kept after a hedge, Unsorted, and what the summary and the rules may rest on."""

import pytest

from agent.engines.offline import file_answer
from agent.interview.loop import Interview
from agent.interview.pipeline import merge, merge_answer
from agent.lang import load_pack
from agent.profile.models import UNSORTED, Profile
from agent.quarterly.reextract import guess_topic
from agent.reading.meaning import answer_act, read_answer
from agent.report.summary import summarize
from agent.scoring.rubric import derive

PACK = load_pack()


def filed(answer: str, topic: str | None, turn: int = 3) -> Profile:
    profile = Profile()
    for section, item in file_answer(answer, turn, topic, PACK):
        merge(profile, section, item)
    return profile


def texts(profile: Profile, key: str) -> list[str]:
    return [i.text for i in profile.items_of(key)]


@pytest.mark.parametrize(
    ("answer", "act"),
    [
        ("yeah thats pretty much it", "done"),
        ("Nothing further.", "done"),
        ("this is all what I know about it", "done"),
        ("Drawing a blank beyond that", "done"),
        ("More I cannot say about this.", "done"),
        ("That's about it.", "done"),
        ("idk tbh", "dont_know"),
        ("Man, I honestly couldn't tell you, that's not something we ever looked at.", "dont_know"),
        (
            "Gosh, I couldn't tell you. It's one of those things I keep meaning to track.",
            "dont_know",
        ),
        ("hm no idea tbh, would have to dig thru hubspot for that one", "dont_know"),
        ("Do you mean on price or on product?", "question_back"),
        ("like which ones, too big or just bad fits?", "question_back"),
        ("Meaning?", "question_back"),
        ("don't get me started on that", "aside"),
        ("So here's a story.", "aside"),
        ("Top three:", "aside"),
        ("I hope my English is clear enough.", "aside"),
        ("It depends.", "aside"),
        ("Tough to say, it varies. Two to five months usually, because legal is slow.", "content"),
        ("Not sure of the exact figure, but roughly six weeks.", "content"),
        ("Nothing else comes to mind on that one.", "done"),
        ("Can't wring anything more out of that, sorry.", "done"),
        ("Honestly I couldn't say, we never tallied it.", "dont_know"),
        ("Nothing fancy, spreadsheets and email.", "content"),
        ("Exhausted on this one.", "done"),
        ("I think I've run dry on that.", "done"),
        ("Honestly that's all I've got on it.", "done"),
        ("I can send you later our Pipedrive export if it helps.", "aside"),
        ("Glad to forward you the win/loss deck afterwards.", "aside"),
        ("We could email you our pipeline export later, it's 300 rows.", "aside"),
        ("They email the signed order later that week.", "content"),
        ("Nothing else works for them.", "content"),
    ],
)
def test_what_an_answer_does_whatever_its_wording(answer, act):
    assert answer_act(read_answer(answer, PACK, "sales_cycle")) == act


@pytest.mark.parametrize(
    "answer",
    [
        "yeah thats pretty much it",
        "Nothing more is coming in my mind.",
        "Drawing a blank beyond that",
        "don't get me started on that",
        "So here's a story.",
        "Top three:",
        "Do you mean on price or on product?",
    ],
)
def test_non_answers_are_never_items(answer):
    profile = filed(answer, "buying_triggers")
    assert profile.all_items() == [] and profile.unsorted == []


def test_a_remark_is_not_glued_onto_the_fact_before_it():
    profile = filed("Mostly 3PLs in Texas. Anyway, that's how it goes.", "company_profile")
    assert texts(profile, "company_profile") == ["Mostly 3PLs in Texas."]


@pytest.mark.parametrize(
    "remark",
    ["We argue about this in marketing every quarter.", "Our team has opinions on this one."],
)
def test_a_remark_about_the_people_in_the_interview_is_kept_with_doubt(remark):
    alone = filed(remark, "company_profile")  # said on its own: filed, but not certain
    assert [i.certain for _, i in alone.all_items()] == [False]
    profile = filed(f"Mostly 3PLs in Texas. {remark}", "company_profile")
    kept = {i.text: i.certain for _, i in profile.all_items()}
    assert kept == {"Mostly 3PLs in Texas.": True}  # after a fact: left for the joint review
    assert texts(profile, UNSORTED) == [remark]
    assert summarize(profile).who_we_sell_to[0].text == "Mostly 3PLs in Texas."


@pytest.mark.parametrize(
    "aside",
    [
        "We're 9 people.",
        "Our team in Krakow is only 11 people, so everybody does a little sales.",
        "We had our team retreat in Asheville last month and talked about exactly this, ha.",
    ],
)
def test_a_remark_about_the_speakers_own_company_after_a_fact_waits_in_unsorted(aside):
    profile = filed(f"Quality managers can block it. {aside}", "buying_committee")
    assert texts(profile, "buying_committee") == ["Quality managers can block it."]
    assert texts(profile, UNSORTED) == [aside]


@pytest.mark.parametrize(
    ("answer", "key"),
    [
        (
            "Uptime is the first question. We guarantee 97 percent uptime, with penalties.",
            "evaluation_criteria",
        ),
        (
            "Mostly 3PLs in Texas. Our strongest regions are Ontario and Colorado.",
            "company_profile",
        ),
        ("Mostly 3PLs. We sell to the ones with 200 to 2,000 employees.", "company_profile"),
    ],
)
def test_a_we_statement_that_goes_on_with_the_fact_or_names_the_market_is_a_fact(answer, key):
    profile = filed(answer, key)
    assert not profile.unsorted and " ".join(texts(profile, key)) == answer


def test_customers_acting_on_us_are_facts_about_them():
    profile = filed("Referrals. Mostly from accountants who use us.", "channels")
    assert all(i.certain for _, i in profile.all_items())
    assert filed("We sell to 3PLs in Texas.", "company_profile").all_items()[0][1].certain


def test_a_roman_numeral_is_not_the_speaker():
    profile = filed("Class I hump yards. They build everything in-house.", "exclusions")
    assert texts(profile, "exclusions")[0].startswith("Class I hump yards.")


def test_a_hedge_before_content_keeps_the_content():
    profile = filed(
        "Tough to say, it varies. Two to five months usually, because legal is slow.",
        "sales_cycle",
    )
    (item,) = profile.sections["sales_cycle"].items
    assert item.text.startswith("Two to five months")
    assert [(q.kind, q.low, q.high) for q in item.quantities] == [("duration", 60, 150)]
    six = filed("Not sure of the exact figure, but roughly six weeks", "sales_cycle")
    assert texts(six, "sales_cycle") == ["Roughly six weeks"]
    why = filed("No clue why, but the quickest buyers already measure water.", "sales_cycle")
    assert texts(why, "sales_cycle") == ["The quickest buyers already measure water."]


def test_an_answer_to_the_exclusion_question_is_an_exclusion_whatever_its_cues():
    profile = filed("Anyone running SAP, the integration is too heavy.", "exclusions")
    assert texts(profile, "exclusions") and not profile.sections["technographics"].items
    segment = filed("Big hospital systems. Procurement takes a year.", "exclusions")
    assert len(segment.sections["exclusions"].items) == 1
    other = filed("The owner signs off though.", "exclusions")  # clearly about something else
    assert texts(other, "buying_committee") == ["The owner signs off though."]


def test_a_target_trait_never_goes_under_never_target():
    profile = filed(
        "Our sweet spot is 5 to 20 locations; a single site is too small.", "company_profile"
    )
    assert profile.sections["company_profile"].items
    assert not profile.sections["exclusions"].items
    excluded = filed("We never sell to agencies, they churn.", "channels")
    assert texts(excluded, "exclusions") == ["We never sell to agencies, they churn."]


def test_what_a_statement_denies_becomes_no_rule():
    profile = filed("No Salesforce at most of them, it's all HubSpot.", "technographics")
    (item,) = profile.sections["technographics"].items
    assert item.negations == ["No Salesforce at most of them"]
    terms = [t for r in derive(profile).rules for t in r.any_of or []]
    assert "HubSpot" in terms and "Salesforce" not in terms


def test_a_tool_tried_and_dropped_becomes_no_rule():
    profile = filed(
        "Most tried Shiftboard at some point and dropped it; they all run Slack now.",
        "technographics",
    )
    (item,) = profile.sections["technographics"].items
    assert item.negations == ["Most tried Shiftboard at some point"]
    terms = [t for r in derive(profile).rules for t in r.any_of or []]
    assert "Slack" in terms and "Shiftboard" not in terms


def test_a_correction_inside_a_statement_replaces_the_retracted_words():
    profile = filed(
        "Mostly the Northeast, sorry, I mean the Mid-Atlantic. 300 to 800 employees.",
        "company_profile",
    )
    said = " ".join(texts(profile, "company_profile"))
    assert "Mid-Atlantic" in said and "Northeast" not in said
    (first, _) = profile.sections["company_profile"].items
    assert first.evidence[0].quote.startswith("Mostly the Northeast, sorry")  # as said
    reps = filed("We have about 50 reps, I mean 80.", "company_profile")
    assert texts(reps, "company_profile") == ["We have about 80 reps"]


@pytest.mark.parametrize(
    ("answer", "topic", "said"),
    [
        ("The COO signs, no, hold on, the CFO signs.", "buying_committee", "The CFO signs"),
        ("Biotechs at Series A, sorry, Series B, mostly.", "company_profile",
         "Biotechs at Series B, mostly"),
        ("We have SOC 2 Type I, correction, Type II since last year.", "objections",
         "We have SOC 2 Type II since last year"),
    ],
)  # fmt: skip
def test_corrections_marked_however_people_mark_them(answer, topic, said):
    assert [t.rstrip(".") for t in texts(filed(answer, topic), topic)] == [said]


def test_a_sentence_taking_back_the_one_before_retracts_it():
    profile = filed("They all run NetSuite. Sorry, I mean Sage Intacct.", "technographics")
    old, new = profile.sections["technographics"].items
    assert old.retracted and old.corrected_by == new.id and not new.retracted
    terms = [t for r in derive(profile).rules for t in r.any_of or []]
    assert "NetSuite" not in terms and "Sage Intacct" in terms


def test_a_taken_back_channel_is_denied():
    profile = filed("We go to the Workboat Show, well, we stopped going last year.", "channels")
    (item,) = profile.sections["channels"].items
    assert item.negations
    terms = [t for r in derive(profile).rules for t in r.any_of or []]
    assert not any("Workboat" in t for t in terms)


def test_a_correction_at_the_closing_supersedes_the_earlier_item():
    profile = filed("Our sweet spot is 3 to 8 chairs.", "company_profile", turn=3)
    answer = "Actually, the sweet spot is 5 to 12 chairs."
    items = list(file_answer(answer, 9, "close", PACK))
    merge_answer(profile, items, answer, 9, "close", PACK)
    old, new = profile.sections["company_profile"].items
    assert old.retracted and old.corrected_by == new.id
    assert [q.low for q in new.quantities] == [5]


def test_content_no_section_takes_waits_in_unsorted():
    profile = filed("We also see a lot of interest from Canada lately.", "close")
    assert texts(profile, UNSORTED) == ["We also see a lot of interest from Canada lately."]


def test_doubtful_and_corrected_items_stay_out_of_the_summary_and_the_rules():
    profile = filed("Maybe 3PLs with 200 employees, I'm not sure.", "company_profile")
    (guess,) = profile.sections["company_profile"].items
    assert not guess.certain
    summary = summarize(profile)
    assert summary.who_we_sell_to == [] and [i for _, i in summary.check_by_hand] == [guess]
    rubric = derive(profile)
    assert not rubric.rules and any("read with doubt" in m for m in rubric.manual)
    assert filed("Maybe agencies, I'm not sure.", "company_profile").all_items() == []


def test_the_interviewer_clarifies_a_question_asked_back(store, engine):
    interview = Interview.start(store, engine, company="Acme")
    interview.answer("We sell yard software.")
    asked = interview.question
    assert asked.topic == "company_profile"
    interview.answer("Do you mean the railroads or the plants that own yards?")
    again = interview.question
    assert again.topic == "company_profile" and asked.text in again.text
    assert again.text.startswith("Either one")
    assert interview.profile.all_items() == []


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("Why did you choose us?", "evaluation_criteria"),
        ("Who ran the evaluation and who signed?", "buying_committee"),
        ("What almost stopped you from buying?", "objections"),
        ("How long did the process take?", "sales_cycle"),
        ("What has changed since you went live?", "value_outcomes"),
    ],
)
def test_an_imported_calls_questions_set_the_topic(question, topic):
    assert guess_topic(question, PACK.guide) == topic


def test_a_background_engines_item_made_of_a_non_answer_is_dropped(store):
    from agent.engines.offline import OfflineEngine
    from agent.interview.contract import Context
    from agent.interview.pipeline import Pipeline
    from agent.profile.models import Evidence, Item
    from agent.store.db import Turn

    class Late(OfflineEngine):
        background = True
        job: int | None = None

        @property
        def pending(self):
            return self.job

        def extract(self, answer, turn, topic, context):
            self.job = turn
            return super().extract(answer, turn, topic, context)

        def settle(self, final=False, wait=None):
            self.job = None
            said = [("channels", "Nothing further on that."), ("channels", "Referrals from CPAs")]
            return [(k, Item(text=q, evidence=[Evidence(turn=4, quote=q)])) for k, q in said]

    pipeline, profile = Pipeline(Late(), PACK), Profile()
    answer = "Referrals from CPAs. Nothing further on that."
    pipeline.file(
        profile, Turn(4, "respondent", answer, "channels", "answer"), "channels", Context()
    )
    pipeline.settle(profile)
    assert texts(profile, "channels") == ["Referrals from CPAs."]


def test_i_should_say_is_a_hedge_not_a_correction():
    profile = filed("About 200 employees, I should say, maybe a bit more.", "company_profile")
    assert "200 employees" in " ".join(texts(profile, "company_profile"))
    profile = filed("Most of them, I should say, are in Texas.", "company_profile")
    assert texts(profile, "company_profile") == ["Most of them, I should say, are in Texas."]


@pytest.mark.parametrize(
    ("answer", "topic", "kept"),
    [  # a tag question, a number: the facts are in the statement
        ("Our best customers are 3PLs with 200 to 2,000 employees, right?", "company_profile",
         "200 to 2,000 employees"),
        ("They mostly run NetSuite or Sage Intacct, you know?", "technographics", "NetSuite"),
        ("Honestly the CFO signs everything over $50k, you know?", "buying_committee", "CFO"),
        ("The sales cycle is about 90 days, give or take?", "sales_cycle", "90 days"),
    ],
)  # fmt: skip
def test_a_statement_ending_in_a_question_mark_keeps_its_facts(answer, topic, kept):
    assert kept in " ".join(texts(filed(answer, topic), topic))


def test_a_question_without_a_tag_or_a_number_is_no_finding():
    # Precision first: a rising tone with nothing to pin it down is not filed.
    for question in ("Demo or contract?", "Is this going in a report?",
                     "Mostly mid-market 3PLs in the Midwest?"):  # fmt: skip
        assert filed(question, "company_profile").all_items() == []


@pytest.mark.parametrize(
    ("answer", "topic", "kept"),
    [  # an apology or a pause between commas is not a correction
        ("They use NetSuite, sorry, I'm rambling, and Shopify Plus.", "technographics",
         "NetSuite"),
        ("Logistics companies, sorry, it's loud here, with 200 to 500 staff.", "company_profile",
         "Logistics companies"),
        ("Retailers, hold on, let me check my notes, with over 50 stores.", "company_profile",
         "Retailers"),
    ],
)  # fmt: skip
def test_a_bare_apology_between_commas_keeps_what_came_before(answer, topic, kept):
    assert kept in " ".join(texts(filed(answer, topic), topic))


@pytest.mark.parametrize(
    ("answer", "topic"),
    [  # "we" winning, "you" in general: about the customers' buying, read without doubt
        ("We mostly win on implementation speed.", "evaluation_criteria"),
        ("We usually get in through the warehouse manager.", "buying_committee"),
        ("You have to get IT on board early.", "buying_committee"),
    ],
)
def test_we_and_you_in_a_finding_do_not_make_it_doubtful(answer, topic):
    assert [i.certain for i in filed(answer, topic).items_of(topic)] == [True]


def test_words_repeated_under_another_question_answer_neither_and_wait_in_unsorted():
    remark = "The weather here has been completely wild all week, nothing gets done."
    profile = Profile()
    merge_answer(profile, file_answer(f"Referrals from CPAs. {remark}", 3, "channels", PACK),
                 "", 3, "channels", PACK)  # fmt: skip
    assert remark in texts(profile, "channels")
    for turn, topic in [(5, "buying_committee"), (7, "sales_cycle")]:
        answer = f"{remark}"
        merge_answer(profile, file_answer(answer, turn, topic, PACK), answer, turn, topic, PACK)
    assert texts(profile, "channels") == ["Referrals from CPAs."]
    assert not texts(profile, "buying_committee") and not texts(profile, "sales_cycle")
    assert texts(profile, UNSORTED) == [remark]
    (waiting,) = profile.unsorted
    assert [ev.turn for ev in waiting.evidence] == [3, 5, 7]
    assert waiting.id.startswith("channels:")  # the same statement keeps its id


def test_a_fact_repeated_under_its_own_section_stays_filed_once():
    fact = "The CFO signs anything over $50k."
    profile = Profile()
    for turn, topic in [(3, "buying_committee"), (5, "buying_committee")]:
        merge_answer(profile, file_answer(fact, turn, topic, PACK), fact, turn, topic, PACK)
    assert texts(profile, "buying_committee") == [fact] and not profile.unsorted


def terms_of(profile: Profile) -> list[str]:
    return [t.casefold() for r in derive(profile).rules for t in r.any_of or []]


@pytest.mark.parametrize(
    ("answer", "topic", "old", "new"),
    [
        ("Deals take about 45 days. That figure is outdated, actually. It's closer to 70 days now.",
         "sales_cycle", "45 days", "70 days"),
        ("Churn drops 30%. No, 20%.", "value_outcomes", "30%", "20%"),
        ("Mostly dental groups. I got that wrong, it's orthodontists.", "company_profile",
         "dental", "orthodontists"),
        ("We bill 900 dollars a site. Correction on that: 1,100 dollars a site since May.",
         "sales_cycle", "900", "1,100"),
        ("Mostly 20 to 80 drivers. Let me fix that, 30 to 80.", "company_profile", "20 to 80",
         "30 to 80"),
        ("Energy costs fall 11 percent. Pardon me, I must correct this. It is 7 percent.",
         "value_outcomes", "11 percent", "7 percent"),
    ],
)  # fmt: skip
def test_a_statement_saying_the_one_before_was_wrong_retracts_it(answer, topic, old, new):
    profile = filed(answer, topic)
    live = " ".join(i.text for i in profile.sections[topic].items if not i.retracted)
    gone = " ".join(i.text for i in profile.sections[topic].items if i.retracted)
    assert old in gone and old not in live and new in live


def test_a_no_that_answers_is_no_correction():
    profile = filed("Mostly HubSpot. No, we don't see Salesforce much.", "technographics")
    assert not any(i.retracted for i in profile.sections["technographics"].items)
    assert texts(profile, "technographics") == ["Mostly HubSpot. We don't see Salesforce much."]
    assert "hubspot" in terms_of(profile) and "salesforce" not in terms_of(profile)


def test_what_a_correction_takes_back_is_rewarded_nowhere():
    across = filed(
        "Mostly Ohio and Kentucky. No, I got that wrong, Kentucky was one account. It's Ohio "
        "and Indiana.",
        "company_profile",
    )
    assert "kentucky" not in terms_of(across) and {"ohio", "indiana"} <= set(terms_of(across))
    inside = filed(
        "Mostly Oregon and Idaho, I mean Oregon and Nevada, Idaho was just one deal.",
        "company_profile",
    )
    assert "idaho" not in terms_of(inside) and {"oregon", "nevada"} <= set(terms_of(inside))
    denied = filed("Texas and Georgia, ugh no, Florida not Georgia.", "company_profile")
    assert "georgia" not in terms_of(denied) and "florida" in terms_of(denied)
    but_no = filed(
        "They are in Italy and Austria. Earlier I said Greece too, but no, Greece was one shop.",
        "company_profile",
    )
    assert "greece" not in terms_of(but_no) and "italy" in terms_of(but_no)


@pytest.mark.parametrize(
    ("answer", "kept"),
    [
        ("Ooooh, okay, so, they want a demo on their own data.", "They want a demo"),
        ("Mmm, yeah, well, price first.", "Price first."),
        ("Hmmmm. Errm, the plant manager decides.", "The plant manager decides."),
    ],
)
def test_a_drawn_out_interjection_is_talk(answer, kept):
    (item,) = [i for _, i in filed(answer, "evaluation_criteria").all_items()]
    assert item.text.startswith(kept)


def test_talk_before_the_content_is_left_out_of_the_item():
    profile = filed("Hmm, where do I begin, family sawmills, hardwood mostly.", "company_profile")
    (item,) = profile.sections["company_profile"].items
    assert item.text == "Family sawmills, hardwood mostly." == item.evidence[0].quote.capitalize()
    kept = filed("Most of them, I should say, are in Texas.", "company_profile")
    assert texts(kept, "company_profile") == ["Most of them, I should say, are in Texas."]
    guess = filed("Hard to say, six weeks.", "sales_cycle")
    assert not guess.sections["sales_cycle"].items[0].certain


@pytest.mark.parametrize(
    ("answer", "topic", "fact"),
    [
        ("Plant managers and QA. I'm on my second coffee and it's 9am.", "buying_committee",
         "Plant managers and QA."),
        ("Family-owned bakeries. Twenty years in this trade and it still amazes me.",
         "company_profile", "Family-owned bakeries."),
        ("Chains with their own fleet. I'm typing this from our office in Leeds.", "exclusions",
         "Chains with their own fleet."),
    ],
)  # fmt: skip
def test_a_remark_about_the_speaker_anywhere_in_it_is_no_finding(answer, topic, fact):
    profile = filed(answer, topic)
    assert texts(profile, topic) == [fact]
    assert not profile.sections["exclusions"].items[1:]  # the remark waits in Unsorted, or goes


@pytest.mark.parametrize(
    ("answer", "gone", "kept"),
    [
        ("Referrals from Xero partners. We tried Google Ads on brewers and gave up after a "
         "quarter, all homebrewers.", "google ads", "xero"),
        ("Referrals from Xero partners. Brewers Journal: we ran ads there until 2024, then "
         "pulled them.", "brewers journal", "xero"),
        ("Referrals from Xero partners. We sponsored the CraftCast podcast and dropped it.",
         "craftcast", "xero"),
    ],
)  # fmt: skip
def test_a_channel_given_up_is_rewarded_nowhere(answer, gone, kept):
    profile = filed(answer, "channels")
    terms = " ".join(terms_of(profile))
    assert gone not in terms and kept in terms


@pytest.mark.parametrize(
    ("answer", "fact"),
    [
        ("Mostly NetSuite. Our own CRM is Pipedrive, for the record.", "Mostly NetSuite."),
        ("Mostly NetSuite. We run our sprints on Jira, ha.", "Mostly NetSuite."),
    ],
)
def test_the_speakers_own_tools_are_no_technographics(answer, fact):
    profile = filed(answer, "technographics")
    assert texts(profile, "technographics") == [fact] and len(profile.unsorted) == 1
    assert "pipedrive" not in terms_of(profile) and "jira" not in terms_of(profile)


def test_a_tool_the_product_connects_to_is_the_customers():
    profile = filed("Mostly NetSuite. We sync invoices from Bill.com too.", "technographics")
    assert not profile.unsorted and all(i.certain for i in profile.sections["technographics"].items)


@pytest.mark.parametrize(
    "answer",
    [
        "That one I'd have to look up in Salesforce, I don't keep it in my head.",
        "That's really a Priya question, she owns onboarding.",
    ],
)
def test_an_answer_that_is_somewhere_else_is_a_dont_know(answer):
    assert answer_act(read_answer(answer, PACK, "sales_cycle")) == "dont_know"
    assert not filed(answer, "sales_cycle").all_items()


def test_a_channel_ended_by_name_is_rewarded_nowhere():
    profile = filed("Referrals from Xero partners. We axed LinkedIn ads, all students.", "channels")
    assert "linkedin" not in " ".join(terms_of(profile)) and "xero" in " ".join(terms_of(profile))


def test_an_exclusion_only_by_the_question_with_another_sections_cue_is_checked_by_hand():
    profile = filed("It's always a pilot first, 10 units for 60 days.", "exclusions")
    (item,) = profile.sections["exclusions"].items
    assert not item.certain
    assert not summarize(profile).never_target and not derive(profile).disqualifiers
    sized = filed("Anyone under 50 employees, the pilot alone costs them too much.", "exclusions")
    assert sized.sections["exclusions"].items[0].certain


def test_quoted_words_of_the_speakers_side_are_no_customer_language():
    ours = filed("Mostly Zoho. My team calls our CRM 'the swamp', don't ask.", "customer_language")
    assert "the swamp" not in texts(ours, "customer_language")
    assert not summarize(ours).language_bank[1:]  # "Mostly Zoho." at most
    kept = [i.text for _, i in ours.all_items()] + texts(ours, UNSORTED)
    assert any("the swamp" in text for text in kept)  # the statement is kept
    for answer, words in [
        ('We hear "our bank partner is breathing down our neck" a lot.',
         "our bank partner is breathing down our neck"),
        ('One owner told me, very quietly, "we sold the same plot twice".',
         "we sold the same plot twice"),
    ]:  # fmt: skip
        assert words in texts(filed(answer, "objections"), "customer_language")


def test_a_remark_typed_straight_after_a_fact_with_no_full_stop_is_cut_off():
    profile = filed(
        "none of them have barcode scanners, its all clipboards We're 12 people btw",
        "technographics",
    )
    assert texts(profile, "technographics") == [
        "None of them have barcode scanners, its all clipboards"
    ]
    kept = filed('They all use "We Care" for rostering', "technographics")
    assert texts(kept, "technographics") == ['They all use "We Care" for rostering']


def test_a_name_denied_in_the_next_sentence_or_after_a_bare_no_is_rewarded_nowhere():
    inside = filed(
        "Ohio and Indiana, and we're growing in Iowa, no, I mean Kansas.", "company_profile"
    )
    assert "iowa" not in terms_of(inside) and "kansas" in terms_of(inside)
    across = filed(
        "Mostly Ohio and Indiana, and Iowa also. Sorry, not Iowa, I mean Kansas.",
        "company_profile",
    )
    assert "iowa" not in terms_of(across) and {"ohio", "kansas"} <= set(terms_of(across))
