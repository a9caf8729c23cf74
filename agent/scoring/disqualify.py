"""Exclusions as disqualifiers: conditions an account record can be checked against, each with
a reason code for the CRM."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from agent.profile.models import SECTION_TITLES, Profile
from agent.reading.clauses import condition, industries, mentions, positive, supporters, tools
from agent.reading.numbers import fmt_range
from agent.reading.quantities import sizes
from agent.reading.terms import find_terms, fold, vocabulary
from agent.report.summary import persona
from agent.scoring.rules import Disqualifier, or_join


@cache
def _inverted() -> re.Pattern[str]:
    """Words before a region that name who is in, not out (language pack: region_inverted)."""
    from agent.scoring.cells import END, START, phrase, words

    alts = [phrase(w) for w in words().region_inverted]
    return re.compile(START + "(?:" + "|".join(alts) + ")" + END) if alts else re.compile("$^x")


def derive_disqualifiers(profile: Profile, manual: list[str]) -> list[Disqualifier]:
    """Each exclusion as conditions on account fields; what none can check goes to `manual`."""
    out: list[Disqualifier] = []
    codes: set[str] = set()
    vocab = vocabulary()
    targeted = mentions(profile, "company_profile", lambda text: industries(positive(text)))
    for key in ("company_profile", "technographics"):
        for term, users in mentions(profile, key, lambda text: tools(positive(text))).items():
            targeted.setdefault(term, set()).update(users)
    for item in profile.sections["exclusions"].items:
        who = persona(item)
        code = _code(who.name, codes)
        conditions: list[tuple[str, dict]] = []
        for kind, low, high in sizes(item):
            if low is None:
                bounds, text = {"below": high}, f"under {fmt_range(high, high, kind == 'revenue')}"
            elif high is None:
                bounds, text = {"above": low}, f"over {fmt_range(low, low, kind == 'revenue')}"
            else:
                bounds, text = {"min": low, "max": high}, fmt_range(low, high, kind == "revenue")
            conditions.append((f"{kind.capitalize()} {text}", {"field": kind, **bounds}))
        mine = supporters(item)
        who_text = condition(item.text)  # "because they close in Excel fine" is the reason
        kinds = [t for t in industries(who_text) if not targeted.get(fold(t), set()) & mine]
        if kinds:
            conditions.append((f"Industry: {or_join(kinds)}", _terms("industry", kinds)))
        named = [n for n in tools(who_text) if not targeted.get(fold(n), set()) & mine]
        if named:
            conditions.append((f"Uses {or_join(named)}", _terms("technologies", named)))
        regions = find_terms(who_text, vocab.regions)
        if regions and not _inverted().search(fold(who_text)):
            conditions.append((f"Region: {or_join(regions)}", _terms("region", regions)))
        if not conditions:
            manual.append(f"{SECTION_TITLES['exclusions']}: {item.text}")
        for label, test in conditions:
            out.append(
                Disqualifier(
                    id=f"dq-{len(out) + 1}",
                    code=code,
                    label=label,
                    reason=who.why or item.text,
                    evidence=list(item.evidence),
                    source=f"{SECTION_TITLES['exclusions']}: {item.text}",
                    **test,
                )
            )
    return out


def _terms(field_name: str, terms: list[str]) -> dict:
    return {"field": field_name, "any_of": terms}


def _code(name: str, taken: set[str]) -> str:
    """A CRM reason code from a persona's name: "DQ-SINGLE-SITE-WAREHOUSES"."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    stop = vocabulary().stopwords
    words = [w for w in re.findall(r"[A-Za-z0-9]+", ascii_name) if fold(w) not in stop]
    code = "DQ-" + ("-".join(words[:3]).upper() or "EXCLUDED")
    unique, n = code, 1
    while unique in taken:
        n += 1
        unique = f"{code}-{n}"
    taken.add(unique)
    return unique
