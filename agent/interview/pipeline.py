"""The one per-answer pipeline: extract, merge, settle late items, corrections, statuses.

The live interview, the quarterly review, re-extraction, import and batch all file answers
through `Pipeline`, so an answer means the same profile whichever path stored it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from agent.interview.contract import Context, Engine, Found
from agent.lang import Pack
from agent.lang.guide import Guide
from agent.profile.models import UNSORTED, Item, Profile, new_item_id
from agent.prompts import render
from agent.reading.meaning import Act, answer_act, read_answer
from agent.reading.sections import classify, comparable
from agent.reading.statements import (
    BULLET,
    Span,
    normalise,
    read_statement,
)
from agent.reading.terms import content_words
from agent.reading.thoughts import item_from, thoughts
from agent.store.db import Turn

QUOTED = "customer_language"  # the customers' own words: the same words may be quoted twice


@dataclass
class Filed:
    """What one answer did to the profile, and how it reads for whoever asks next."""

    turn: Turn
    topic: str | None
    changed: list[str] = field(default_factory=list)  # sections that gained items or evidence
    gained: dict[str, int] = field(default_factory=dict)  # new items per section
    dont_know: bool = False  # "I don't know" (or "I'd rather not say") in some form
    exhausted: bool = False  # "that's all I've got": the topic is used up
    asked_back: bool = False  # the respondent asked what the question meant

    @property
    def declined(self) -> bool:
        """True for an answer that gives nothing on the topic: a don't-know or a that's-all."""
        return self.dont_know or self.exhausted


@dataclass
class Extracted:
    """An answer read by the engine and the reader, before it meets the profile."""

    items: Found
    silent: list[Span]  # statements that answered nothing
    act: Act  # what the answer as a whole does


class Pipeline:
    """Files answers into a profile with one engine: extract, merge, late items, corrections.

    An engine that extracts in the background hands over its late items at `settle()`; a
    correction among them to the closing summary is noted like one the floor found.
    """

    def __init__(self, engine: Engine, pack: Pack):
        self.engine, self.pack = engine, pack
        # The closing answer, the sections it could correct and its items: the engine's late
        # items for it may correct something too.
        self._closing: tuple[Turn, set[str], Found] | None = None
        # The statements of each answer that answered nothing, until its late items arrive.
        self._silent: dict[int, list[Span]] = {}
        self._same = SameItems()

    def read(self, turn: Turn, topic: str | None, context: Context) -> Extracted:
        """An answer's items for its topic and what it does, read without the profile: a pure
        engine's reads of many answers can run in other processes."""
        items = self.engine.extract(turn.text, turn.seq, topic, context)
        meanings = read_answer(turn.text, self.pack, topic)
        return Extracted(items, [m.span for m in meanings if not m.says], answer_act(meanings))

    def file(
        self,
        profile: Profile,
        turn: Turn,
        topic: str | None,
        context: Context,
        extracted: Extracted | None = None,
    ) -> Filed:
        """Extract an answer's items for its topic (unless `extracted` already holds them) and
        merge them into `profile`."""
        before = {key: len(section.items) for key, section in profile.sections.items()}
        had = correctable(profile) if topic == "close" else set()
        found = extracted or self.read(turn, topic, context)
        if topic == "close":
            self._closing = (turn, had, found.items)
        changed = merge_answer(
            profile, found.items, turn.text, turn.seq, topic, self.pack, had, self._same
        )
        if self.engine.background:
            self._silent[turn.seq] = found.silent
        return Filed(
            turn=turn,
            topic=topic,
            changed=changed,
            gained={k: max(0, len(s.items) - before[k]) for k, s in profile.sections.items()},
            dont_know=found.act in ("dont_know", "decline"),
            exhausted=found.act == "done",
            asked_back=found.act == "question_back",
        )

    def settle(self, profile: Profile, final: bool = False, wait: float | None = None) -> bool:
        """Merge what the engine extracted in the background; True if the profile changed."""
        pending = self.engine.pending
        silent = self._silent.pop(pending, []) if pending is not None else []
        items = [
            (section, item)
            for section, item in self.engine.settle(final, wait)
            if not _only_in(item, silent)  # a model's item made of words that answered nothing
        ]
        changed = False
        for section, item in items:
            changed = merge(profile, section, item, self._same) or changed
        if items and self._closing and self._closing[0].seq == pending:
            turn, had, floor = self._closing  # a correction the model found at the closing
            among = floor + items
            note_corrections(profile, items, turn.text, turn.seq, had, self.pack, among)
        return changed


