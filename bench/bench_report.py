"""Time the PDF report of a realistic 30-answer interview: median of 5 renders (target < 3 s);
and the same report with one answer that is a single 20,000-character word (target < 5 s)."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.profile.models import SECTION_KEYS, Evidence, Item, Profile
from agent.report import render as report
from agent.store.db import SessionInfo, Turn

RUNS = 5
TARGET_S = 3.0
LONG_WORD = 20_000
LONG_WORD_TARGET_S = 5.0

# One answer per topic clause; three answers per section (33 answers, about 30 minutes).
FACTS = {
    "company_profile": [
        "B2B SaaS companies with 200-1,000 employees",
        "$20M-$150M ARR, Series B to D",
        "headquartered in the US or UK",
    ],
    "technographics": [
        "they run NetSuite as the ERP",
        "Salesforce is the CRM of record",
        "a data warehouse on Snowflake or BigQuery",
    ],
    "buying_triggers": [
        "a new CFO arrives and within 90 days reviews the close process",
        "an audit finding about revenue recognition",
        "a migration off spreadsheets before an IPO",
    ],
    "evaluation_criteria": [
        "time to close the books, measured in days",
        "native NetSuite sync without middleware",
        "an audit trail the auditors accept",
    ],
    "objections": [
        "we already have an implementation partner",
        "price per seat at the proposal stage",
        "security review takes too long",
    ],
    "channels": [
        "the CFO Slack community",
        "referrals from Big Four audit managers",
        "searching for 'month-end close automation'",
    ],
    "customer_language": [
        "the close is a two-week fire drill",
        "we live in spreadsheets",
        "I want to sleep the night before the board meeting",
    ],
    "buying_committee": [
        "the controller feels the pain and finds us",
        "the CFO signs off on the budget",
        "IT security can veto it during review",
    ],
    "exclusions": [
        "never target agencies: they churn after one project",
        "companies under 50 employees because they close in Excel fine",
        "anyone on SAP: the integration kills the deal",
    ],
    "value_outcomes": [
        "the close drops from 12 days to 5 within two quarters",
        "audit prep time halves",
        "they expand to FP&A within a year",
    ],
    "sales_cycle": [
        "60-90 days from first call to signature",
        "deal size $40k-$120k a year",
        "procurement adds two weeks at the end",
    ],
}
FILLER = (
    " To give you the context, this came up in the last three deals we closed, and the "
    "team agreed it is the pattern we see most often when a deal goes smoothly. "
)


def sample() -> tuple[Profile, SessionInfo, list[Turn]]:
    """A complete profile with one evidence-backed item per answer."""
    profile = Profile(session="bench001", company="Closewise", role="VP Sales", version=33)
    turns: list[Turn] = []
    for key in SECTION_KEYS:
        section = profile.sections[key]
        section.status = "covered"
        for n, fact in enumerate(FACTS[key]):
            turns.append(Turn(len(turns) + 1, "agent", f"Tell me more about {key} ({n + 1})?"))
            answer = f"Honestly, {fact}.{FILLER * 2}"
            turns.append(Turn(len(turns) + 1, "respondent", answer))
            section.items.append(
                Item(
                    text=fact[:1].upper() + fact[1:],
                    evidence=[Evidence(turn=len(turns), quote=fact)],
                    concrete=any(c.isdigit() for c in fact),
                )
            )
    session = SessionInfo(
        id="bench001",
        company="Closewise",
        role="VP Sales",
        engine="offline",
        minutes=30,
        status="complete",
        started="2025-11-20T14:05:00+00:00",
        turns=len(turns),
    )
    return profile, session, turns


# The llm engine's synthesis: four criteria restate derived rules, four are model suggestions
# on the rubric page; the summary and personas add the "In short" box and persona cards.
SYNTHESIS = {
    "summary": [
        {"text": "Mid-market B2B SaaS finance teams on NetSuite.", "refs": ["company_profile#1"]},
        {"text": "A new CFO or an audit finding starts the deal.", "refs": ["buying_triggers#1"]},
    ],
    "rubric": [
        {"category": c, "criterion": text, "points": n, "refs": refs}
        for c, text, n, refs in [
            ("firmographic", "B2B SaaS company", 20, ["company_profile#1"]),
            ("firmographic", "Series B to D, $20M-$150M ARR", 15, ["company_profile#2"]),
            ("firmographic", "Headquartered in the US or UK", 10, ["company_profile#3"]),
            ("technographic", "Runs NetSuite as the ERP", 10, ["technographics#1"]),
            ("technographic", "Salesforce is the CRM of record", 5, ["technographics#2"]),
            ("behavioural", "A new CFO started in the last 90 days", 10, ["buying_triggers#1"]),
            (
                "behavioural",
                "Month-end close takes more than 10 days",
                10,
                ["evaluation_criteria#1", "value_outcomes#1", "customer_language#1"],
            ),
            ("behavioural", "IT security reviews vendors", 5, ["buying_committee#3"]),
        ]
    ],
    "negative_personas": [
        {"name": "Agencies", "why": "They churn after one project.", "refs": ["exclusions#1"]}
    ],
    "open_questions": [],
}


def with_synthesis(profile: Profile) -> Profile:
    """The same profile as the llm engine leaves it, with the model's synthesis."""
    from agent.profile.models import Synthesis

    return profile.model_copy(update={"synthesis": Synthesis.model_validate(SYNTHESIS)})


