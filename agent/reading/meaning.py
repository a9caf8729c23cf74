"""What a statement does, beyond the words it uses.

Each statement of an answer gives content, answers nothing (the topic is used up, the
respondent does not know or declines, a remark, a story opener, a list header) or asks back
what the question meant. Content carries whether it excludes (who is not a fit) or targets
(the best customers), what it denies ("no Salesforce at most of them"), whether it corrects
itself ("the Northeast, sorry, I mean the Mid-Atlantic") or the statement before it, and
whether it is a guess. The words are the language pack's (`meaning.yaml`); the rule that
makes a non-answer is general: no number, name or quoted words, and every word one people
use to talk about the talk.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from agent.lang import Pack
from agent.lang.meaning import MeaningWords
from agent.profile.models import Quantity
from agent.reading.memo import per_language
from agent.reading.quantities import quantities_in
from agent.reading.sections import DEFINING, STRONG, section_scores
from agent.reading.statements import Span, find_entities, find_quotes, normalise, split_statements
from agent.reading.terms import markets

Act = Literal[  # identifiers: acts of a statement
    "content", "done", "dont_know", "decline", "opener", "header", "aside", "question_back"
]
NON_ANSWERS = frozenset(  # identifiers: acts
    {"done", "dont_know", "decline", "opener", "header", "aside"}
)
HEADER_WORDS = 6  # a list header is short: "Top three:", "A few things:"
SHORT_QUESTION = 4  # "Like what?", "Meaning?": a question back however it is worded
SCOPE_WORDS = 10  # a negation denies at most this many words after it
REMARK_WORDS = 3  # a remark about the speaker has at most this many words of content
SHORT_REPLACEMENT = 4  # "No, the CFO signs.": after a bare "no", a replacement is this short
NEAR_WORDS = 5  # "can't squeeze anything more": a negator this close to "more" denies more
SEGMENT_SIZES = frozenset({"employees", "revenue"})  # identifiers: quantity kinds of a segment
OWN_TOOLS = "technographics"  # the section whose cues, said of "our", name our own tools
_TOKEN = re.compile(r"[\w'’/-]+")
_CLAUSE_END = re.compile(r"[.,;:!?()]")


@dataclass
class Meaning:
    """What one statement does; `text` is what an item should say (a correction applied)."""

    span: Span  # the statement as said
    act: Act
    content: Span  # the part that says something: after "<a remark>, but" when there is one
    text: str = ""
    excludes: bool = False  # says who is not a fit
    targets: bool = False  # says it is about the best customers
    negations: list[str] = field(default_factory=list)  # denied phrases of `text`
    corrects_previous: bool = False  # opens as a correction of the statement before it
    guess: bool = False
    # Read as an exclusion only because of the question asked, although it has another
    # section's strong cue and names no segment ("It's always a pilot first."): a reviewer
    # confirms it before it disqualifies anyone.
    topic_only: bool = False
    about_us: bool = False  # about the speaker, their team or the listener, not the customers
    aside: bool = False  # opens with the speaker or their company and says nothing of customers
    announces: bool = False  # a non-answer saying what came before was wrong ("That's stale.")

    @property
    def says(self) -> bool:
        """True for content: something the profile may hold."""
        return self.act == "content"

    @property
    def certain(self) -> bool:
        """Read without doubt: not a guess, not a remark about the people in the interview or
        the speaker's company, and not both excluding and targeting."""
        return not (self.guess or self.about_us or self.aside or self.topic_only) and not (
            self.excludes and self.targets
        )


@per_language(maxsize=4096)  # a statement's words are asked for by most readers of it
def tokens(text: str, words: MeaningWords) -> tuple[str, ...]:
    """The statement's words, lower-cased, chat spellings read as the words they stand for."""
    out = []
    for raw in _TOKEN.findall(normalise(text).lower()):
        word = raw.strip("'-/")
        if word:
            out.append(words.spellings.get(word, word))
    return tuple(out)