def _only_in(item: Item, spans: list[Span]) -> bool:
    """True when every quote of an item lies inside statements that answered nothing."""
    return bool(spans) and all(any(ev.quote in s.text for s in spans) for ev in item.evidence)


def merge(profile: Profile, section: str, item: Item, index: SameItems | None = None) -> bool:
    """Add an item, or its evidence to an identical item; True if the profile changed."""
    items = profile.items_of(section)
    key = comparable(item.text)
    if index is not None and section != QUOTED:
        index.filed[key] = section
    existing = (index or SameItems()).find(items, key)
    if existing is not None:
        have = set(existing.evidence)  # frozen: hashed by value
        new = [ev for ev in item.evidence if ev not in have]
        existing.evidence.extend(new)
        existing.concrete = existing.concrete or item.concrete
        return bool(new)
    if not item.id:
        item.id = new_item_id(section, item, items)
    items.append(item)
    if index is not None:
        index.added(items, key, item)
    return True


class SameItems:
    """The items of each list by their comparable words, so merging stays linear in a long
    import. While answers are filed a list only grows by `merge` or loses items (a correction
    filed out of Unsorted), and item texts stay as they are (only the joint review rewords, on a
    profile of its own): an entry whose list has another length or last item is rebuilt."""

    def __init__(self) -> None:
        self._lists: dict[int, tuple[list[Item], int, Item | None, dict[str, Item]]] = {}
        self.filed: dict[str, str] = {}  # comparable words -> the list `merge` last put them in
        self._of: Profile | None = None  # the profile `filed` was first read from

    def find(self, items: list[Item], key: str) -> Item | None:
        """The first item of `items` whose words are `key`'s, or None."""
        entry = self._lists.get(id(items))
        last = items[-1] if items else None
        if entry is None or entry[0] is not items or entry[1] != len(items) or entry[2] is not last:
            keys: dict[str, Item] = {}
            for existing in items:
                keys.setdefault(comparable(existing.text), existing)
            entry = self._lists[id(items)] = (items, len(items), last, keys)
        return entry[3].get(key)

    def where(self, profile: Profile, key: str) -> str | None:
        """The list (section or Unsorted) that last took these words, or None; read from the
        profile the first time, then kept up to date by `merge`."""
        if self._of is not profile:
            self._of = profile
            for section in [*profile.sections, UNSORTED]:
                if section != QUOTED:
                    for item in profile.items_of(section):
                        self.filed[comparable(item.text)] = section
        return self.filed.get(key)

    def added(self, items: list[Item], key: str, item: Item) -> None:
        """Note an item `merge` just appended to `items` after finding no item like it."""
        entry = self._lists.get(id(items))
        if entry is not None and entry[0] is items and entry[1] == len(items) - 1:
            entry[3].setdefault(key, item)
            self._lists[id(items)] = (items, len(items), item, entry[3])