def with_long_word(
    profile: Profile, turns: list[Turn], chars: int = LONG_WORD
) -> tuple[Profile, list[Turn]]:
    """The sample plus one answer that is a single unbroken word (a pasted ID, URL or key),
    shown in the transcript and quoted by an item."""
    word = "x" * chars
    turns = [*turns, Turn(len(turns) + 1, "respondent", f"Our account ID is {word}.")]
    profile = profile.model_copy(deep=True)
    profile.sections["company_profile"].items.append(
        Item(text=f"Account {word}", evidence=[Evidence(turn=len(turns), quote=word)])
    )
    return profile, turns


def median_render(profile: Profile, session: SessionInfo, turns: list[Turn]) -> tuple:
    """Median, min and max wall seconds of RUNS PDF renders, median CPU seconds, the last PDF.

    CPU time barely moves when other processes share the two cores; wall time does.
    """
    times, cpu = [], []
    for _ in range(RUNS):
        start, start_cpu = time.perf_counter(), time.process_time()
        data = report.render(profile, session, turns, "pdf")
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(times), min(times), max(times), statistics.median(cpu), data


def main() -> int:
    """Print the median PDF render time (offline and llm-engine report); exit 1 on a miss."""
    profile, session, turns = sample()
    start = time.perf_counter()
    report.render(profile, session, turns, "pdf")  # warm-up: imports WeasyPrint, loads fonts
    first = time.perf_counter() - start
    print(f"first render (with imports): {first:.2f} s")
    answers = sum(t.speaker == "respondent" for t in turns)
    ok = True
    for name, variant in (("pdf render", profile), ("with synthesis", with_synthesis(profile))):
        median, low, high, cpu, data = median_render(variant, session, turns)
        print(
            f"{name}, median of {RUNS}: {median:.2f} s (min {low:.2f}, max {high:.2f}; "
            f"CPU {cpu:.2f} s); {len(data) // 1024} KiB, {answers} answers"
        )
        ok = ok and median < TARGET_S
    print(f"target < {TARGET_S:.0f} s: {'ok' if ok else 'MISSED'}")
    long_profile, long_turns = with_long_word(profile, turns)
    median, low, high, cpu, _ = median_render(long_profile, session, long_turns)
    print(
        f"with a {LONG_WORD:,}-character word, median of {RUNS}: {median:.2f} s (min {low:.2f}, "
        f"max {high:.2f}; CPU {cpu:.2f} s)"
    )
    long_ok = median < LONG_WORD_TARGET_S
    print(f"target < {LONG_WORD_TARGET_S:.0f} s: {'ok' if long_ok else 'MISSED'}")
    return 0 if ok and long_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
