"""The report's summary: the offline derivation, overlaid with the model's synthesis if any."""

from __future__ import annotations

from agent.profile.models import SECTION_TITLES, Evidence, Item, Profile
from agent.report.summary import OpenQuestion, Persona, Summary, SummaryLine, summarize

MODEL_REASON = "from the synthesis"


def summarize_with_model(profile: Profile) -> Summary:
    """`summarize(profile)`, preferring the stored model synthesis where it has entries.

    The synthesis's rubric is not here: `rubric_merge` folds it into the derived rubric.
    """
    summary = summarize(profile)
    synthesis = profile.synthesis
    if synthesis is None:
        return summary
    update: dict = {
        "overview": [
            SummaryLine(text=p.text, turns=_turns(profile, p.refs)) for p in synthesis.summary
        ],
    }
    if synthesis.negative_personas:
        update["negative_personas"] = [
            Persona(name=p.name, why=p.why, evidence=_evidence(profile, p.refs))
            for p in synthesis.negative_personas
        ]
    if synthesis.open_questions:
        asked = {q.section for q in synthesis.open_questions}
        update["open_questions"] = [
            OpenQuestion(
                key=q.section, title=SECTION_TITLES[q.section], reason=MODEL_REASON, text=q.text
            )
            for q in synthesis.open_questions
        ] + [q for q in summary.open_questions if q.key not in asked]
    return summary.model_copy(update=update)


def cited(profile: Profile, refs: list[str]) -> list[Item]:
    """The items "section#n" ids name; ids that name nothing are skipped."""
    out = []
    for ref in refs:
        key, _, number = ref.partition("#")
        items = profile.sections[key].items if key in profile.sections else []
        if number.isdigit() and 1 <= int(number) <= len(items):
            out.append(items[int(number) - 1])
    return out


def _evidence(profile: Profile, refs: list[str]) -> list[Evidence]:
    return list(dict.fromkeys(ev for item in cited(profile, refs) for ev in item.evidence))


def _turns(profile: Profile, refs: list[str]) -> list[int]:
    return sorted({ev.turn for ev in _evidence(profile, refs)})