@per_language(maxsize=4096)  # a statement and its clauses are asked about several times
def _named(text: str, pack: Pack, titles: bool = True) -> bool:
    """A number, a name or quoted words: something definite, whatever the other words are. A
    capitalised talk word ("my English is clear") names nothing."""
    if find_quotes(text):
        return True
    if any(not (q.low == q.high == 1) for q in quantities_in(text, pack)):
        return True  # a number; "one customer" alone is no fact
    return any(
        (e.isupper() or " " in e or not pack.meaning.talk(e.lower()))  # "US", "IT" are names
        and (titles or not pack.reading.title.fullmatch(e))  # "IT does." names someone
        for e in find_entities(text, pack)
    )


def _contentful(text: str, pack: Pack) -> list[str]:
    """The words of a statement that are not talk about the talk."""
    return list(_content_words(text, pack))


@per_language(maxsize=4096)
def _content_words(text: str, pack: Pack) -> tuple[str, ...]:
    words = pack.meaning
    return tuple(w for w in tokens(text, words) if not words.talk(w))


def read_meaning(span: Span, pack: Pack, topic: str | None = None) -> Meaning:
    """What one statement does, when it answers a question on `topic`."""
    words, text = pack.meaning, span.text
    stripped = text.rstrip()
    named = _named(text, pack)
    content = _contentful(text, pack)
    short = len(tokens(text, words)) <= HEADER_WORDS
    if stripped.endswith(words.header_end) and short and not named:
        return Meaning(span, "header", span)
    if stripped.endswith("?") and not find_quotes(text):
        # A question is no finding: asked back ("Demo or contract?", "Meaning?"), it waits
        # for the interviewer to clarify; otherwise it is rhetorical or about the interview
        # ("Is this going in a report?"), unless it still states a fact.
        asks_back = bool(words.asking_back_re.search(normalise(text)))
        if asks_back or not _asserts(stripped, pack):
            short = len(tokens(text, words)) <= SHORT_QUESTION and not content
            if asks_back or short or words.alternatives_re.search(text):
                return Meaning(span, "question_back", span)
            return Meaning(span, "aside", span)
    excluding = bool(words.excluding_re.search(normalise(text)))  # "Not for us."
    if not excluding and _offers(text, pack):
        return Meaning(span, "aside", span)
    if not named and not content and not excluding:
        return Meaning(span, _non_answer(text, pack), span, announces=bool(_wrong(text, pack)))
    if not named and not excluding and _announces(text, content, pack):
        return Meaning(span, "aside", span, announces=True)
    if _after_remark(span, pack) is span and not named and _declines(text, pack):
        return Meaning(span, "dont_know", span)  # "no idea, would have to dig through HubSpot"
    if words.elsewhere_re.search(normalise(text)) and not quantities_in(text, pack):
        return Meaning(span, "dont_know", span)  # "I'd have to pull that out of HubSpot"
    if not named and not excluding and _nothing_more(text, content, pack):
        return Meaning(span, "done", span)
    rest = _after_talk(span, pack).text  # "Hmm, where do I begin, family sawmills": no remark
    if not _named(text, pack, False) and not excluding and _remark(rest, pack):
        act = _non_answer(text, pack)
        if act == "aside" and _points_back(tokens(text, words), words):
            act = "done"  # "I think I've emptied the tank on that."
        return Meaning(span, act, span)
    return _content(span, pack, topic)


def _without_numerals(text: str, words: MeaningWords) -> str:
    """The text without Roman numerals after the words that take one ("Class I hump yards",
    "SOC 2 Type I"), which would otherwise read as the speaker's "I"."""
    return words.numbered_re.sub(lambda m: m.group(1), text)


def _asserts(question: str, pack: Pack) -> bool:
    """A statement ending in "?" that still states a fact: a tag at its end ("3PLs with 200 to
    2,000 employees, right?") or a number ("about 90 days?")."""
    tagged = pack.meaning.tag_question_re.search(question)
    return bool(tagged or quantities_in(question, pack))


def _remark(text: str, pack: Pack) -> bool:
    """A remark about the speaker or an unfinished opener: "I talk to these people every day,
    so I have opinions.", "That one still makes me laugh.", "Funny thing, just last month..."
    It names nothing and has no strong cue for any section, and few words of content."""
    words = pack.meaning
    if max(section_scores(text, pack.guide).values()) >= STRONG:
        return False
    if words.replacing_re.search(normalise(text)) or words.correcting_re.match(normalise(text)):
        return False  # "the northeast, sorry, I mean the mid-atlantic" corrects a fact
    said = tokens(_without_numerals(text, words), words)
    about_me = bool(said) and (said[0] in words.speaker or bool(set(said) & words.speaker))
    trailing = text.rstrip().endswith(("...", "…"))
    return (about_me or trailing) and len(_contentful(text, pack)) <= REMARK_WORDS


