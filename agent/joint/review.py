"""The joint review: sales and marketing accept, edit, reject or move items, decide conflicts
and sign; every change is a new profile version that records who made it and when."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from agent.errors import ICPError, InputError, NotFound
from agent.interview.pipeline import update_statuses
from agent.joint.conflicts import Conflict, load_conflicts
from agent.lang import load_guide
from agent.profile.models import (
    SECTION_KEYS,
    SECTION_TITLES,
    UNSORTED,
    ConflictDecision,
    Item,
    ItemReview,
    Profile,
    RejectedItem,
    Review,
    Signoff,
)
from agent.reading.quantities import find_quantities
from agent.safety import clean_text
from agent.store.db import SessionInfo, StaleVersion, Store, now

ACTIONS = ("accept", "reject", "edit", "move", "restore")  # identifiers: review actions
TEAMS = ("sales", "marketing")
MAX_CHANGES = 100
LIMITS = {  # identifiers: field names
    "by": 80,
    "name": 80,
    "owner": 80,
    "text": 1000,
    "decision": 2000,
}


class ReviewError(InputError):
    """A review change that cannot be applied; nothing of the request was stored."""


class NotReviewable(ICPError):
    """The session cannot be reviewed yet (an interview still in progress)."""


@dataclass(frozen=True)
class Target:
    """What a review works on: the session, its latest profile and its conflicts."""

    session: SessionInfo
    profile: Profile
    conflicts: list[Conflict]

    @property
    def merged(self) -> bool:
        """True for a profile merged from several interviews."""
        return self.session.meta.get("kind") == "merged"


def load_target(store: Store, sid: str) -> Target:
    """The session to review with its latest profile; an unfinished interview is refused."""
    session = store.session(sid)
    record = store.profile(session.id)
    if record is None:
        raise NotFound(f"session {session.id} has no profile yet")
    if session.status != "complete" and not session.meta.get("kind") == "merged":
        raise NotReviewable(
            f"interview {session.id} is not finished: finish it (or wrap it up) before the "
            "joint review, so the review does not race the interview"
        )
    profile = Profile.model_validate(record.data)
    profile.version = record.version
    return Target(session, profile, load_conflicts(session.meta.get("conflicts")))


def content_hash(profile: Profile) -> str:
    """A hash of what a signature vouches for: items, unsorted statements, decisions, owner."""
    review = profile.review or Review()
    doc = {
        "product": profile.product,
        "sections": {k: [i.model_dump(mode="json") for i in s.items] for k, s in sections(profile)},
        "unsorted": [i.model_dump(mode="json") for i in profile.unsorted],
        "decisions": {k: [d.decision, d.owner, d.due] for k, d in sorted(review.decisions.items())},
        "owner": review.owner,
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]


def sections(profile: Profile) -> list[tuple[str, Any]]:
    """The profile's sections in canonical order."""
    return [(key, profile.sections[key]) for key in SECTION_KEYS]


def signoffs(profile: Profile) -> dict[str, dict | None]:
    """Each team's sign-off, marked current when nothing changed since it was given."""
    review = profile.review or Review()
    digest = content_hash(profile)
    out: dict[str, dict | None] = {}
    for team in TEAMS:
        sign = review.signoffs.get(team)
        if sign is None or sign.session != profile.session:
            out[team] = None  # a carried-over profile (quarterly review) is not signed yet
            continue
        out[team] = {**sign.model_dump(), "current": sign.content == digest}
    return out


def signed(profile: Profile) -> bool:
    """True when both teams signed the profile as it is now."""
    return all(s and s["current"] for s in signoffs(profile).values())


