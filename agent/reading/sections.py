"""Offline extraction: file each statement of an answer into its ICP section, with evidence."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from agent.lang.guide import Guide
from agent.profile.models import Evidence, Item, Profile, new_item_id
from agent.prompts import render
from agent.reading.statements import (
    BULLET,
    Reading,
    Span,
    find_quotes,
    is_dont_know,
    is_filler,
    normalise,
    read_statement,
    split_statements,
)

# The respondent mostly answers the question asked: the section being discussed wins unless
# another section has a defining phrase (a volunteered "they found us on G2"). Incidental
# cues (a price, a tool's name, "audit") turn up in answers about anything, so they do not.
TOPIC_BIAS = 2.5
DEFINING = 3.5
STRONG = 2.0
WEAK = 0.5
CONTINUATION_WORDS = 10  # "That renews them." follows on; a full sentence of its own does not
_SAID_BY = re.compile(
    r"(?:^|[,;:]\s*|\b(?:an?|one|our|the|some|many|most|every|another)\s+)"
    r"((?:[A-Za-z-]+\s+){0,2}?[A-Za-z-]+?)\s+(?:(?:once|always|often|literally)\s+)?"
    r"(?:told us|tells us|says|said|say|put it|calls it|called it|wrote|asked|complained|"
    r"described it as|keep saying|kept saying)\b",
    re.IGNORECASE,
)
_DETERMINER = re.compile(r"^(?:an?|one|our|the|some|many|most|every|another)\s+", re.IGNORECASE)
# Words of a sentence that only talks about the talk (contentless).
_TALK = frozenset(
    "i we you they he she it that this there here what how so a an the and or but on about "  # noqa: SIM905
    "out up in to of could would can will should might do did is are was were be been go goes "
    "going went get got lot just really anyway well yeah all right know mean say said guess "
    "think talk talking always again too".split()
)
# One-word replies that answer nothing on their own (a few common non-English ones too).
_REPLIES = frozenset(
    "yep yup nope nah maybe perhaps correct true agreed thanks cool nice great good fine "  # noqa: SIM905
    "idk dunno sometimes mostly often never both neither either none everything nothing "
    "whatever depends unsure no yes sure ok okay hmm n/a na pass skip tbd tbc unknown same "
    "lol meh ditto nein ja non oui nada sí si nee doch".split()
)
_LETTER_DIGIT_LETTER = re.compile(r"[a-z]\d[a-z]")
_CLITIC = re.compile(r"'(?:s|re|ve|d|ll|m)$|n't$")
_PRONOUNS = {"they", "we", "he", "she", "i", "you", "it", "someone", "people", "everyone", "one"}


def section_scores(text: str, guide: Guide) -> dict[str, float]:
    """How strongly a statement is about each section, from the guide's cues."""
    text = normalise(text)
    scores = {}
    for key, section in guide.sections.items():
        defining = {m.group(0).lower() for m in section.defining.finditer(text)}
        strong = {m.group(0).lower() for m in section.strong.finditer(text)}
        weak = {m.group(0).lower() for m in section.weak.finditer(text)}
        # Capped so a list of product names does not outvote what the sentence is about.
        counts = (min(len(defining), 2), min(len(strong), 2), min(len(weak), 2))
        scores[key] = DEFINING * counts[0] + STRONG * counts[1] + WEAK * counts[2]
    return scores


def classify(text: str, topic: str | None, guide: Guide) -> str | None:
    """The section a statement belongs to; the topic under discussion wins weak cases."""
    scores = section_scores(text, guide)
    if topic in scores:
        # A statement with its own cue for the topic being discussed stays there.
        scores[topic] += TOPIC_BIAS + (STRONG if scores[topic] >= STRONG else 0.0)
    best = max(scores, key=lambda key: (scores[key], key == topic))
    threshold = TOPIC_BIAS if topic in scores else 2.0
    return best if scores[best] >= threshold else None


def said_by(statement: str, quote_start: int) -> str:
    """Who said the quoted words, from the words before the quote ("one controller told us")."""
    matches = list(_SAID_BY.finditer(statement[:quote_start]))
    if not matches:
        return ""
    m = matches[-1]
    who = _DETERMINER.sub("", m.group(1).strip())
    return "" if who.lower() in _PRONOUNS else who


def contentless(span: Span, guide: Guide) -> bool:
    """True for talk about talking ("I could go on about that.", "That's how it goes.").

    Only pronouns, auxiliaries and particles, with no cue, name or hedge: "Not for us.",
    "Too big." and "IT does." say something and are kept.
    """
    text = span.text
    words = [_CLITIC.sub("", w) for w in re.findall(r"[\w']+", normalise(text).lower())]
    if not all(w in _TALK for w in words) or re.search(r"\b[A-Z]{2,}\b", text):
        return False
    reading = read_statement(span, guide)
    if reading.quotes or reading.quantities or any(h.weight >= 1 for h in reading.hedges):
        return False
    return not any(section_scores(text, guide).values())


