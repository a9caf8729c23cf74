"""ICP drift: what changed between two profile versions or sessions, section by section."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from pydantic import BaseModel, Field

from agent.errors import InputError, NotFound
from agent.profile.models import SECTION_KEYS, SECTION_TITLES, UNSORTED, Item, Profile, Quantity
from agent.report.summary import confidence
from agent.store.db import SessionInfo, Store

SIMILAR = 0.6  # difflib ratio from which two items are one item reworded, not a swap


class Moved(BaseModel):
    """A number or range of one kind that is different in the changed item."""

    kind: str
    old: str
    new: str


class Changed(BaseModel):
    """An item that is still there, reworded or with different numbers."""

    old: str
    new: str
    similarity: float
    moved: list[Moved] = Field(default_factory=list)


class MovedItem(BaseModel):
    """An item (same id) now in another section: `other` is where it came from or went."""

    text: str
    other: str
    other_title: str


class SectionDrift(BaseModel):
    """One section's drift; status and confidence are [old, new] when they changed."""

    key: str
    title: str
    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    changed: list[Changed] = Field(default_factory=list)
    moved_in: list[MovedItem] = Field(default_factory=list)
    moved_out: list[MovedItem] = Field(default_factory=list)
    status: list[str] | None = None
    confidence: list[str] | None = None

    def empty(self) -> bool:
        """True when nothing in the section changed."""
        return not (
            self.added
            or self.removed
            or self.changed
            or self.moved_in
            or self.moved_out
            or self.status
            or self.confidence
        )


class Drift(BaseModel):
    """Two profiles compared: `old` and `new` are references like `3f9c2a1b@4`."""

    old: str
    new: str
    sections: list[SectionDrift]
    unchanged: list[str]

    def unchanged_titles(self) -> list[str]:
        """Titles of the sections that did not change."""
        return [SECTION_TITLES[key] for key in self.unchanged]

    def counts(self) -> dict[str, int]:
        """Items added, removed and changed, and sections with any change."""
        return {
            "added": sum(len(s.added) for s in self.sections),
            "removed": sum(len(s.removed) for s in self.sections),
            "changed": sum(len(s.changed) for s in self.sections),
            "moved": sum(len(s.moved_in) for s in self.sections),
            "sections": len(self.sections),
        }


def parse_ref(ref: str) -> tuple[str, int | None]:
    """`ID` or `ID@VERSION` as (session prefix, version or None)."""
    sid, sep, version = ref.partition("@")
    if not sid or (sep and not version.isdigit()):
        raise InputError(f"{ref!r} is not a session reference; use ID or ID@VERSION")
    return sid, int(version) if sep else None


def load(store: Store, ref: str) -> tuple[SessionInfo, Profile]:
    """The session and the profile version a reference names (latest when none is given)."""
    sid, version = parse_ref(ref)
    session = store.session(sid)
    record = store.profile(session.id, version)
    if record is None:
        raise NotFound(f"session {session.id} has no profile yet")
    return session, Profile.model_validate(record.data)


def default_base(store: Store, ref: str) -> str:
    """What one reference is compared with: a review's starting profile, else the version before."""
    sid, version = parse_ref(ref)
    session = store.session(sid)
    base = session.meta.get("review_of")
    if base:
        return base
    record = store.profile(session.id, version)
    if record is None or record.version < 2:
        raise InputError(f"session {session.id} has one profile version; name two to compare")
    return f"{session.id}@{record.version - 1}"


def between(store: Store, old: str, new: str | None = None) -> Drift:
    """The drift from reference `old` to `new`; with one reference, from its default base (a
    review's reviewed profile, else the version before) to it."""
    if new is None:
        old, new = default_base(store, old), old
    a_session, a = load(store, old)
    b_session, b = load(store, new)
    return compare(a, b, f"{a_session.id}@{a.version}", f"{b_session.id}@{b.version}")


def since(store: Store, old: str, session: SessionInfo, profile: Profile) -> Drift:
    """What changed from the profile reference `old` names to `profile` (of `session`)."""
    old_session, before = load(store, old)
    old_ref, new_ref = f"{old_session.id}@{before.version}", f"{session.id}@{profile.version}"
    return compare(before, profile, old_ref, new_ref)


def compare(old: Profile, new: Profile, old_ref: str = "old", new_ref: str = "new") -> Drift:
    """Section by section: items added, removed, changed; status and confidence changes."""
    sections, unchanged = [], []
    was, now = _places(old), _places(new)
    moved = {i for i in was.keys() & now.keys() if was[i][0] != now[i][0]}
    for key in SECTION_KEYS:
        a, b = old.sections[key], new.sections[key]
        drift = SectionDrift(key=key, title=SECTION_TITLES[key])
        drift.added, drift.removed, drift.changed = match(
            [i for i in a.items if i.id not in moved], [i for i in b.items if i.id not in moved]
        )
        drift.moved_in = [_moved_item(now[i][1], was[i][0]) for i in _ids(b.items) & moved]
        drift.moved_out = [_moved_item(was[i][1], now[i][0]) for i in _ids(a.items) & moved]
        if a.status != b.status:
            drift.status = [a.status, b.status]
        if confidence(a) != confidence(b):
            drift.confidence = [confidence(a), confidence(b)]
        if drift.empty():
            unchanged.append(key)
        else:
            sections.append(drift)
    return Drift(old=old_ref, new=new_ref, sections=sections, unchanged=unchanged)


