"""What a follow-up quotes back from a vague answer, and which kind of follow-up fits it."""

from __future__ import annotations

import re

from agent.reading.statements import Hedged, normalise

# Words a quoted-back phrase stops before, and words it may not end on (hedge_context).
_PHRASE_BREAKS = frozenset(
    "is are was were be been am do does did have has had just really also still only even "  # noqa: SIM905
    "don't doesn't didn't won't can't isn't aren't wasn't never always because but so "
    "then when if which who that like away out up off back down over around get gets got "
    "and or how what why where we they i you usually mostly often sometimes typically whose "
    "can could would should will might must haven't hasn't wouldn't couldn't weren't "
    "it's that's there's come comes came find finds found buy buys bought use uses used "
    "need needs want wants".split()
)
_DANGLING = frozenset(
    "of the a an to in on for with at by from and or their our its my this about into as than "  # noqa: SIM905
    "per through via your his her some here there".split()
)


def hedge_context(statement: str, hedge: str, after: int = 4, start: int = 0) -> str:
    """The hedge with up to `after` following words, for quoting back ("some marketing").

    The phrase ends before a verb-like word ("some buildings", not "some buildings just"), at
    punctuation or an opening quote, and never on a word that needs another after it ("a lot
    of old equipment", not "a lot of"). `start` is where this use of the hedge begins.
    """
    found = _find(statement, hedge, start)
    if not found:
        return hedge
    rest = re.match(rf"(?:\s+\w[\w'’-]*){{0,{after}}}", statement[found.end() :])
    words = rest.group(0).split() if rest else []
    cut = next((i for i, w in enumerate(words) if normalise(w).lower() in _PHRASE_BREAKS), None)
    words = words[:cut]
    while words and normalise(words[-1]).lower() in _DANGLING:
        words.pop()
    return _lower_first(" ".join([found.group(0), *words]).strip())


# Words that carry nothing on their own: a phrase of only these ("a lot of it", "that kind of
# thing", "the usual stuff", "not really") is no phrase to quote back.
_NOTHING = """
    stuff thing things kind kinds sort sorts way ways one ones it them they others other place
    everyone everybody everything world suspects lot lots bunch couple few several many much
    plenty some usual typical whatever etc it's there's that's there here these those very
    pretty quite all honestly mainly basically say says said go goes make makes take takes
    know mean turn no not nope maybe yes yeah guess think suppose i i'd i'm i've we'd we're
    we've we'll you'd you're you'll they'll they've they're it'll that'll same
"""
_EMPTY = frozenset(_NOTHING.split()) | _PHRASE_BREAKS | _DANGLING
_LEADING = frozenset("and or but so then also plus".split())  # noqa: SIM905
# A clause opening with these is an aside or a condition, not what the answer is about.
_ASIDE = frozenset("like if which because when although though since unless while".split())  # noqa: SIM905
_CLAUSE = re.compile(r"[,;:()—–]|\s-\s")
_QUANTITY = re.compile(
    r"^(a few|a couple( of)?|several|many|a lot of|lots of|a bunch of|plenty( of)?)\s"
)
_PLURAL = frozenset("people staff folks men women children personnel criteria data".split())  # noqa: SIM905
# Nothing to list, but a number to put on it: "a lot of money", "some time".
_MEASURED = frozenset("money time revenue budget cash volume traffic work spend".split())  # noqa: SIM905
_TIME_UNIT = re.compile(r"\b(minutes|hours|days|weeks|months|quarters|years|time)$")
_QUOTE_MARKS = '"“”‘’'
_EDGES = _QUOTE_MARKS + "'.,;:!?…()[] "


def quote_backs(statement: str, hedges: list[Hedged]) -> list[tuple[str, str, float]]:
    """`quote_back` for every hedge of a statement, each at its own place in it."""
    out = []
    for hedge in hedges:
        quoted = quote_back(statement, hedge.text, hedge.kind, hedge.start)
        if quoted:
            out.append((*quoted, hedge.weight))
    return out