def merge_answer(
    profile: Profile,
    items: list[tuple[str, Item]],
    answer: str,
    turn: int,
    topic: str | None,
    pack: Pack,
    had: set[str] | None = None,
    index: SameItems | None = None,
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
    index = index or SameItems()
    for section, item in items:
        section = _unless_repeated(profile, section, item, index)
        if merge(profile, section, item, index) and section not in changed:
            changed.append(section)
    if topic == "close":
        note_corrections(profile, items, answer, turn, had, pack)
        for section, item in _corrections_without_cues(profile, answer, turn, had, pack):
            quote = item.evidence[0].quote
            profile.unsorted[:] = [  # it is filed now: no longer waiting in Unsorted
                u
                for u in profile.unsorted
                if (u.evidence[0].turn, u.evidence[0].quote) != (turn, quote)
            ]
            if merge(profile, section, item, index) and section not in changed:
                changed.append(section)
            _note(profile, section, item, turn, pack.guide)
    return changed


def _unless_repeated(profile: Profile, section: str, item: Item, index: SameItems) -> str:
    """Where an item goes when its very words are already filed: a statement repeated word for
    word under another question ("Happy to pull the CRM numbers later.") answers neither, so
    both wait in Unsorted for the joint review, as do later repeats of it."""
    if section in (UNSORTED, QUOTED):
        return section
    key = comparable(item.text)
    other = index.where(profile, key)  # where these words went last: most words are new
    if other is None or other == section:
        return section
    holder = profile.items_of(other)
    earlier = index.find(holder, key)
    if earlier is None:  # gone since (a correction filed it elsewhere): these words are new
        return section
    if other != UNSORTED:  # the item keeps its id: the same statement, waiting elsewhere
        del holder[next(i for i, kept in enumerate(holder) if kept is earlier)]
        merge(profile, UNSORTED, earlier, index)
    return UNSORTED


def correctable(profile: Profile) -> set[str]:
    """The sections a correction at the closing summary can correct: those holding claims."""
    # The customers' quoted words are no claims to correct.
    return {key for key, section in profile.sections.items() if section.items} - {QUOTED}


def note_corrections(
    profile: Profile,
    items: list[tuple[str, Item]],
    answer: str,
    turn: int,
    had: set[str],
    pack: Pack,
    among: list[tuple[str, Item]] | None = None,
) -> None:
    """Note each item said as a correction ("Actually, ...") in its section, if `had` holds it.

    `among` is every item of the answer when `items` are only some (the model's, after the
    rules'): a correction's lead words start after whichever statement came before it.
    """
    among = items if among is None else among
    for section, item in items:
        said = normalise(_as_said(item, among, answer))
        if section in had and pack.guide.correction_re.search(said):
            _note(profile, section, item, turn, pack.guide)


def _note(profile: Profile, section: str, item: Item, turn: int, guide: Guide) -> None:
    """Note a correction in its section, and retract the earlier item it corrects, if one."""
    text = item.text.rstrip(". ").replace('"', "'")
    note = render(guide.closing["correction"], turn=turn, text=text)
    if note not in profile.sections[section].notes:
        profile.sections[section].notes.append(note)
    corrected = _corrected_item(profile, section, item, turn)
    if corrected is not None:
        corrected.retracted, corrected.corrected_by = True, item.id


def _corrected_item(profile: Profile, section: str, item: Item, turn: int) -> Item | None:
    """The earlier item a correction replaces: the one giving another number of the same kind,
    else the one sharing most words (two at least); None when nothing clearly matches."""
    earlier = [
        i
        for i in profile.sections[section].items
        if i is not item and not i.retracted and all(ev.turn != turn for ev in i.evidence)
    ]

    def measures(i: Item) -> set[tuple[str, str, float | None, float | None]]:
        return {(q.kind, (q.unit.split() or [""])[-1].lower(), q.low, q.high) for q in i.quantities}

    mine = measures(item)
    for other in reversed(earlier):
        theirs = measures(other)
        same_kind = {m[:2] for m in mine} & {m[:2] for m in theirs}
        if same_kind and not mine & theirs:
            return other
    words = _content(item.text)
    scored = [(len(words & _content(other.text)), other) for other in earlier]
    best = max(scored, key=lambda pair: pair[0], default=(0, None))
    return best[1] if best[0] >= 2 else None


def _corrections_without_cues(
    profile: Profile, answer: str, turn: int, had: set[str], pack: Pack
) -> Iterator[tuple[str, Item]]:
    """Corrections no cue files, each with the section whose items share most of its words."""
    guide = pack.guide
    for thought in thoughts(answer, pack):
        text = thought.text
        if classify(text, None, guide) or not guide.correction_re.search(normalise(text)):
            continue
        words = _content(text)
        shared = {
            key: len(words & _content(" ".join(i.text for i in profile.sections[key].items)))
            for key in had
        }
        best = max(shared, key=lambda key: shared[key], default=None)
        if best and shared[best] >= 2:
            reading = read_statement(Span(0, len(text), text), pack, best)
            yield best, item_from(text, turn, reading, quote=thought.span.text)


def _content(text: str) -> set[str]:
    """Numbers and the words that carry meaning, for telling which section a correction is about."""
    return content_words(text) | set(re.findall(r"\d[\d,.]*", text))


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