def _offers(text: str, pack: Pack) -> bool:
    """ "Happy to send slides on that later.": the speaker offers the interviewer something
    for later (see `handing` in the pack), which is no finding about the customers."""
    words = pack.meaning
    said = tokens(text, words)
    if not _says_any(said, words.later):
        return False
    verb = next((i for i, w in enumerate(said) if w in words.handing), None)
    return verb is not None and not set(said[:verb]) & words.customers


def _wrong(text: str, pack: Pack) -> list[str]:
    """The words by which a statement says something was wrong ("I got that wrong", "that's
    stale"); a bare "no," is not enough (see `_corrects`)."""
    words = pack.meaning
    said = [m.group(0) for m in pack.guide.correction_re.finditer(normalise(text))]
    return said if any(not words.negative(w.strip(" ,").lower()) for w in said) else []


def _announces(text: str, content: Sequence[str], pack: Pack) -> bool:
    """ "That number's stale, actually.", "Let me fix that.": says what came before was wrong,
    and nothing else (no other word of content, no customer, no strong cue): the next
    statement corrects it."""
    wrong = _wrong(text, pack)
    if not wrong:
        return False
    if set(content) - set(tokens(" ".join(wrong), pack.meaning)):
        return False  # "I got that wrong, it's orthodontists" says what is right
    if set(tokens(text, pack.meaning)) & pack.meaning.customers:
        return False
    return max(section_scores(text, pack.guide).values()) < STRONG


def _nothing_more(text: str, content: list[str], pack: Pack) -> bool:
    """ "Nothing more springs to mind there.", "Can't squeeze anything more out of that topic",
    "Tapped out on that one": nothing more to say, however it is put. A negative word shortly
    before a word for more of it, or words pointing back at the question (and not at the
    speaker: "Our team has opinions on this one" is a remark); one word of content at most, no
    customer and no strong cue."""
    words = pack.meaning
    said = tokens(text, words)
    if len(content) > 1 or set(said) & words.customers:
        return False
    near = [i for i, word in enumerate(said) if words.negative(word)]
    more = any(w in words.done for i in near for w in said[i : i + NEAR_WORDS])
    back = not set(said) & words.ours and _points_back(said, words)
    if not (more or back):
        return False  # neither "nothing more" nor "tapped out on that one"
    return max(section_scores(text, pack.guide).values()) < STRONG


def _declines(text: str, pack: Pack) -> bool:
    """ "I couldn't tell you, that's not something we've looked at": a don't-know phrase and
    no cue that would make the rest a fact."""
    if not pack.guide.dont_know_re.search(normalise(text)):
        return False
    return max(section_scores(text, pack.guide).values()) < DEFINING


def _non_answer(text: str, pack: Pack) -> Act:
    words = pack.meaning
    said = set(tokens(text, words))
    if words.done_re.search(normalise(text)) or pack.guide.exhausted_re.search(normalise(text)):
        return "done"
    if said & words.done:
        return "done"  # "More I cannot say about this."
    if pack.guide.dont_know_re.search(normalise(text)):
        return "dont_know"
    for act, markers in (
        ("done", words.done),
        ("dont_know", words.dont_know),
        ("decline", words.decline),
        ("opener", words.opener),
    ):
        if said & markers:
            return act  # type: ignore[return-value]
    return "aside"


def _points_back(said: tuple[str, ...], words: MeaningWords) -> bool:
    """Whether a statement's words point back at the question ("on that one", "about this")."""
    return _says_any(said, words.about_question)


def _says_any(said: tuple[str, ...], phrases: Iterable[str]) -> bool:
    """Whether a statement's words hold one of the phrases, as whole words."""
    folded = f" {' '.join(said)} "
    return any(f" {phrase} " in folded for phrase in phrases)