def tidy(text: str) -> str:
    """Item text from a statement: first letter capitalised, whitespace collapsed.

    A first word like "b2b" or "p2p" is an acronym: "B2B saas", not "B2b saas".
    """
    text = " ".join(text.split())
    first, _, rest = text.partition(" ")
    if _LETTER_DIGIT_LETTER.fullmatch(first):
        return f"{first.upper()} {rest}".rstrip()
    return text[:1].upper() + text[1:]


def thoughts(answer: str, guide: Guide) -> list[Span]:
    """Statements grouped into thoughts: a short follow-on sentence with no cue of its own
    ("An acquisition. Thousands of inherited contracts nobody can find.") stays with the one
    before it, so a fact is never split across sections."""
    groups: list[Span] = []
    joinable, size = False, 0
    for span in split_statements(answer):
        if is_filler(span.text, guide) or contentless(span, guide) or not _says(span.text):
            joinable = False
            continue
        follows = (
            joinable
            and size < 3
            and not _listed(answer, span)
            and len(span.text.split()) <= CONTINUATION_WORDS
            and max(section_scores(span.text, guide).values()) < STRONG
            and not find_quotes(span.text)
        )
        if follows:
            start = groups[-1].start
            groups[-1] = Span(start, span.end, answer[start : span.end])
            size += 1
        else:
            groups.append(span)
            size = 1
        joinable = not find_quotes(span.text)
    return groups


def _says(text: str) -> bool:
    """False for a one-word reply that names nothing ("Exactly.", "Nope.", "N/A", "Huh?")."""
    words = re.findall(r"[\w'&+/$%-]+", text)
    if len(words) != 1:
        return len(words) > 1
    word = words[0].lower()
    if any(c.isdigit() for c in word):
        return True  # "50.", "$20k", "G2"
    return (
        sum(c.isalpha() for c in word) >= 2
        and not text.rstrip().endswith("?")
        and word not in _REPLIES
        and word not in _TALK
        and not word.endswith("ly")
    )


def _listed(answer: str, span: Span) -> bool:
    """True for a statement that opens a line of a list: it never joins the one before.

    A line is a list entry when it has a marker ("- ", "1. ") or the line before it does not end
    a sentence ("b2b SaaS" / "50 to 200 employees"); "Usually an audit.\nThat's what..." joins.
    """
    line = answer.rfind("\n", 0, span.start) + 1
    if not line:
        return False
    if BULLET.match(answer, line):
        return True
    opens = not answer[line : span.start].strip()
    return opens and not answer[:line].rstrip().endswith((".", "!", "?", '"', "”"))


def extract(answer: str, turn: int, topic: str | None, guide: Guide) -> Iterator[tuple[str, Item]]:
    """Yield (section, item) for every thought in an answer worth keeping."""
    if is_dont_know(answer, guide):
        return
    for span in thoughts(answer, guide):
        section = classify(span.text, topic, guide)
        reading = read_statement(span, guide, section)
        quotes = reading.quotes
        if section and not (quotes and section == "customer_language"):
            yield section, _item(span.text, turn, reading)
        for quote in quotes:
            who = said_by(span.text, quote.start)
            yield (
                "customer_language",
                Item(
                    text=quote.text,
                    evidence=[Evidence(turn=turn, quote=quote.text)],
                    concrete=True,
                    said_by=who,
                ),
            )


def _item(text: str, turn: int, reading: Reading) -> Item:
    return Item(
        text=tidy(text),
        evidence=[Evidence(turn=turn, quote=text)],
        concrete=reading.concrete,
        quantities=reading.quantities,
    )


@lru_cache(maxsize=16384)  # merge compares against every item: uncached, a long paste was O(n²)
def comparable(text: str) -> str:
    """Words only, case-folded, for telling whether two texts say the same words."""
    return re.sub(r"\W+", " ", normalise(text).casefold()).strip()


def merge(profile: Profile, section: str, item: Item) -> bool:
    """Add an item, or its evidence to an identical item; True if the profile changed."""
    items = profile.sections[section].items
    key = comparable(item.text)
    for existing in items:
        if comparable(existing.text) == key:
            new = [ev for ev in item.evidence if ev not in existing.evidence]
            existing.evidence.extend(new)
            existing.concrete = existing.concrete or item.concrete
            return bool(new)
    if not item.id:
        item.id = new_item_id(section, item, items)
    items.append(item)
    return True