def apply_changes(
    target: Target, changes: list[Any], by: str, at: str | None = None
) -> tuple[Profile, list[dict]]:
    """A new profile with the changes applied, and what each change did (for the version's
    meta). Every change is checked first: one bad change refuses the whole request."""
    by = _text(by, "by", "your name")
    if not isinstance(changes, list) or not changes:
        raise ReviewError('"changes" must be a non-empty list')
    if len(changes) > MAX_CHANGES:
        raise ReviewError(f"at most {MAX_CHANGES} changes at once")
    at = at or now()
    profile = target.profile.model_copy(deep=True)
    review = profile.review = profile.review or Review()
    touched: set[str] = set()
    done = []
    signing = []
    for n, change in enumerate(changes, 1):
        if not isinstance(change, dict):
            raise ReviewError(f"change {n} must be a JSON object")
        if "item" in change:
            record = _item_change(profile, review, change, by, at, touched)
        elif "conflict" in change:
            record = _conflict_change(target, review, change, by, at)
        elif "signoff" in change:
            team = change["signoff"]
            if team not in TEAMS:
                raise ReviewError(f'change {n}: "signoff" is "sales" or "marketing"')
            name = _text(change.get("name"), "name", "the signer's name")
            signing.append((team, name))
            record = {"signoff": team, "name": name}
        elif "owner" in change:
            review.owner = _text(change["owner"], "owner", "the owner's name")
            record = {"owner": review.owner}
        else:
            raise ReviewError(f'change {n} names no "item", "conflict", "signoff" or "owner"')
        done.append(record)
    _restatus(profile, target.profile, touched)
    digest = content_hash(profile)
    stored_as = target.profile.version + 1  # stored only if the base is still the latest
    for team, name in signing:
        review.signoffs[team] = Signoff(
            name=name, at=at, session=profile.session, version=stored_as, content=digest
        )
    return profile, done


def save_changes(store: Store, sid: str, version: Any, by: Any, changes: Any) -> dict:
    """Apply changes made against `version` and store the result as the next version.

    Raises StaleVersion (409) when someone saved a newer version first: nothing is stored.
    """
    if not isinstance(version, int) or isinstance(version, bool):
        raise ReviewError('"version" must be the profile version the changes were made on')
    by = _text(by, "by", "your name")
    target = load_target(store, sid)
    if target.profile.version != version:
        raise StaleVersion(target.profile.version, version)
    at = now()
    profile, done = apply_changes(target, changes, by, at)
    meta = {"review": {"by": by, "at": at, "base": version, "changes": done}}
    new = store.add_version_after(target.session.id, version, profile.model_dump(mode="json"), meta)
    return {"version": new, "at": at, "changes": done}


def review_doc(store: Store, sid: str) -> dict:
    """What the review page and `GET /api/s/ID/review` show."""
    target = load_target(store, sid)
    profile, session = target.profile, target.session
    review = profile.review or Review()
    roles = {s["id"]: s.get("role") or s["id"] for s in session.meta.get("sources", [])}

    def item_doc(item: Item) -> dict:
        mark = review.items.get(item.id)
        doc = {
            "id": item.id,
            "text": item.text,
            "status": mark.status if mark else "pending",
            "evidence": [
                {"turn": ev.turn, "quote": ev.quote, "session": ev.session or session.id}
                | ({"who": roles[ev.session]} if ev.session in roles else {})
                for ev in item.evidence
            ],
            "support": [s.split(":", 1)[-1] for s in item.support],
        }
        if mark:
            doc |= {"by": mark.by, "at": mark.at, "was": mark.was, "moved_from": mark.moved_from}
        return doc

    history = [
        {
            "version": v,
            "at": meta["review"]["at"],
            "by": meta["review"]["by"],
            "changes": meta["review"]["changes"],
        }
        for v, _created, meta in store.versions(session.id)
        if "review" in meta
    ]
    return {
        "session": session.id,
        "company": session.company or profile.company,
        "kind": "merged" if target.merged else "interview",
        "version": profile.version,
        "sections": {
            key: {
                "title": SECTION_TITLES[key],
                "status": section.status,
                "items": [item_doc(i) for i in section.items],
            }
            for key, section in sections(profile)
        },
        "unsorted": [item_doc(i) for i in profile.unsorted],
        "rejected": [
            {"id": r.item.id, "text": r.item.text, "section": r.section, "by": r.by, "at": r.at}
            for r in review.rejected
        ],
        "conflicts": [
            {
                **c.model_dump(mode="json"),
                "decision": review.decisions[c.id].model_dump()
                if c.id in review.decisions
                else None,
            }
            for c in target.conflicts
        ],
        "owner": review.owner,
        "signoffs": signoffs(profile),
        "signed": signed(profile),
        "history": history[-20:],
    }


