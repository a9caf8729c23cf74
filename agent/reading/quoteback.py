"""What a follow-up quotes back from a vague answer, and which kind of follow-up fits it."""

from __future__ import annotations

import re

from agent.lang import Pack, load_pack
from agent.lang.quoteback import QuoteWords
from agent.reading.statements import Hedged, normalise

_CLAUSE = re.compile(r"[,;:()—–]|\s-\s")
_QUOTE_MARKS = '"“”‘’'
_EDGES = _QUOTE_MARKS + "'.,;:!?…()[] "


def hedge_context(
    statement: str, hedge: str, after: int = 4, start: int = 0, pack: Pack | None = None
) -> str:
    """The hedge with up to `after` following words, for quoting back ("some marketing").

    The phrase ends before a verb-like word ("some buildings", not "some buildings just"), at
    punctuation or an opening quote, and never on a word that needs another after it ("a lot
    of old equipment", not "a lot of"). `start` is where this use of the hedge begins.
    """
    words_of = (pack or load_pack()).quoteback
    found = _find(statement, hedge, start)
    if not found:
        return hedge
    rest = re.match(rf"(?:\s+\w[\w'’-]*){{0,{after}}}", statement[found.end() :])
    words = rest.group(0).split() if rest else []
    cut = next((i for i, w in enumerate(words) if normalise(w).lower() in words_of.breaks), None)
    words = words[:cut]
    while words and normalise(words[-1]).lower() in words_of.dangling:
        words.pop()
    return _lower_first(" ".join([found.group(0), *words]).strip(), words_of)


def quote_backs(
    statement: str, hedges: list[Hedged], pack: Pack | None = None
) -> list[tuple[str, str, float]]:
    """`quote_back` for every hedge of a statement, each at its own place in it."""
    out = []
    for hedge in hedges:
        quoted = quote_back(statement, hedge.text, hedge.kind, hedge.start, pack)
        if quoted:
            out.append((*quoted, hedge.weight))
    return out


def quote_back(
    statement: str, hedge: str, kind: str, start: int = 0, pack: Pack | None = None
) -> tuple[str, str] | None:
    """The words to quote back for a hedge and the kind of follow-up they call for, or None.

    "some trade shows" asks which ones; "a lot of hassle" (nothing to count) asks for an
    example; "They find us all kinds of ways" is quoted whole, since "all kinds of ways" says
    nothing; "Referrals, a lot of it" quotes "Referrals"; a bare "The usual." is quoted as it
    is, a bare "Some." not at all.
    """
    words = (pack or load_pack()).quoteback
    said = hedge_context(statement, hedge, start=start, pack=pack).strip(_EDGES)
    phrase = _unquoted(said, words)
    if phrase and kind == "depends":
        return words.depends_tail.sub("", phrase), kind  # "depends on who you ask": "depends"
    if phrase and _has_content(phrase, words):
        return phrase, _kind(phrase, kind, words)
    found = _find(statement, hedge, start)
    clauses = _CLAUSE.split(statement[: found.start()] if found else "")
    own = clauses[-1].split()  # the hedge's own clause: "They find us" + "all kinds of ways"
    while own and _word(own[0]) in words.joiners:
        own = own[1:]
    if _trim(own, words) and _word(own[0]) not in words.asides:
        whole = _unquoted(" ".join([*own, said]), words)
        if whole:
            return whole, kind
    for clause in reversed(clauses[-3:-1]):
        clause_words = clause.split()
        if clause_words and _word(clause_words[0]) in words.asides:
            continue
        earlier = _unquoted(" ".join(_trim(clause_words, words)), words)
        if earlier:
            return earlier, "generic"
    if words.usual_re.search(said):
        return said, "generic"  # "The usual." alone is still worth asking about
    return None  # "Some.", "whatever": the section's own follow-ups ask better than a quote


def _unquoted(phrase: str, words: QuoteWords) -> str:
    """A phrase without its outer quote marks and punctuation; the quotation inside if one is
    left open ('They say "we'll think about it' quotes "we'll think about it"); "" if nothing."""
    phrase = phrase.strip(_EDGES)
    marks = [i for i, c in enumerate(phrase) if c in _QUOTE_MARKS]
    if marks:
        phrase = phrase[marks[-1] + 1 :].strip(_EDGES) if len(marks) % 2 else phrase
    keep = _has_content(phrase, words) or words.depends in phrase.lower()
    return phrase if keep else ""


def _kind(phrase: str, kind: str, words: QuoteWords) -> str:
    """Which follow-up fits: a number for things to count, an example for things to show."""
    lowered = phrase.lower()
    head = words.head_end.split(lowered)[0]  # "a few people" at the top
    last = head.split()[-1] if head else ""
    if kind == "variety" and lowered.startswith(words.some + " ") and words.time_unit.search(head):
        return "number"  # "some weeks"
    if kind == "number" and words.quantity.match(lowered):
        countable = words.plural(last) or last in words.plurals | words.measured
        return "number" if countable else "generic"
    return kind


def _find(statement: str, hedge: str, start: int = 0) -> re.Match[str] | None:
    """The hedge as whole words ("handsome" holds no "some"), at or after `start`."""
    return re.compile(rf"(?<!\w){re.escape(hedge)}(?!\w)", re.IGNORECASE).search(statement, start)


def _has_content(phrase: str, words: QuoteWords) -> bool:
    return any(_word(w) and _word(w) not in words.nothing for w in phrase.split())


def _word(word: str) -> str:
    return normalise(word).lower().strip(_EDGES)


def _trim(clause: list[str], words: QuoteWords) -> list[str]:
    """A clause without leading conjunctions or trailing function words; [] if nothing is left."""
    while clause and _word(clause[0]) in words.joiners:
        clause = clause[1:]
    while clause and (not _word(clause[-1]) or _word(clause[-1]) in words.nothing):
        clause = clause[:-1]
    return clause if _has_content(" ".join(clause), words) else []


def _lower_first(phrase: str, words: QuoteWords) -> str:
    """A sentence-initial capital made lower case; names and "I", "I'd" keep theirs."""
    first = phrase.split(" ", 1)[0]
    if any(first == w or normalise(first).startswith(w + "'") for w in words.capitalised):
        return phrase
    if first[:1].isupper() and (first[1:].islower() or len(first) == 1):
        return phrase[0].lower() + phrase[1:]
    return phrase
