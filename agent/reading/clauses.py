"""What a statement names for a scoring rule, and who says it. Not the sentences that exclude,
not the reason an exclusion gives; a trigger's timing only where the sentence ties it to it."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from agent.lang import load_pack
from agent.lang.clauses import ClauseWords
from agent.profile.models import Item, Profile
from agent.reading.statements import Span, split_statements
from agent.reading.terms import find_terms, fold, markets, names, vocabulary
from agent.scoring.rules import settings


def _words() -> ClauseWords:
    return load_pack().clauses


@cache
def _exclusion_cues() -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{c})" for c in settings()["exclusion_cues"]), re.IGNORECASE)


def excludes(text: str) -> bool:
    """True when a sentence says who is not a fit ("SAP shops are a no")."""
    return bool(_exclusion_cues().search(fold(text)))


def clauses(text: str) -> list[Span]:
    """Sentences, cut again at semicolons and "but": the pieces a statement's fit is told in."""
    out = []
    for sentence in split_statements(text):
        start = sentence.start
        for m in [*_words().break_re.finditer(sentence.text), None]:
            end = sentence.start + (m.start() if m else len(sentence.text))
            if text[start:end].strip():
                out.append(Span(start, end, text[start:end]))
            if m:
                start = sentence.start + m.end()
    return out


def positive(text: str) -> str:
    """The text without the clauses that exclude: what a positive rule may read."""
    return " ".join(c.text for c in clauses(text) if not excludes(c.text))


def fit_part(item: Item) -> Item:
    """The item as a positive rule may read it: without the clauses that exclude, nor what it
    denies ("no Procore at most of them"), nor the numbers said in them."""
    if item.negations:
        item = _undenied(item)
    parts = clauses(item.text)
    if not any(excludes(c.text) for c in parts):
        return item

    def excluded(fragment: str) -> bool:
        for text in (item.text, *(ev.quote for ev in item.evidence)):
            index = text.find(fragment)
            clause = _clause_at(text, index) if index >= 0 else None
            if clause is not None:
                return excludes(clause.text)
        return False

    kept = [q for q in item.quantities if not excluded(q.text)]
    return item.model_copy(update={"text": positive(item.text) or " ", "quantities": kept})


def _undenied(item: Item) -> Item:
    """The item without the phrases it denies, nor the numbers said in them, nor any other
    mention of what they deny: "Texas and Georgia, no, Florida, not Georgia" rewards no
    Georgia."""
    text, denied = item.text, []
    for phrase in item.negations:
        pattern = r"\s+".join(re.escape(w) for w in phrase.split())
        found = re.search(pattern, text, re.IGNORECASE)
        if found:
            denied.append(found.group(0))
            text = text[: found.start()] + " " + text[found.end() :]
    for phrase in denied:
        for term in {*names(phrase), *markets(phrase)}:
            text = re.sub(rf"(?<!\w){re.escape(term)}(?!\w)", " ", text, flags=re.IGNORECASE)
    kept = [q for q in item.quantities if not any(q.text in d for d in denied)]
    return item.model_copy(update={"text": " ".join(text.split()) or " ", "quantities": kept})


def condition(text: str) -> str:
    """Who an exclusion is about, without the reason it gives: "Companies under 50 employees"
    from "Companies under 50 employees because they close in Excel fine"."""
    for m in _words().reason_re.finditer(text):
        head = text[: m.start()].strip()
        # "Exclude: agencies" or "Never target: SAP shops" lead in to the list, no reason.
        listing = text[m.start() : m.end()].strip() == ":"
        if head and not (listing and _words().lead_in_re.fullmatch(head)):
            return head
    return text


def _clause_at(text: str, index: int) -> Span | None:
    return next((c for c in clauses(text) if c.start <= index < c.end), None)


def timing(item: Item, terms: Callable[[str], list[str]], own: list[str]) -> int | None:
    """Days a trigger item gives as its window, from a duration its wording ties to the event:
    in a clause that names one of `own` terms (found by `terms`), or in a clause that opens
    with the timing ("Within their first 90 days they..."); with `own` empty, only the latter."""
    mine = {fold(t) for t in own}
    texts = [item.text, *(ev.quote for ev in item.evidence)]
    best = None
    for q in item.quantities:
        days = q.high or q.low
        if q.kind != "duration" or not days or not 1 <= days <= 365:
            continue
        for text in texts:
            index = text.find(q.text)
            clause = _clause_at(text, index) if index >= 0 else None
            if clause is None:
                continue
            before = text[clause.start : index]
            lead = _words().timing_before_re.search(before)
            after = text[index + len(q.text) : clause.end]
            if not lead and not _words().timing_after_re.match(after):
                continue
            opens = lead is not None and not before[: lead.start()].strip(" ,")
            if opens or mine & {fold(t) for t in terms(clause.text)}:
                best = max(best or 0, int(days))
                break
    return best


def opens_with_timing(item: Item) -> bool:
    """True when an item is a follow-on that dates the event before it ("Within 90 days...")."""
    return timing(item, lambda _: [], []) is not None


def supporters(item: Item) -> set[str]:
    """The respondents behind an item."""
    return set(item.support) or {""}  # one respondent when the profile is not merged


def mentions(profile: Profile, key: str, find: Callable[[str], list[str]]) -> dict[str, set]:
    """Folded term -> the respondents who use it in that section."""
    out: dict[str, set[str]] = {}
    for item in profile.sections[key].items:
        for term in find(item.text):
            out.setdefault(fold(term), set()).update(supporters(item))
    return out


def overruled(term: str, item: Item, other: dict[str, set[str]]) -> bool:
    """True when the other side (targets vs exclusions) uses the term and none of this item's
    respondents does. Someone who both targets "warehouses" and excludes "single-site
    warehouses" means a kind of warehouse, so their own exclusion does not overrule them."""
    users = other.get(fold(term))
    return users is not None and not users & supporters(item)


def industries(text: str) -> list[str]:
    """Kinds of company a text names."""
    return find_terms(text, vocabulary().industries)


def tools(text: str) -> list[str]:
    """Named tools: names that are not a kind of company ("DSOs" is an industry)."""
    return [n for n in names(text) if [len(t.split()) for t in industries(n)] != [len(n.split())]]
