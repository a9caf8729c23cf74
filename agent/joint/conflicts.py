"""Name where respondents disagree: size ranges, targeted vs excluded segments, channels."""

from __future__ import annotations

import hashlib
from collections import Counter
from functools import reduce
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field, model_validator

from agent.profile.models import Evidence, Item, Profile
from agent.reading.numbers import fmt_range, overlap
from agent.reading.quantities import sizes
from agent.reading.terms import find_terms, fold, has_term, markets, names, vocabulary

if TYPE_CHECKING:
    from agent.joint.merge import Source

GENERIC_MIN = 3  # a term in more items than this (or a tenth of all terms) is generic
Stance = Literal[
    "says", "targets", "excludes", "credits", "never mentions"
]  # identifiers: conflict stances


class Side(BaseModel):
    """One respondent's position in a conflict, in their own words."""

    respondent: str = Field(description="session:role")
    stance: Stance
    text: str = ""
    evidence: list[Evidence] = Field(default_factory=list)

    @property
    def session(self) -> str:
        """The respondent's session id."""
        return self.respondent.split(":", 1)[0]

    @property
    def role(self) -> str:
        """The respondent's role."""
        return self.respondent.split(":", 1)[-1]


class Conflict(BaseModel):
    """A disagreement to resolve together; never averaged away."""

    id: str = Field(
        default="", description="Stable id: the kind and a hash of the section and title."
    )
    kind: Literal["size", "segment", "channel"]
    section: str
    title: str
    detail: str
    sides: list[Side]

    @model_validator(mode="after")
    def _id(self) -> Conflict:
        """Conflicts stored before ids existed get the one they would get now."""
        if not self.id:
            seed = "\0".join([self.kind, self.section, self.title])
            self.id = f"{self.kind}:{hashlib.sha256(seed.encode()).hexdigest()[:8]}"
        return self


def find_conflicts(profile: Profile, sources: list[Source]) -> list[Conflict]:
    """Every conflict in a merged profile, sizes first, then segments, then channels."""
    sizes_, segments = size_conflicts(profile), segment_conflicts(profile)
    return unique_ids(sizes_ + segments + channel_conflicts(profile, sources))


def unique_ids(conflicts: list[Conflict]) -> list[Conflict]:
    """The conflicts with a suffix on repeated ids (two segment conflicts on one term)."""
    seen: dict[str, int] = {}
    out = []
    for conflict in conflicts:
        n = seen[conflict.id] = seen.get(conflict.id, 0) + 1
        out.append(conflict if n == 1 else conflict.model_copy(update={"id": f"{conflict.id}-{n}"}))
    return out


def load_conflicts(stored: list[dict] | None) -> list[Conflict]:
    """A merged session's conflicts as stored in its meta, each with its id."""
    return unique_ids([Conflict.model_validate(c) for c in stored or []])


def _side(label: str, stance: Stance, items: list[Item]) -> Side:
    session = label.split(":", 1)[0]
    return Side(
        respondent=label,
        stance=stance,
        text=items[0].text if items else "",
        evidence=[ev for item in items for ev in item.evidence if ev.session == session],
    )


def _who(labels: list[str], verb: str, first: bool = False) -> str:
    """ "sales targets it" or "Founder and sales target it" (`first`: starts a sentence)."""
    roles = list(dict.fromkeys(label.split(":", 1)[-1] for label in labels))
    text = f"{' and '.join(roles)} {verb + 's' if len(roles) == 1 else verb} it"
    return text[:1].upper() + text[1:] if first else text


Range = tuple[float | None, float | None]


def size_ranges(profile: Profile, kind: str) -> tuple[dict[str, Range], dict[str, list[Item]]]:
    """Each respondent's employee or revenue range (the span of all they give), and the items
    that give it."""
    ranges: dict[str, Range] = {}
    backing: dict[str, list[Item]] = {}
    for item in profile.sections["company_profile"].items:
        found = [(lo, hi) for k, lo, hi in sizes(item) if k == kind]
        for label in item.support:
            for lo, hi in found:
                ranges[label] = _envelope(ranges.get(label), (lo, hi))
                backing.setdefault(label, []).append(item)
    return ranges, backing


def common_range(ranges: dict[str, Range]) -> Range | None:
    """The range every respondent's range contains, or None when they do not all meet."""
    return reduce(lambda a, b: a and overlap(a, b), ranges.values()) if ranges else None