def merge_answer(
    profile: Profile,
    items: list[tuple[str, Item]],
    answer: str,
    turn: int,
    topic: str | None,
    guide: Guide,
    had: set[str] | None = None,
) -> list[str]:
    """Merge an answer's items, returning the sections that changed; a correction to the closing
    summary is also noted in its section.

    Only a section that held items before the answer gets the note (`had`, from `correctable`
    unless the caller already took it): a correction corrects something said earlier, an
    addition to an empty section does not. A correction with no cue of its own ("It should be
    5 to 12 chairs.") goes to the section whose items it shares words and numbers with, since
    it can only be about something the summary said.
    """
    if had is None:
        had = correctable(profile) if topic == "close" else set()
    changed: list[str] = []
    for section, item in items:
        if merge(profile, section, item) and section not in changed:
            changed.append(section)
    if topic == "close":
        note_corrections(profile, items, answer, turn, had, guide)
        for section, item in _corrections_without_cues(profile, answer, turn, had, guide):
            if merge(profile, section, item) and section not in changed:
                changed.append(section)
            _note(profile, section, item, turn, guide)
    return changed


def correctable(profile: Profile) -> set[str]:
    """The sections a correction at the closing summary can correct: those holding claims."""
    return {key for key, section in profile.sections.items() if section.items} - {
        "customer_language"  # its items are quoted words, not claims to correct
    }


def note_corrections(
    profile: Profile,
    items: list[tuple[str, Item]],
    answer: str,
    turn: int,
    had: set[str],
    guide: Guide,
    among: list[tuple[str, Item]] | None = None,
) -> None:
    """Note each item said as a correction ("Actually, ...") in its section, if `had` holds it.

    `among` is every item of the answer when `items` are only some (the model's, after the
    rules'): a correction's lead words start after whichever statement came before it.
    """
    among = items if among is None else among
    for section, item in items:
        if section in had and guide.correction_re.search(normalise(_as_said(item, among, answer))):
            _note(profile, section, item, turn, guide)


def _note(profile: Profile, section: str, item: Item, turn: int, guide: Guide) -> None:
    text = item.text.rstrip(". ").replace('"', "'")
    note = render(guide.closing["correction"], turn=turn, text=text)
    if note not in profile.sections[section].notes:
        profile.sections[section].notes.append(note)


def _corrections_without_cues(
    profile: Profile, answer: str, turn: int, had: set[str], guide: Guide
) -> Iterator[tuple[str, Item]]:
    """Corrections no cue files, each with the section whose items share most of its words."""
    for span in thoughts(answer, guide):
        if classify(span.text, None, guide) or not guide.correction_re.search(normalise(span.text)):
            continue
        words = _content(span.text)
        shared = {
            key: len(words & _content(" ".join(i.text for i in profile.sections[key].items)))
            for key in had
        }
        best = max(shared, key=lambda key: shared[key], default=None)
        if best and shared[best] >= 2:
            yield best, _item(span.text, turn, read_statement(span, guide, best))


_STOPWORDS = frozenset(
    "that this with from they them their have what about were been should would".split()  # noqa: SIM905
)


def _content(text: str) -> set[str]:
    """Numbers and longer words, for telling which section a correction is about."""
    words = re.findall(r"\d[\d,.]*|[a-z][a-z-]{3,}", normalise(text).lower())
    return {w.rstrip("s") for w in words} - _STOPWORDS


def _as_said(item: Item, items: list[tuple[str, Item]], answer: str) -> str:
    """An item's statement with the words that led into it since the statement before, from the
    answer: "That's wrong. The sweet spot is..." or "Actually, the sweet spot is..."."""
    quote = item.evidence[0].quote
    start = answer.find(quote)
    if start < 0:
        return quote
    spans = [(a, a + len(q)) for _, i in items if (a := answer.find(q := i.evidence[0].quote)) >= 0]
    # A statement ends before it, or holds it (the model's item inside the rules' thought).
    before = max((b if b <= start else a for a, b in spans if a < start), default=0)
    lead = BULLET.sub("", answer[before:start]).strip()  # "- Actually, ..." leads with "Actually"
    return f"{lead} {quote}".strip()


def update_statuses(profile: Profile, guide: Guide, declined: set[str], finished: set[str]) -> None:
    """Recompute each section's status: covered, vague, declined or pending."""
    for key, section in profile.sections.items():
        concrete = sum(item.concrete for item in section.items)
        if concrete >= (guide.sections[key].enough or 2) or (concrete and key in finished):
            section.status = "covered"
        elif section.items:
            section.status = "vague"
        else:
            section.status = "declined" if key in declined else "pending"
