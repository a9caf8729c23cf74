"""Offline extraction: the right section, verbatim quotes, exact evidence."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.engines.offline import file_answer as extract
from agent.interview.pipeline import merge
from agent.lang import load_pack
from agent.profile.models import Profile
from agent.reading.sections import classify, section_scores
from agent.reading.thoughts import tidy

PACK = load_pack()
GUIDE = PACK.guide


def filed(answer: str, topic: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for section, item in extract(answer, 3, topic, PACK):
        out.setdefault(section, []).append(item.text)
    return out


def test_volunteered_statements_go_to_their_own_section():
    result = filed(
        "A new CFO is the trigger. They found us on G2, almost every time.", "buying_triggers"
    )
    assert result["buying_triggers"] == ["A new CFO is the trigger."]
    assert result["channels"] == ["They found us on G2, almost every time."]


def test_topic_keeps_statements_that_carry_its_own_cue():
    assert (
        classify("An ERP migration to NetSuite is another one.", "buying_triggers", GUIDE)
        == "buying_triggers"
    )
    assert (
        classify("Anyone on SAP is a no, the integration is too heavy.", "exclusions", GUIDE)
        == "exclusions"
    )


@pytest.mark.parametrize(
    "text, topic, section",
    [
        # An outcome over "the first year" is not a trigger's "within their first 90 days".
        (
            "Delivery reliability goes from around 80% to 95% within the first year.",
            "value_outcomes",
            "value_outcomes",
        ),
        (
            "Within their first 90 days they go after the AP mess.",
            "buying_triggers",
            "buying_triggers",
        ),
        # "doesn't fit" says exclusion even when an industry is named.
        (
            "Process industry like chemicals or food; our model doesn't fit.",
            "exclusions",
            "exclusions",
        ),
        # A partner that resells is a channel, also when it comes up under another topic.
        (
            "ERP partners resell us; one partner brought a quarter of last year's customers.",
            "buying_committee",
            "channels",
        ),
        # Common words that only sometimes mark a section do not pull a direct answer away.
        ("Community hospitals. 100 to 400 beds.", "company_profile", "company_profile"),
        ("It's 4 to 12 crews, so call it 30 to 150 guys.", "company_profile", "company_profile"),
        ("Payback has to be under 18 months or finance kills it.", "objections", "objections"),
        ("They found us in the Controllers Club community.", "buying_triggers", "channels"),
        # "aren't a fit" like "isn't a fit"; "never a fit" outweighs the topic under discussion.
        ("Brands with no reps of their own are never a fit.", "buying_committee", "exclusions"),
        # "the classic one" names any topic's usual case, not only an objection's.
        ("A big public outage is the classic one.", "buying_triggers", "buying_triggers"),
        ("The big one is 'we already bought Vanta'.", None, "objections"),
        ("The CISO's team can hold a deal up for a month.", "technographics", "buying_committee"),
        ("Fleets under 25 units aren't a fit, it never pays back.", "sales_cycle", "exclusions"),
        ("Budgets lock in October for the next fiscal year.", "buying_triggers", "sales_cycle"),
        # "deals start" is about the cycle when a size follows, not where a deal comes from.
        ("Most deals start with a rep visiting the yard at 6am.", "channels", "channels"),
        # Phrases that name their section outright, said while another topic is discussed.
        ("Wholesalers are our best channel, honestly.", "buying_triggers", "channels"),
        ("Local accountants recommend us to every new client.", "company_profile", "channels"),
        ("We always take a booth at the state convention.", "buying_committee", "channels"),
        ("Dispatchers get back about ten hours a week.", "buying_committee", "value_outcomes"),
        ("Anything under five sites isn't worth chasing.", "company_profile", "exclusions"),
        ('"We already use Gusto" is the first thing owners say.', "technographics", "objections"),
        ("Half of their orders still come in by fax.", "evaluation_criteria", "technographics"),
        ("Union hospitals in California, we've stopped chasing.", "objections", "exclusions"),
        ("They're all in a LinkedIn group.", "buying_committee", "channels"),
        ("Dealers are the best channel we have.", "company_profile", "channels"),
        ("I stopped chasing union hospitals.", "objections", "exclusions"),
        ("Small shops aren't worth it for us.", "company_profile", "exclusions"),
        ("People come to us after a failed audit.", "company_profile", "buying_triggers"),
        # ...but not where the same words say something else.
        ("Invoices come to us in PDF form.", "technographics", "technographics"),
        (
            "Customers stopped chasing late payments within weeks.",
            "value_outcomes",
            "value_outcomes",
        ),
        ("Once live it's never again back to spreadsheets.", "value_outcomes", "value_outcomes"),
        (
            "It wasn't worth it for them to build it in-house.",
            "evaluation_criteria",
            "evaluation_criteria",
        ),
        ("Their main channel is retail, through 200 stores.", "company_profile", "company_profile"),
        ("The CFO would never recommend us to replace their ERP.", "objections", "objections"),
        (
            "Month-end is a sore point for every controller.",
            "customer_language",
            "customer_language",
        ),
        ("They get back to us 2 days later with a yes.", "sales_cycle", "sales_cycle"),
        ("They still negotiate over email for a month.", "sales_cycle", "sales_cycle"),
        ("We tried one frozen site, batteries died, never again.", "objections", "exclusions"),
        (
            "Hospitals come to us in September, before flu season.",
            "company_profile",
            "buying_triggers",
        ),
        # Whoever finds you and runs the pilot is in the buying committee; found through X: channel.
        ("They find us and run the pilot with 8 reps.", "buying_committee", "buying_committee"),
        ("Engineers find us through our GitHub library.", "buying_committee", "channels"),
        ("IT runs the evaluations on 3 vendors.", None, "buying_committee"),
        ("We run the pilot for free.", None, "sales_cycle"),  # the vendor runs it
        ("We let them run the trial with no card.", None, "sales_cycle"),
        # A price range is one price: it does not outweigh the topic as two prices would.
        (
            "A ruined load is $40k-$80k of scrap, so they call around.",
            "buying_triggers",
            "buying_triggers",
        ),
        # A company called Industrious is no industry.
        ("Industrious Bakeries recommends us to every baker.", "company_profile", "channels"),
    ],
)
def test_cue_vocabulary(text, topic, section):
    assert classify(text, topic, GUIDE) == section


def test_they_call_us_is_no_customer_phrase_and_they_call_it_is():
    assert section_scores("Then they call us.", GUIDE)["customer_language"] == 0
    assert section_scores("They call them tickets.", GUIDE)["customer_language"] > 0
    assert section_scores("They call it the Monday scramble.", GUIDE)["customer_language"] > 0


def test_signing_up_is_not_signing_a_deal():
    assert section_scores("Then 70 percent sign up.", GUIDE)["buying_committee"] == 0
    assert section_scores("The COO signs.", GUIDE)["buying_committee"] > 0
    assert section_scores("The CFO signs up to $100k alone.", GUIDE)["buying_committee"] > 0
    assert section_scores("Most teams sign up to the free plan.", GUIDE)["buying_committee"] == 0


def test_it_the_department_is_a_cue_and_it_the_pronoun_is_not():
    assert section_scores("It works and it is fast.", GUIDE)["buying_committee"] == 0
    assert section_scores("IT reviews the vendor.", GUIDE)["buying_committee"] > 0


def test_customer_quotes_are_kept_verbatim_with_who_said_them():
    answer = 'One controller told us "month-end close feels like a hostage situation".'
    items = [(s, i) for s, i in extract(answer, 7, "customer_language", PACK)]
    assert len(items) == 1
    section, item = items[0]
    assert section == "customer_language"
    assert item.text == "month-end close feels like a hostage situation"
    assert item.said_by == "controller"
    assert item.evidence[0].turn == 7 and item.evidence[0].quote in answer


def test_a_quote_inside_another_topic_is_filed_twice():
    answer = "The top objection is 'we can already do approvals inside NetSuite'."
    result = filed(answer, "objections")
    assert result["objections"] == [answer]
    assert result["customer_language"] == ["we can already do approvals inside NetSuite"]


def test_dont_know_and_filler_add_nothing():
    assert filed("I don't know, we haven't tracked that.", "sales_cycle") == {}
    assert filed("Good question. Let me think.", "sales_cycle") == {}


def test_sentences_of_function_words_only_are_no_items():
    answer = (
        "Fleets with 40 to 400 units. I could go on about that. "
        "Anyway, that's how it goes. We're out there a lot."
    )
    assert filed(answer, "company_profile") == {"company_profile": ["Fleets with 40 to 400 units."]}
    assert filed("They all do. They don't.", "objections") == {}


@pytest.mark.parametrize(
    "answer",
    ["Not for us.", "Too big.", "Only in the US.", "IT does.", "A few months."],
)
def test_short_answers_that_say_something_are_kept(answer):
    assert filed(answer, "exclusions") == {"exclusions": [answer]}


@pytest.mark.parametrize(
    "answer",
    [
        "yeah thats pretty much it",
        "Nothing further.",
        "this is all what I know about it",
        "Drawing a blank beyond that",
        "don't get me started on that",
        "So here's a story.",
        "Top three:",
        "Do you mean on price or on product?",
        "No one.",
        "It depends.",
    ],
)
def test_statements_that_answer_nothing_are_no_items(answer):
    assert filed(answer, "objections") == {}


@pytest.mark.parametrize(
    "topic, answer",
    [
        ("channels", "LinkedIn."),
        ("exclusions", "Agencies."),
        ("technographics", "Salesforce"),
        ("buying_committee", "CFO."),
        ("buying_triggers", "Funding!"),
        ("channels", "G2"),
        ("sales_cycle", "$20k"),
        ("company_profile", "50."),
    ],
)
def test_a_one_word_answer_that_names_something_is_kept(topic, answer):
    assert filed(answer, topic) == {topic: [answer]}


@pytest.mark.parametrize(
    "answer",
    ["Exactly.", "Nope.", "Probably.", "Depends.", "Yes.", "It.", "N/A", "Huh?", "TBD", "Nein."],
)
def test_a_one_word_reply_that_names_nothing_adds_nothing(answer):
    assert filed(answer, "channels") == {}


def test_a_one_word_lead_is_kept_beside_the_sentence_after_it():
    assert filed("Exactly. Price is the big one.", "objections") == {
        "objections": ["Price is the big one."]
    }
    assert filed("Referrals. Mostly from accountants who use us.", "channels") == {
        "channels": ["Referrals. Mostly from accountants who use us."]
    }


@pytest.mark.parametrize(
    "answer",
    [
        "- b2b SaaS\n- 50 to 200 employees\n- US and Canada\n- Series A/B",
        "1. b2b SaaS\n2. 50 to 200 employees\n3) US and Canada\n4) Series A/B",
        "• b2b SaaS\n• 50 to 200 employees\n• US and Canada\n• Series A/B",
        "b2b SaaS\n50 to 200 employees\nUS and Canada\nSeries A/B",
    ],
)
def test_each_line_of_a_list_is_its_own_item_without_its_marker(answer):
    assert filed(answer, "company_profile") == {
        "company_profile": ["B2B SaaS", "50 to 200 employees", "US and Canada", "Series A/B"]
    }


def test_sentences_on_a_list_line_are_still_sentences():
    answer = "- We find them on LinkedIn. Their CFO signs off on every deal over $50k."
    assert filed(answer, "channels") == {
        "channels": ["We find them on LinkedIn."],
        "buying_committee": ["Their CFO signs off on every deal over $50k."],
    }
    assert filed("- G2\n- Capterra", "channels") == {"channels": ["G2", "Capterra"]}


def test_a_sentence_on_a_new_line_still_follows_on_from_the_one_before():
    answer = "Usually an audit finding.\nThat's what kicks it off."
    assert filed(answer, "buying_triggers") == {
        "buying_triggers": ["Usually an audit finding. That's what kicks it off."]
    }


@pytest.mark.parametrize(
    "amount", ["$40k-$80k", "$40k to $80k", "$40k – $80k", "between $40k and $80k", "$1,400 or $1k"]
)
def test_prices_in_a_statement_count_as_one_price_cue(amount):
    answer = f"One ruined load of tile is {amount} of scrap, so the plant manager calls around."
    assert list(filed(answer, "buying_triggers")) == ["buying_triggers"]


@pytest.mark.parametrize(
    "text, item",
    [
        ("b2b saas w/ 20 reps", "B2B saas w/ 20 reps"),
        ("g2 reviews drive it", "G2 reviews drive it"),
        ("q3  budget\ncycles", "Q3 budget cycles"),
        ("3pl warehouses", "3pl warehouses"),
    ],
)
def test_item_text_is_tidied_but_acronyms_stay_acronyms(text, item):
    assert tidy(text) == item


def test_merge_adds_evidence_to_identical_items():
    profile = Profile()
    first = list(extract("They run NetSuite.", 3, "technographics", PACK))
    again = list(extract("They run NetSuite.", 9, "technographics", PACK))
    assert merge(profile, *first[0]) and merge(profile, *again[0])
    (item,) = profile.sections["technographics"].items
    assert [e.turn for e in item.evidence] == [3, 9]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.sampled_from([None, "channels", "exclusions"]))
def test_evidence_is_always_an_exact_substring(answer, topic):
    for _, item in extract(answer, 1, topic, PACK):
        assert all(ev.quote and ev.quote in answer for ev in item.evidence)