def size_conflicts(profile: Profile) -> list[Conflict]:
    """Respondents giving different employee or revenue ranges for the companies that fit."""
    out = []
    for kind in ("employees", "revenue"):
        ranges, backing = size_ranges(profile, kind)
        if len(ranges) < 2 or len(set(ranges.values())) < 2:
            continue
        money = kind == "revenue"
        common = common_range(ranges)
        said = "; ".join(
            f"{label.split(':', 1)[-1]} {fmt_range(*r, money=money)}" for label, r in ranges.items()
        )
        if common:
            detail = (
                f"The ranges overlap at {fmt_range(*common, money=money)}. Decide whether the "
                "ICP is the overlap or the wider range, and check it against closed-won deals."
            )
        else:
            detail = (
                "The ranges do not overlap: two segments (fork a second ICP) or one side "
                "remembering its biggest deals. Check the last 20 closed-won deals."
            )
        out.append(
            Conflict(
                kind="size",
                section="company_profile",
                title=f"Company size ({kind}): {said}",
                detail=detail,
                sides=[_side(label, "says", backing[label]) for label in ranges],
            )
        )
    return out


def _envelope(
    a: tuple[float | None, float | None] | None, b: tuple[float | None, float | None]
) -> tuple[float | None, float | None]:
    if a is None:
        return b
    low = None if a[0] is None or b[0] is None else min(a[0], b[0])
    high = None if a[1] is None or b[1] is None else max(a[1], b[1])
    return low, high


def segment_terms(item: Item) -> set[str]:
    """Industries, places and names an item is about, folded."""
    return {fold(t) for t in markets(item.text) + names(item.text)}


def generic_terms(profile: Profile) -> set[str]:
    """Segment terms in many items: what the whole market is called ("warehouses" for a
    warehouse tool), not a segment anyone could target or exclude on its own."""
    counts = Counter(t for _, item in profile.all_items() for t in segment_terms(item))
    return {t for t, n in counts.items() if n > max(GENERIC_MIN, len(counts) // 10)}


def segment_conflicts(profile: Profile) -> list[Conflict]:
    """A segment some respondents target (company profile) and others exclude."""
    out = []
    common = generic_terms(profile)
    for target in profile.sections["company_profile"].items:
        for excluded in profile.sections["exclusions"].items:
            if set(target.support) & set(excluded.support):
                continue  # someone holds both views, so they are compatible
            shared = (segment_terms(target) & segment_terms(excluded)) - common
            if not shared or _sizes_disjoint(target, excluded):
                continue
            out.append(
                Conflict(
                    kind="segment",
                    section="exclusions",
                    title=f"Segment: {', '.join(sorted(shared))}",
                    detail=(
                        f"{_who(target.support, 'target', True)}; "
                        f"{_who(excluded.support, 'exclude')}. "
                        "Decide: in, out, or a negative persona with its reason."
                    ),
                    sides=[_side(lb, "targets", [target]) for lb in target.support]
                    + [_side(lb, "excludes", [excluded]) for lb in excluded.support],
                )
            )
    return out


def _sizes_disjoint(a: Item, b: Item) -> bool:
    """True when both give a size of the same kind and the ranges cannot meet."""
    sa, sb = sizes(a), sizes(b)
    return any(
        ka == kb and overlap((la, ha), (lb, hb)) is None for ka, la, ha in sa for kb, lb, hb in sb
    )


def channel_terms(item: Item) -> list[str]:
    """What a channel item names: brands and communities, or kinds of channel."""
    out: dict[str, str] = {}
    for term in names(item.text) + find_terms(item.text, vocabulary().channels):
        out.setdefault(fold(term), term)
    return list(out.values())


def channel_conflicts(profile: Profile, sources: list[Source]) -> list[Conflict]:
    """A channel some respondents credit and others never mention in any answer."""
    out = []
    channels = profile.sections["channels"].items
    for item in channels:
        terms = channel_terms(item)
        if not terms or not (item.concrete or names(item.text)):
            continue  # "word of mouth, mostly" is too vague to hold against anyone
        silent = [
            src
            for src in sources
            if src.label not in item.support
            and not any(has_term(a, t) for a in src.answers().values() for t in terms)
        ]
        if not silent:
            continue
        sides = [_side(label, "credits", [item]) for label in item.support]
        for src in silent:
            instead = sorted(
                (c for c in channels if src.label in c.support), key=lambda c: not c.concrete
            )[:2]
            sides.append(_side(src.label, "never mentions", instead))
        out.append(
            Conflict(
                kind="channel",
                section="channels",
                title=f"Channel: {', '.join(terms[:3])}",
                detail=(
                    f"{_who(item.support, 'credit', True)}; "
                    f"{_who([s.label for s in silent], 'never mention')}"
                    ". Check first-touch data before moving budget."
                ),
                sides=sides,
            )
        )
    return out
