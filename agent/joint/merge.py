"""Merge interviews with different people of one company into one joint profile."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from agent.errors import InputError, NotFound
from agent.joint.conflicts import Conflict, find_conflicts
from agent.profile.models import SECTION_KEYS, Item, Profile, Quantity, new_item_id
from agent.reading.terms import content_words, fold, names, singular
from agent.store.db import SessionInfo, Store, Turn

MATCH = 0.5  # similarity from which two respondents' items are taken as the same claim
_NAME_BONUS = 0.2  # both name the same product, company or tool
_NUMBER_BONUS = 0.2  # both give the same number
_STATUS_RANK = {"covered": 3, "vague": 2, "declined": 1, "pending": 0}  # identifiers: statuses


@dataclass(frozen=True)
class Source:
    """One respondent's interview: its session, latest profile and transcript."""

    session: SessionInfo
    profile: Profile
    turns: list[Turn]

    @property
    def label(self) -> str:
        """How items record their support: `session:role`."""
        return f"{self.session.id}:{self.session.role or 'respondent'}"

    def answers(self) -> dict[int, str]:
        """The respondent's answers by turn number."""
        return {t.seq: t.text for t in self.turns if t.speaker == "respondent"}


@dataclass(frozen=True)
class MergeResult:
    """The stored merged session, its profile and what the merge found."""

    session: SessionInfo
    profile: Profile
    conflicts: list[Conflict]

    @property
    def agreements(self) -> int:
        """Items backed by two or more respondents."""
        return sum(len(item.support) >= 2 for _, item in self.profile.all_items())

    @property
    def single_source(self) -> int:
        """Items only one respondent gave."""
        return sum(len(item.support) == 1 for _, item in self.profile.all_items())


def merge_sessions(store: Store, ids: list[str], name: str = "") -> MergeResult:
    """Merge the latest profiles of `ids` and store the result as a new, merged session."""
    sources = load_sources(store, ids)
    profile = merge_profiles(sources, cited_answers(store))
    conflicts = find_conflicts(profile, sources)
    company = next(filter(None, (s.session.company or s.profile.company for s in sources)), "")
    meta = {
        "kind": "merged",
        "name": name,
        "sources": [
            {
                "id": s.session.id,
                "role": s.session.role,
                "label": s.label,
                "company": s.session.company,
                "version": s.profile.version,
                "answers": sum(t.is_answer for t in s.turns),
            }
            for s in sources
        ],
        "conflicts": [c.model_dump(mode="json") for c in conflicts],
    }
    profile.company = company
    data = profile.model_dump(mode="json")
    session = store.create_derived(company, "merged", "merge", meta, data)
    profile = profile.model_copy(update={"session": session.id, "version": 1})
    return MergeResult(session, profile, conflicts)


def load_sources(store: Store, ids: list[str]) -> list[Source]:
    """The sessions to merge, each with a profile; all about one company."""
    sources: list[Source] = []
    for sid in ids:
        info = store.session(sid)
        if any(s.session.id == info.id for s in sources):
            raise InputError(f"session {info.id} is given twice")
        if info.meta.get("kind") == "merged":
            parts = ", ".join(s["id"] for s in info.meta.get("sources", []))
            raise InputError(f"{info.id} is already a merged profile; merge its sources ({parts})")
        record = store.profile(info.id)
        if record is None:
            raise NotFound(f"session {info.id} has no profile yet; finish or resume it first")
        sources.append(Source(info, Profile.model_validate(record.data), store.turns(info.id)))
    if len(sources) < 2:
        raise InputError("give at least two sessions to merge (`icp sessions` lists them)")
    companies = {fold(s.session.company or s.profile.company).strip() for s in sources} - {""}
    if len(companies) > 1:
        listed = ", ".join(f"{s.session.id} ({s.session.company or '?'})" for s in sources)
        raise InputError(f"these interviews are about different companies: {listed}")
    return sources


def cited_answers(store: Store) -> Callable[[str], dict[int, str]]:
    """Answers by turn of any session, loaded once: evidence may cite an earlier session (a
    quarterly review's items keep the quotes of the interview they came from)."""

    @cache
    def answers(sid: str) -> dict[int, str]:
        return {t.seq: t.text for t in store.turns(sid) if t.speaker == "respondent"}

    return answers