def _places(profile: Profile) -> dict[str, tuple[str, Item]]:
    """Item id to its section (or unsorted) and the item."""
    places = {item.id: (key, item) for key, item in profile.all_items() if item.id}
    places.update({item.id: (UNSORTED, item) for item in profile.unsorted if item.id})
    return places


def _ids(items: list[Item]) -> set[str]:
    return {item.id for item in items if item.id}


def _moved_item(item: Item, other: str) -> MovedItem:
    title = SECTION_TITLES.get(other, other.capitalize())
    return MovedItem(text=item.text, other=other, other_title=title)


def _key(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def match(old: list[Item], new: list[Item]) -> tuple[list[str], list[str], list[Changed]]:
    """Pair items by id (an item edited in review keeps it), then by text: identical first,
    then the most similar pairs above SIMILAR."""
    left = {i: item for i, item in enumerate(old)}
    right = {j: item for j, item in enumerate(new)}
    changed: list[Changed] = []
    by_id = {item.id: j for j, item in right.items() if item.id}
    for i, item in list(left.items()):
        j = by_id.pop(item.id, None) if item.id else None
        if j is None or j not in right:
            continue
        other = right.pop(j)
        del left[i]
        moved = _moved(item.quantities, other.quantities)
        if other.text != item.text or moved:
            ratio = SequenceMatcher(None, _key(item.text), _key(other.text), autojunk=False).ratio()
            changed.append(
                Changed(old=item.text, new=other.text, similarity=round(ratio, 2), moved=moved)
            )
    by_key = {}
    for j, item in right.items():
        by_key.setdefault(_key(item.text), []).append(j)
    for i, item in list(left.items()):
        found = by_key.get(_key(item.text))
        if found:
            j = found.pop(0)
            moved = _moved(item.quantities, right[j].quantities)
            if moved:
                changed.append(
                    Changed(old=item.text, new=right[j].text, similarity=1.0, moved=moved)
                )
            del left[i], right[j]
    pairs = []
    for i, a in left.items():
        for j, b in right.items():
            matcher = SequenceMatcher(None, _key(a.text), _key(b.text), autojunk=False)
            if matcher.real_quick_ratio() >= SIMILAR and matcher.quick_ratio() >= SIMILAR:
                ratio = matcher.ratio()
                if ratio >= SIMILAR:
                    pairs.append((ratio, i, j))
    for ratio, i, j in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
        if i in left and j in right:
            a, b = left.pop(i), right.pop(j)
            moved = _moved(a.quantities, b.quantities)
            changed.append(Changed(old=a.text, new=b.text, similarity=round(ratio, 2), moved=moved))
    return [b.text for b in right.values()], [a.text for a in left.values()], changed


def _moved(old: list[Quantity], new: list[Quantity]) -> list[Moved]:
    """Numbers and ranges that differ, kind by kind ("-" where one side has none)."""
    out = []
    kinds = list(dict.fromkeys([q.kind for q in old] + [q.kind for q in new]))
    for kind in kinds:
        a = [q for q in old if q.kind == kind]
        b = [q for q in new if q.kind == kind]
        if [(q.low, q.high) for q in a] != [(q.low, q.high) for q in b]:
            out.append(
                Moved(
                    kind=kind,
                    old=", ".join(q.text for q in a) or "-",
                    new=", ".join(q.text for q in b) or "-",
                )
            )
    return out


def format_text(drift: Drift) -> str:
    """The drift for a terminal: one block per changed section, then the unchanged ones."""
    c = drift.counts()
    lines = [
        f"{drift.old} -> {drift.new}: {c['added']} added, {c['removed']} removed, "
        f"{c['changed']} changed, "
        + (f"{c['moved']} moved, " if c["moved"] else "")
        + f"in {c['sections']} of {len(SECTION_KEYS)} sections"
    ]
    for s in drift.sections:
        notes = []
        if s.status:
            notes.append(f"status {s.status[0]} -> {s.status[1]}")
        if s.confidence:
            notes.append(f"confidence {s.confidence[0]} -> {s.confidence[1]}")
        lines.append("")
        lines.append(s.title + (f"  ({', '.join(notes)})" if notes else ""))
        lines += [f"  + {text}" for text in s.added]
        lines += [f"  - {text}" for text in s.removed]
        lines += [f"  > {m.text}  (moved here from {m.other_title})" for m in s.moved_in]
        lines += [f"  < {m.text}  (moved to {m.other_title})" for m in s.moved_out]
        for ch in s.changed:
            lines.append(f"  ~ {ch.old}" if ch.old == ch.new else f"  ~ {ch.old}\n    -> {ch.new}")
            lines += [f"    {m.kind}: {m.old} -> {m.new}" for m in ch.moved]
    if drift.unchanged:
        lines += ["", f"Unchanged: {', '.join(drift.unchanged_titles())}"]
    return "\n".join(lines)