# changes
def _item_change(
    profile: Profile, review: Review, change: dict, by: str, at: str, touched: set[str]
) -> dict:
    item_id, action = change.get("item"), change.get("action")
    if action not in ACTIONS:
        raise ReviewError(f"action must be one of {', '.join(ACTIONS)}, not {action!r}")
    if action == "restore":
        return _restore(profile, review, item_id, touched)
    where, item = _find(profile, item_id)
    mark = review.items.get(item.id)
    record: dict = {"item": item.id, "action": action, "section": where, "text": item.text}
    if action == "accept":
        if where == UNSORTED:
            raise ReviewError(f"item {item.id} is unsorted: move it to a section, or reject it")
        review.items[item.id] = ItemReview(
            status="accepted",
            by=by,
            at=at,
            was=mark.was if mark else "",
            moved_from=mark.moved_from if mark else "",
        )
    elif action == "edit":
        text = _text(change.get("text"), "text", "the item's new words")
        if text != item.text:
            was = mark.was if mark and mark.was else item.text
            item.text = text
            item.quantities = find_quantities(text)  # rules read the numbers of the new words
            review.items[item.id] = ItemReview(
                status="edited",
                by=by,
                at=at,
                was=was,
                moved_from=mark.moved_from if mark else "",
            )
            record["new_text"] = text
            touched.add(where)
    elif action == "move":
        to = change.get("section")
        if to not in SECTION_KEYS:
            raise ReviewError(f"move item {item.id} to one of: {', '.join(SECTION_KEYS)}")
        if to == where:
            raise ReviewError(f"item {item.id} is already in {SECTION_TITLES[to]}")
        _remove(profile, where, item)
        profile.sections[to].items.append(item)
        review.items[item.id] = ItemReview(
            status="moved",
            by=by,
            at=at,
            was=mark.was if mark else "",
            moved_from=where,
        )
        record["to"] = to
        touched.update({where, to})
    else:  # reject
        _remove(profile, where, item)
        review.items.pop(item.id, None)
        review.rejected.append(RejectedItem(item=item, section=where, by=by, at=at))
        touched.add(where)
    return record


def _restore(profile: Profile, review: Review, item_id: Any, touched: set[str]) -> dict:
    found = next((r for r in review.rejected if r.item.id == item_id), None)
    if found is None:
        raise ReviewError(f"no rejected item {item_id!r} to restore")
    review.rejected.remove(found)
    if found.section == UNSORTED:
        profile.unsorted.append(found.item)
    else:
        profile.sections[found.section].items.append(found.item)
    touched.add(found.section)
    return {
        "item": found.item.id,
        "action": "restore",
        "section": found.section,
        "text": found.item.text,
    }


def _find(profile: Profile, item_id: Any) -> tuple[str, Item]:
    for key, section in sections(profile):
        for item in section.items:
            if item.id == item_id:
                return key, item
    for item in profile.unsorted:
        if item.id == item_id:
            return UNSORTED, item
    raise ReviewError(
        f"no item {item_id!r} in this version (rejected or changed by someone else? reload)"
    )


def _remove(profile: Profile, where: str, item: Item) -> None:
    items = profile.unsorted if where == UNSORTED else profile.sections[where].items
    items.remove(item)


def _conflict_change(target: Target, review: Review, change: dict, by: str, at: str) -> dict:
    cid = change["conflict"]
    conflict = next((c for c in target.conflicts if c.id == cid), None)
    if conflict is None:
        raise ReviewError(f"no conflict {cid!r} in this profile")
    decision = _text(change.get("decision"), "decision", "the decision")
    owner = _text(change.get("owner"), "owner", "who owns the decision")
    due = change.get("due")
    try:
        due = date.fromisoformat(due).isoformat() if isinstance(due, str) else None
    except ValueError:
        due = None
    if due is None:
        raise ReviewError('"due" must be a date like 2026-12-31')
    review.decisions[cid] = ConflictDecision(decision=decision, owner=owner, due=due, by=by, at=at)
    return {
        "conflict": cid,
        "title": conflict.title,
        "decision": decision,
        "owner": owner,
        "due": due,
    }


def _text(value: Any, field: str, what: str) -> str:
    if not isinstance(value, str) or not clean_text(value):
        raise ReviewError(f'"{field}" must be {what}, as text')
    text = " ".join(clean_text(value).split()) if field != "decision" else clean_text(value)
    if len(text) > LIMITS[field]:
        raise ReviewError(f'"{field}" is {len(text):,} characters; the limit is {LIMITS[field]:,}')
    return text


def _restatus(profile: Profile, before: Profile, touched: set[str]) -> None:
    """New statuses for the sections whose items changed; the others keep theirs."""
    keys = touched - {UNSORTED}
    if not keys:
        return
    fresh = profile.model_copy(deep=True)
    update_statuses(fresh, load_guide(), set(), set(SECTION_KEYS))
    for key in keys:
        old = before.sections[key]
        if not profile.sections[key].items and old.status == "declined":
            continue
        profile.sections[key].status = fresh.sections[key].status