def merge_profiles(
    sources: list[Source], answers_of: Callable[[str], dict[int, str]] | None = None
) -> Profile:
    """One profile in which similar items from different respondents become one item.

    Every quote is checked against the transcript it cites (`answers_of(session)`; by default
    only the sources' own transcripts are known) and dropped if it is not there."""
    own = {s.session.id: s.answers() for s in sources}
    answers_of = answers_of or (lambda sid: own.get(sid, {}))
    first = sources[0].profile
    merged = Profile(
        company=first.company,
        role="merged",
        product=next((s.profile.product for s in sources if s.profile.product), ""),
    )
    for key in SECTION_KEYS:
        clusters: list[list[tuple[Source, Item]]] = []
        for src in sources:
            for item in src.profile.sections[key].items:
                _place(clusters, src, _verified(item, src, answers_of))
        section = merged.sections[key]
        items = [_combine(cluster) for cluster in clusters if cluster[0][1].evidence]
        section.items = sorted(items, key=lambda item: -len(item.support))
        for item in section.items:  # ids again, from evidence that names its session
            item.id = ""
        for item in section.items:
            item.id = new_item_id(key, item, section.items)
        section.status = max(
            (s.profile.sections[key].status for s in sources), key=_STATUS_RANK.__getitem__
        )
        notes = (n for s in sources for n in s.profile.sections[key].notes)
        section.notes = list(dict.fromkeys(notes))
    return merged


def _place(clusters: list[list[tuple[Source, Item]]], src: Source, item: Item) -> None:
    best, best_score = None, 0.0
    for cluster in clusters:
        if any(other_src is src for other_src, _ in cluster):
            continue  # one item per respondent in a cluster
        score = max(similarity(item, other) for _, other in cluster)
        if score >= MATCH and score > best_score:
            best, best_score = cluster, score
    if best is None:
        clusters.append([(src, item)])
    else:
        best.append((src, item))


def _verified(item: Item, src: Source, answers_of: Callable[[str], dict[int, str]]) -> Item:
    """The item with each quote tagged with the session it cites; quotes not found are dropped."""
    evidence = []
    for ev in item.evidence:
        sid = ev.session or src.session.id
        if ev.quote in answers_of(sid).get(ev.turn, ""):
            evidence.append(ev.model_copy(update={"session": sid}))
    return item.model_copy(update={"evidence": evidence})


def _combine(cluster: list[tuple[Source, Item]]) -> Item:
    ranked = sorted(
        range(len(cluster)),
        key=lambda i: (
            not cluster[i][1].concrete,
            -(len(cluster[i][1].quantities) + len(names(cluster[i][1].text))),
            i,
        ),
    )
    rep = cluster[ranked[0]][1]
    quantities: dict[tuple, Quantity] = {}
    for _, item in cluster:
        for q in item.quantities:
            quantities.setdefault((q.kind, q.low, q.high), q)
    return rep.model_copy(
        update={
            "evidence": [ev for _, item in cluster for ev in item.evidence],
            "quantities": list(quantities.values()),
            "concrete": any(item.concrete for _, item in cluster),
            "said_by": next((item.said_by for _, item in cluster if item.said_by), ""),
            "support": [src.label for src, _ in cluster],
        }
    )


def similarity(a: Item, b: Item) -> float:
    """How likely two items make the same claim: shared words, names and numbers.

    Items giving different numbers for the same measure are different claims (score 0), so a
    size disagreement stays visible instead of being merged away.
    """
    qa, qb = _measures(a), _measures(b)
    shared = qa.keys() & qb.keys()
    if any(not _close_any(qa[k], qb[k]) for k in shared):
        return 0.0
    wa, wb = content_words(a.text), content_words(b.text)
    union = wa | wb
    score = len(wa & wb) / len(union) if union else 0.0
    if {fold(n) for n in names(a.text)} & {fold(n) for n in names(b.text)}:
        score += _NAME_BONUS
    if shared:
        score += _NUMBER_BONUS
    return score


def _measures(item: Item) -> dict[str, list[Quantity]]:
    out: dict[str, list[Quantity]] = {}
    for q in item.quantities:
        key = q.kind
        if q.kind in ("count", "other"):
            key += ":" + singular(fold(q.unit.split()[-1])) if q.unit.split() else ""
        out.setdefault(key, []).append(q)
    return out


def _close_any(xs: list[Quantity], ys: list[Quantity]) -> bool:
    return any(_close(x.low, y.low) and _close(x.high, y.high) for x in xs for y in ys)


def _close(x: float | None, y: float | None) -> bool:
    if x is None or y is None:
        return x is y
    return abs(x - y) <= 0.1 * max(abs(x), abs(y))


def verify_merged(profile: Profile, answers: dict[str, dict[int, str]]) -> list[tuple[str, Item]]:
    """The items of a merged profile whose evidence is not in the cited session's answer."""
    bad = []
    for key, item in profile.all_items():
        cited = (answers.get(ev.session, {}).get(ev.turn, "") for ev in item.evidence)
        if any(ev.quote not in text for ev, text in zip(item.evidence, cited, strict=True)):
            bad.append((key, item))
    return bad