def _content(span: Span, pack: Pack, topic: str | None) -> Meaning:
    """A statement with content: the part that says it, polarity, denials, corrections."""
    words = pack.meaning
    content = _after_remark(span, pack)
    corrects_previous = False
    opening = words.correcting_re.match(normalise(content.text))
    if opening and opening.end() < len(content.text):
        corrects_previous = True
        content = _tail(content, opening.end())
    said = content.text  # a guess may be said in the talk before the content ("hard to say")
    content = _after_talk(content, pack)
    lead = said[: len(said) - len(content.text)]
    corrects_previous = corrects_previous or _corrects(lead, content.text, pack)
    text, retracted, dropped = _corrected(content.text, words)
    if lead.strip():
        text = text[:1].upper() + text[1:]  # "No, we don't see Salesforce." says "We don't..."
    meaning = Meaning(
        span,
        "content",
        content,
        text=text,
        targets=bool(words.targeting_re.search(normalise(text))),
        corrects_previous=corrects_previous,
        guess=bool(words.guessing_re.search(normalise(said))),
    )
    # About the speaker or their company, not the customers ("We're 9 people.", "Twelve years
    # in this business and it still surprises me."), naming no market ("Our strongest regions
    # are Ontario and Colorado." names one): in the exclusions topic too, it excludes no one.
    own = bool(_ours(text, pack))
    ours = own and not markets(text, pack.vocabulary)
    ours = ours and all(our_words(text, q.start, pack) for q in find_quotes(text))
    said_so = bool(words.excluding_re.search(normalise(text)))
    by_topic = topic == "exclusions" and not (meaning.targets or ours)
    meaning.excludes = said_so or (by_topic and not _elsewhere(text, pack))
    meaning.topic_only = meaning.excludes and not said_so and _about_else(text, pack)
    meaning.negations = [text] if retracted else negated_phrases(text, words)
    # A dropped word said again ("..., Michigan was only ever two accounts") is no claim, nor
    # one said in the statement before ("... and Austria also. Sorry, not Austria, I mean...").
    meaning.negations += dropped
    # Naming nothing, it is about the people in the interview ("We argue about this in
    # marketing every quarter.").
    about_us = own and not _named(text, pack, False)
    meaning.about_us = not (meaning.excludes or meaning.targets) and about_us
    meaning.aside = not (meaning.excludes or meaning.targets) and ours
    return meaning


def our_words(statement: str, quote_start: int, pack: Pack) -> bool:
    """Whether quoted words are the speaker's side's, not the customers': the words before
    them open with "I", "we" or "our" and say nothing of the customers ("My team calls our CRM
    'the swamp'"); "We hear 'X'" or "A CTO told me 'X'" quote the customers."""
    before = statement[:quote_start]
    said = _ours(before, pack)
    if not said:
        return False
    words = pack.meaning  # the speaker's side says them: "we call it", not "a CTO told me"
    lead = next((w for w in said if w in words.ours or not words.talk(w)), None)
    return lead in words.ours


def _ours(text: str, pack: Pack) -> tuple[str, ...]:
    """The words of a statement that says "I", "we" or "our", with nothing that puts the
    customers in it (a customer word, a verb of dealing with them or of the product connecting
    to their tools) and no strong cue but one for the speaker's own tools; () for any other
    statement."""
    words = pack.meaning
    said = tokens(_without_numerals(text, words), words)
    seen = set(said)
    if not seen & words.ours or seen & (words.customers | words.dealing | words.connecting):
        return ()
    scores = section_scores(text, pack.guide)
    if max(scores.values()) < STRONG:
        return said
    # The customers' tools are the technographics: "Our CRM's Attio" names the speaker's own.
    return said if max(scores, key=scores.__getitem__) == OWN_TOOLS else ()


def _corrects(lead: str, rest: str, pack: Pack) -> bool:
    """Whether the talk before a statement's content corrects the statement before it: it
    says something was wrong ("No, I got that wrong, ..."), or it is a bare "no" before a
    short replacement ("No, 35%.", "ugh no, Series B")."""
    if not lead.strip():
        return False
    if _wrong(lead, pack):
        return True
    words = pack.meaning
    said = tokens(rest, words)
    bare = any(words.negative(w) for w in tokens(lead, words))
    return bare and len(said) <= SHORT_REPLACEMENT and not any(words.negative(w) for w in said)


def _tail(span: Span, at: int) -> Span:
    """The span from `at` on, without the spaces that open it."""
    rest = span.text[at:]
    at += len(rest) - len(rest.lstrip())
    return Span(span.start + at, span.end, span.text[at:])