def quote_back(statement: str, hedge: str, kind: str, start: int = 0) -> tuple[str, str] | None:
    """The words to quote back for a hedge and the kind of follow-up they call for, or None.

    "some trade shows" asks which ones; "a lot of hassle" (nothing to count) asks for an
    example; "They find us all kinds of ways" is quoted whole, since "all kinds of ways" says
    nothing; "Referrals, a lot of it" quotes "Referrals"; a bare "The usual." is quoted as it
    is, a bare "Some." not at all.
    """
    said = hedge_context(statement, hedge, start=start).strip(_EDGES)
    phrase = _unquoted(said)
    if phrase and kind == "depends":
        return re.sub(r"\s+on$", "", phrase), kind  # "depends on who you ask": "depends"
    if phrase and _has_content(phrase):
        return phrase, _kind(phrase, kind)
    found = _find(statement, hedge, start)
    clauses = _CLAUSE.split(statement[: found.start()] if found else "")
    own = clauses[-1].split()  # the hedge's own clause: "They find us" + "all kinds of ways"
    while own and _word(own[0]) in _LEADING:
        own = own[1:]
    if _trim(own) and _word(own[0]) not in _ASIDE:
        whole = _unquoted(" ".join([*own, said]))
        if whole:
            return whole, kind
    for clause in reversed(clauses[-3:-1]):
        words = clause.split()
        if words and _word(words[0]) in _ASIDE:
            continue
        earlier = _unquoted(" ".join(_trim(words)))
        if earlier:
            return earlier, "generic"
    if re.search(r"\b(usual|typical|standard)\b", said, re.IGNORECASE):
        return said, "generic"  # "The usual." alone is still worth asking about
    return None  # "Some.", "whatever": the section's own follow-ups ask better than a quote


def _unquoted(phrase: str) -> str:
    """A phrase without its outer quote marks and punctuation; the quotation inside if one is
    left open ('They say "we'll think about it' quotes "we'll think about it"); "" if nothing."""
    phrase = phrase.strip(_EDGES)
    marks = [i for i, c in enumerate(phrase) if c in _QUOTE_MARKS]
    if marks:
        phrase = phrase[marks[-1] + 1 :].strip(_EDGES) if len(marks) % 2 else phrase
    return phrase if _has_content(phrase) or "depend" in phrase.lower() else ""


def _kind(phrase: str, kind: str) -> str:
    """Which follow-up fits: a number for things to count, an example for things to show."""
    lowered = phrase.lower()
    head = re.split(r"\s(?:at|in|on|for|from|with|to|across)\s", lowered)[0]  # "a few people"
    last = head.split()[-1] if head else ""
    if kind == "variety" and lowered.startswith("some ") and _TIME_UNIT.search(head):
        return "number"  # "some weeks"
    if kind == "number" and _QUANTITY.match(lowered):
        plural = last.endswith("s") and not last.endswith(("ss", "ness"))
        return "number" if plural or last in _PLURAL | _MEASURED else "generic"
    return kind


def _find(statement: str, hedge: str, start: int = 0) -> re.Match[str] | None:
    """The hedge as whole words ("handsome" holds no "some"), at or after `start`."""
    return re.compile(rf"(?<!\w){re.escape(hedge)}(?!\w)", re.IGNORECASE).search(statement, start)


def _has_content(phrase: str) -> bool:
    return any(_word(w) and _word(w) not in _EMPTY for w in phrase.split())


def _word(word: str) -> str:
    return normalise(word).lower().strip(_EDGES)


def _trim(words: list[str]) -> list[str]:
    """A clause without leading conjunctions or trailing function words; [] if nothing is left."""
    while words and _word(words[0]) in _LEADING:
        words = words[1:]
    while words and (not _word(words[-1]) or _word(words[-1]) in _EMPTY):
        words = words[:-1]
    return words if _has_content(" ".join(words)) else []


def _lower_first(phrase: str) -> str:
    """A sentence-initial capital made lower case; names and "I", "I'd" keep theirs."""
    first = phrase.split(" ", 1)[0]
    if first == "I" or normalise(first).startswith("I'"):
        return phrase
    if first[:1].isupper() and (first[1:].islower() or len(first) == 1):
        return phrase[0].lower() + phrase[1:]
    return phrase
