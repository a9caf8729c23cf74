"""Checks on what the model claims, before anything reaches the profile or the report.

Quotes alone are not enough: an item "Fortune 500 banks in Germany" quoting "the" has a real
quote and an invented claim. So an item's numbers and names must appear in its quotes, quotes
must be long enough to carry a claim, `said_by` must be said, and the section must fit. A
synthesis entry's numbers and names must appear in the items it cites. Each problem is a plain
sentence, fed back to the model for one re-ask.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from agent.lang import Pack
from agent.reading.sections import classify
from agent.reading.statements import find_entities, normalise
from agent.reading.terms import content_words, fold, vocabulary

if TYPE_CHECKING:
    from agent.engines.llm.engine import NewItem
    from agent.profile.models import Item, Synthesis

MIN_QUOTE_WORDS = 3  # a quote shorter than this cannot carry a claim ("the", "banks")
MIN_PHRASE_WORDS = 2  # a customer's own phrase may be short ("too expensive")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def numbers(text: str) -> set[str]:
    """The numbers in a text, without thousands separators ("10,000" is "10000")."""
    return {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)}


def _names(text: str, pack: Pack) -> list[str]:
    """Proper nouns in a claim: named companies, tools, places, people. Ordinary words that
    start a clause ("No", "The"), role titles and short acronyms of functions ("AP", "CRM")
    are not names."""
    vocab = vocabulary()
    common = vocab.stopwords | vocab.openers | vocab.articles | {fold(r) for r in vocab.roles}
    out = []
    for entity in find_entities(text, pack):
        words = [
            w
            for w in re.findall(r"[\w&'’-]+", entity)
            if fold(w) not in common and not w.isdigit() and not (w.isupper() and len(w) <= 3)
        ]
        at = text.find(entity)
        opens = at == 0 or text[:at].rstrip().endswith((".", "!", "?", ":", ";"))
        if opens and len(words) > 1 and words[0] == entity.split()[0] and words[0][1:].islower():
            words = words[1:]  # "Runs NetSuite": a verb capitalised because it opens the text
        if words:
            out.append(" ".join(words))
    return out


def _said(name: str, source: str) -> bool:
    """Whether each word of a name appears in the source text (case and accents folded)."""
    words = set(re.findall(r"\w+", fold(source)))
    return all(part in words for part in re.findall(r"\w+", fold(name)))


def unsupported(text: str, source: str, pack: Pack) -> list[str]:
    """The numbers and names in `text` that `source` does not contain."""
    missing = [f'the number "{n}"' for n in sorted(numbers(text) - numbers(source))]
    missing += [f'the name "{n}"' for n in _names(text, pack) if not _said(n, source)]
    return missing


def fits(section: str, quotes: str, topic: str | None, pack: Pack) -> bool:
    """Whether the quotes can belong to the section: it is the question's topic, a cue of the
    section appears in them, or the rules do not file them firmly somewhere else. (The model
    is there to file what the rules' cues miss; it may not move a statement the rules read as
    plainly about another section.)"""
    if section in (topic, "customer_language"):
        return True
    spec = pack.guide.sections[section]
    text = normalise(quotes)
    cues = (spec.defining, spec.strong, spec.weak, *(f.pattern for f in spec.facets))
    if any(p.search(text) for p in cues):
        return True
    elsewhere = classify(quotes, None, pack.guide)
    return elsewhere is None or elsewhere == section


def item_problems(new: NewItem, answer: str, topic: str | None, pack: Pack) -> list[str]:
    """Why an extracted item cannot be kept as it is (empty when it can)."""
    problems = []
    quotes = [q for q in new.quotes if q.strip()]
    if not new.text.strip():
        problems.append("its text is empty")
    if not quotes:
        return [*problems, "it has no quote"]
    least = MIN_PHRASE_WORDS if new.section == "customer_language" else MIN_QUOTE_WORDS
    for quote in quotes:
        if quote not in answer:
            problems.append(f'the quote "{quote}" is not in the answer character for character')
        elif len(quote.split()) < least:
            problems.append(f'the quote "{quote}" is shorter than {least} words')
    joined = " ".join(quotes)
    for what in unsupported(new.text, joined, pack):
        problems.append(f"{what} in its text is not in its quotes")
    said_by = new.said_by.strip()
    if said_by and not content_words(said_by) <= content_words(answer):
        problems.append(f'said_by "{said_by}" is not what the answer says')
    if not fits(new.section, joined, topic, pack):
        problems.append(f"its quotes are not about {new.section}; choose the section they fit")
    return problems


def support_text(refs: Iterable[str], items: dict[str, Item]) -> str:
    """The cited items' texts and quotes: what a synthesis entry may claim."""
    parts = []
    for ref in refs:
        item = items.get(ref)
        if item is not None:
            parts += [item.text, *(ev.quote for ev in item.evidence)]
    return " ".join(parts)


def synthesis_problems(
    out: Synthesis, items: dict[str, Item], pack: Pack
) -> dict[tuple[str, int], list[str]]:
    """Problems per synthesis entry, keyed by (list name, index): claims its items do not hold,
    and entries that cite nothing real (open questions and personas included)."""
    found: dict[tuple[str, int], list[str]] = {}
    for field, entries in (
        ("summary", out.summary),
        ("rubric", out.rubric),
        ("negative_personas", out.negative_personas),
        ("open_questions", out.open_questions),
    ):
        for index, entry in enumerate(entries):
            refs = [r for r in entry.refs if r in items]
            text = ". ".join(
                str(getattr(entry, name, "")) for name in ("text", "criterion", "name", "why")
            )
            problems = []
            if not refs:
                problems.append("it cites no profile item that exists")
            else:
                source = support_text(refs, items)
                problems += [
                    f"{what} is not in the items it cites"
                    for what in unsupported(text, source, pack)
                ]
            if problems:
                found[(field, index)] = problems
    return found