_LEAD_CLAUSE = re.compile(r"[^,;:]*[,;:]\s*")


def _after_talk(span: Span, pack: Pack) -> Span:
    """ "Hmm, where do I start, sawmills, the family kind": the statement without the clauses
    before its content that only talk about the talk (no name, number, word of content or
    customer, and nothing that excludes, targets or corrects)."""
    at = _talk_before(span.text, pack)
    return _tail(span, at) if at else span


@per_language(maxsize=4096)
def _talk_before(text: str, pack: Pack) -> int:
    """Where the content of a statement starts, after the talk before it (see `_after_talk`)."""
    words, at = pack.meaning, 0
    while found := _LEAD_CLAUSE.match(text, at):
        clause = found.group(0)
        rest = text[found.end() :]
        if not rest.strip() or _named(clause, pack):
            break
        content = _content_words(clause, pack)
        if content and not _announces(clause, content, pack):
            break
        if set(tokens(clause, words)) & words.customers:
            break  # "Most of them, ...": the customers are its subject
        folded = normalise(clause)
        if any(pattern.search(folded) for pattern in (words.excluding_re, words.targeting_re)):
            break
        at = found.end()
    return at


def _after_remark(span: Span, pack: Pack) -> Span:
    """ "Not sure of the exact figure, but roughly six weeks": the part after the remark."""
    found = pack.meaning.contrast_re.search(span.text)
    if not found:
        return span
    head, tail = span.text[: found.start()], span.text[found.end() :]
    if _named(head, pack) or _contentful(head, pack) or not tail.strip():
        return span
    start = span.start + found.end()
    return Span(start, span.end, tail)


def _corrected(text: str, words: MeaningWords) -> tuple[str, bool, list[str]]:
    """The statement with a correction inside it applied, whether it takes itself back, and the
    words the correction dropped.

    "Mostly the Northeast, sorry, I mean the Mid-Atlantic" says "Mostly the Mid-Atlantic";
    "we have about 50 reps, I mean 80" says "we have about 80 reps"; "we go to the trade show,
    well, we stopped going last year" takes back what it said first.
    """
    if words.retracting_re.search(normalise(text)):
        return text, True, []
    found = words.replacing_re.search(normalise(text))
    if not found:
        return text, False, []
    before, after = text[: found.start()], text[found.end() :]
    if not after.strip():
        return text, False, []
    head, comma, rest = after.partition(",")  # "Agvance, nearly all of them": Agvance replaces
    first = after.split()[0]
    at = [m.start() for m in re.finditer(rf"(?<!\w){re.escape(first)}(?!\w)", before, re.I)]
    if at:
        return before[: at[-1]] + after, False, _dropped(before[at[-1] :], head, words)
    numbers = list(re.finditer(r"\d+(?:[.,]\d+)*", before))
    new = re.match(r"\d+(?:[.,]\d+)*", after)
    if numbers and new:
        old = numbers[-1]
        said = before[: old.start()] + new.group(0) + before[old.end() :]
        return said + (comma + rest if comma else ""), False, []
    if not words.replacing_strong_re.search(found.group(0)):
        return text, False, []  # "NetSuite, sorry, I'm rambling, and Shopify": a pause
    replaced = before.split()
    while replaced and words.talk(replaced[-1].lower().strip(",.;")):
        replaced.pop()  # "in Tennessee, no, I mean Kentucky": "no," replaces nothing
    cut = len(head.split())
    if words.talk(first.lower().strip(",.")):  # "actually no, it's after harvest": a clause
        return after, False, []
    if 0 < cut < len(replaced):
        if len(replaced) > cut and words.negative(replaced[-cut - 1].lower()):
            cut += 1  # "not Austria, I mean Tyrol": the "not" goes with what it replaced
        dropped = _dropped(" ".join(replaced[-cut:]), head, words)
        return " ".join([*replaced[:-cut], head.strip()]) + comma + rest, False, dropped
    return after, False, []


def _dropped(replaced: str, replacement: str, words: MeaningWords) -> list[str]:
    """The words of content a correction took back: in what it replaced, not in what replaces
    it ("Ohio and Michigan, I mean Ohio and Pennsylvania" drops "Michigan")."""
    kept = set(tokens(replacement, words))
    return [
        word.strip(",.;:")
        for word in replaced.split()
        if (token := tokens(word, words)) and token[0] not in kept and not words.talk(token[0])
    ]


def negated_phrases(text: str, words: MeaningWords) -> list[str]:
    """The phrases a statement denies: from each negator to the end of its clause, and the
    words before anything that takes them back ("... and dropped it")."""
    out = []
    skip = {m.start() for m in words.not_negating_re.finditer(text)}
    for m in words.negator_re.finditer(text):
        if m.start() in skip:
            continue
        end = m.end()
        rest = text[end:]
        stop = _CLAUSE_END.search(rest)
        scope = rest[: stop.start()] if stop else rest
        kept = []
        for word in scope.split():
            if word.lower().strip("'\"") in words.scope_ends or len(kept) >= SCOPE_WORDS:
                break
            kept.append(word)
        if kept:
            phrase = text[m.start() : end] + " " + " ".join(kept)
            if phrase in text:
                out.append(phrase)
    for m in words.undoing_re.finditer(text):  # "tried Shiftboard and dropped it"
        start = max(text.rfind(mark, 0, m.start()) for mark in ".;!?") + 1
        phrase = text[start : m.start()].strip(" ,")
        head, _, last = phrase.rpartition(" ")
        if head and last.lower() in words.scope_ends:  # "... at some point and"
            phrase = head.rstrip(" ,")
        if phrase:
            out.append(phrase)
    return out


def _about_else(text: str, pack: Pack) -> bool:
    """Whether a statement in the exclusions topic has a strong cue of another section and
    names no segment: no kind of company, place, name, headcount or revenue."""
    if _other_cue(text, pack) < STRONG:
        return False
    return not _segment(
        text, pack, [q for q in quantities_in(text, pack) if q.kind in SEGMENT_SIZES]
    )


def _elsewhere(text: str, pack: Pack) -> bool:
    """True for a statement in the exclusions topic that clearly is about something else: a
    defining cue of another section and no segment, tool, size or place in it."""
    if _other_cue(text, pack) < DEFINING:
        return False
    return not _segment(text, pack, quantities_in(text, pack))


def _other_cue(text: str, pack: Pack) -> float:
    """How strongly a statement is about a section other than the exclusions."""
    return max(v for k, v in section_scores(text, pack.guide).items() if k != "exclusions")


def _segment(text: str, pack: Pack, sizes: Sequence[Quantity]) -> bool:
    """Whether a statement names a segment: a kind of company, a place, a name, or one of the
    sizes given."""
    return bool(markets(text, pack.vocabulary) or find_entities(text, pack) or sizes)


def read_answer(answer: str, pack: Pack, topic: str | None = None) -> list[Meaning]:
    """Every statement of an answer, read. A statement right after a don't-know that names
    nothing and has no cue of its own explains the don't-know ("I couldn't tell you. That's one
    of those things I keep meaning to track."), so it is one too."""
    return [replace(m, negations=list(m.negations)) for m in _read_answer(answer, pack, topic)]


@per_language(maxsize=64)  # the pipeline and the engine both read the answer being filed
def _read_answer(answer: str, pack: Pack, topic: str | None) -> tuple[Meaning, ...]:
    out: list[Meaning] = []
    for span in split_statements(answer, pack):
        meaning = read_meaning(span, pack, topic)
        if meaning.says and out and out[-1].act == "dont_know" and _explains(span.text, pack):
            meaning = Meaning(span, "dont_know", span)
        if meaning.says and out and out[-1].announces:  # "That's stale. It's 60 days now."
            meaning = replace(meaning, corrects_previous=True)
        out.append(meaning)
    return tuple(out)


def _explains(text: str, pack: Pack) -> bool:
    """Names nothing and has no cue of its own: it only goes on about what came before."""
    if _named(text, pack):
        return False
    return max(section_scores(text, pack.guide).values()) < DEFINING


def answer_act(meanings: list[Meaning]) -> Act:
    """What the answer as a whole does: content if any statement has some, else the clearest
    non-answer ("that's all" before "I don't know"), or a question back."""
    acts = {m.act for m in meanings}
    for act in ("content", "question_back", "done", "dont_know", "decline"):
        if act in acts:
            return act  # type: ignore[return-value]
    return "aside"
