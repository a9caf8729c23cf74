"""Geography for `region` rules: countries and subdivisions from pycountry (ISO 3166), everyday
names and regions from the language pack (prompts/lang/en/geography.yaml).

A rule term ("US", "Midwest", "Texas") is resolved to a place; an account matches it when one of
its geography columns names a place inside it: "United States", "USA" and "US" are one country,
"Ohio" is in the Midwest and the US, "TX" in a state column is Texas (when the record names no
other country). Terms that name no known place ("Chicago", "Bay Area") are matched as words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, cached_property

from agent.errors import InputError
from agent.lang import load_pack
from agent.scoring.cells import END, START, alternation, normalise, phrase
from agent.scoring.conds import NEVER, Cond, Flag, Not, Search, all_of, any_of

Role = str  # "country", "state", "city" or "region" (a free-form place column)
GEO_ROLES: tuple[Role, ...] = ("country", "state", "city", "region")  # identifiers: column roles


@dataclass(frozen=True)
class Place:
    """A country, a subdivision of one, or a region."""

    key: str  # "US", "US-TX", or "@Midwest" for a region
    kind: str  # "country", "subdivision", "region"
    country: str  # the country of a subdivision; "" otherwise
    names: tuple[str, ...]  # lower-case names and aliases
    codes: tuple[str, ...]  # lower-case codes: "us", "usa"; "tx" for US-TX
    atoms: frozenset[str]  # the countries and subdivisions it covers

    @property
    def token(self) -> str:
        """The one word a longer name that contains another place's name is replaced with."""
        return "_" + re.sub(r"[^a-z0-9]", "_", self.key.lower().lstrip("@"))


@dataclass
class Places:
    """Every known place, by key and by name."""

    places: dict[str, Place] = field(default_factory=dict)
    by_name: dict[str, list[str]] = field(default_factory=dict)
    by_code: dict[str, list[str]] = field(default_factory=dict)  # lower code -> keys
    defaults: tuple[str, ...] = ()

    def add(self, place: Place) -> None:
        self.places[place.key] = place
        for name in place.names:
            keys = self.by_name.setdefault(name, [])
            if place.key not in keys:
                keys.append(place.key)

    def closure(self, place: Place) -> frozenset[str]:
        """Its atoms and, for each country among them, that country's subdivisions."""
        countries = {a for a in place.atoms if "-" not in a}
        subs = {p.key for p in self.places.values() if p.country in countries}
        return place.atoms | subs

    def inside(self, outer: Place) -> list[Place]:
        """Every place wholly inside `outer` (itself included)."""
        cover = self.closure(outer)
        return [p for p in self.places.values() if p.atoms and p.atoms <= cover]

    @cached_property
    def ambiguous(self) -> dict[str, list[str]]:
        """Names of more than one place ("Georgia": the country and the US state)."""
        return {n: keys for n, keys in self.by_name.items() if len(keys) > 1}

    def resolve(self, term: str, context: list[str]) -> Place | None:
        """The place a rule term names; `context` (other terms of the rule) settles a name of
        two places: "Georgia" beside "Texas" is the state. None for no known place."""
        text = " ".join(normalise(term).lower().split())
        keys = self.by_name.get(text) or self.by_code.get(text) or []
        if len(keys) == 1:
            return self.places[keys[0]]
        if not keys:
            return None
        near = {self._country_of(c) for c in context if c != term} - {None}
        fitting = [k for k in keys if self.places[k].country in near]
        if len(fitting) == 1:
            return self.places[fitting[0]]
        countries = [k for k in keys if self.places[k].kind == "country"]
        return self.places[countries[0]] if len(countries) == 1 else None

    def _country_of(self, term: str) -> str | None:
        text = " ".join(normalise(term).lower().split())
        keys = self.by_name.get(text) or self.by_code.get(text) or []
        if len(keys) != 1:
            return None
        place = self.places[keys[0]]
        return place.country or (place.key if place.kind == "country" else None)

    @cached_property
    def shadowing(self) -> list[tuple[str, str]]:
        """(name, token) for names that contain another place's name as whole words ("New
        Mexico" holds "Mexico", "South Africa" holds "Africa"), longest first: the geography
        text has them replaced by their place's token before any place is looked for."""
        by_word: dict[str, list[str]] = {}
        for name in self.by_name:
            by_word.setdefault(_words(name)[:1][0] if _words(name) else "", []).append(name)
        out = []
        for name in sorted(self.by_name, key=len, reverse=True):
            keys = self.by_name[name]
            if len(keys) != 1:
                continue
            candidates = {n for w in _words(name) for n in by_word.get(w, ())}
            if any(
                len(n) < len(name)
                and n in name
                and set(self.by_name[n]) != set(keys)
                and re.search(START + phrase(n) + END, name)
                for n in candidates
            ):
                out.append((name, self.places[keys[0]].token))
        return out


def _words(name: str) -> list[str]:
    return re.findall(r"[a-z0-9\u00a1-\U0010ffff]+", name)


def _clean(name: str) -> str:
    """ "Wales [Cymru GB-CYM]" -> "wales"."""
    name = re.sub(r"\s*\[.*?\]", "", name)
    return " ".join(normalise(name).lower().split())


@cache
def places() -> Places:
    """The place index of the default language pack (pycountry loads once, on first use)."""
    import pycountry

    geo = load_pack().geography
    index = Places(defaults=tuple(geo.state_codes_default))
    aliases = {code: [_clean(a) for a in names] for code, names in geo.aliases.items()}
    for c in pycountry.countries:
        names = [
            _clean(getattr(c, k))
            for k in ("name", "official_name", "common_name")
            if getattr(c, k, None)
        ]
        names += [token for token in aliases.get(c.alpha_2, [])]
        place = Place(
            key=c.alpha_2,
            kind="country",
            country="",
            names=tuple(dict.fromkeys(names)),
            codes=(c.alpha_2.lower(), c.alpha_3.lower()),
            atoms=frozenset({c.alpha_2}),
        )
        index.add(place)
    for country, types in geo.subdivisions.items():
        for sub in pycountry.subdivisions.get(country_code=country) or []:
            if sub.type not in types:
                continue
            names = [_clean(sub.name), *aliases.get(sub.code, [])]
            index.add(
                Place(
                    key=sub.code,
                    kind="subdivision",
                    country=country,
                    names=tuple(dict.fromkeys(n for n in names if n)),
                    codes=(sub.code.split("-", 1)[1].lower(),),
                    atoms=frozenset({sub.code}),
                )
            )
    unknown = [
        c for c in [*geo.aliases, *geo.subdivisions, *index.defaults] if c not in index.places
    ]
    if unknown:
        raise InputError(f"geography.yaml: not a known ISO code: {', '.join(unknown)}")
    pending = dict(geo.regions)
    while pending:  # a region may list regions defined after it
        done = []
        for name, region in pending.items():
            members = [
                index.places.get(m) or index.places.get(f"@{_region_key(m, geo)}")
                for m in region.members
            ]
            if any(m is None for m in members):
                continue
            index.add(
                Place(
                    key=f"@{name}",
                    kind="region",
                    country="",
                    names=tuple(dict.fromkeys(_clean(n) for n in [name, *region.aliases])),
                    codes=(),
                    atoms=frozenset().union(*(m.atoms for m in members if m)),
                )
            )
            done.append(name)
        if not done:
            name, region = next(iter(pending.items()))
            bad = [
                m
                for m in region.members
                if m not in index.places and _region_key(m, geo) not in geo.regions
            ]
            raise InputError(f"geography.yaml: region {name}: unknown {', '.join(bad) or 'loop'}")
        for name in done:
            del pending[name]
    for place in index.places.values():
        for code in place.codes:
            index.by_code.setdefault(code, []).append(place.key)
    return index


def _region_key(member: str, geo) -> str:
    return next((name for name in geo.regions if name.casefold() == member.casefold()), member)


# The conditions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeoColumn:
    """A geography column: the key of its prepared text and its role."""

    value: str
    role: Role


def names_pattern(names: list[str]) -> str:
    """Whole-word pattern for place names (or tokens) on lower-cased geography text."""
    return START + alternation([phrase(n) for n in sorted(set(names), key=len, reverse=True)]) + END


def segment_pattern(codes: list[str]) -> str:
    """A code alone between commas ("Dallas, TX 75201, USA"), or alone in the cell."""
    alts = alternation([phrase(c) for c in sorted(set(codes))])
    return f"(?:^|[,;]) ?{alts}(?: [0-9][0-9-]{{2,9}})? ?(?:[,;]|$)"


def found_flag(country: str) -> str:
    """The flag that holds when the record names the country."""
    return f"country:{country}"


NONE_FLAG = "country:none"


@dataclass
class Geo:
    """The region conditions for one file's geography columns."""

    columns: list[GeoColumn]
    index: Places = field(default_factory=places)

    def country_names(self, place: Place) -> list[str]:
        """A country's unambiguous names and the tokens of names replaced by its token."""
        ambiguous = self.index.ambiguous
        return [n for n in place.names if n not in ambiguous] + [place.token]

    def flags(self, countries: set[str]) -> dict[str, Cond]:
        """The "country named" flags those countries need, and whether any country is named."""
        out: dict[str, Cond] = {}
        everything = [p for p in self.index.places.values() if p.kind == "country"]
        for code in sorted(countries):
            out[found_flag(code)] = self._names_country(self.index.places[code])
        names = [n for p in everything for n in self.country_names(p)]
        codes = [c for p in everything for c in p.codes]
        out[NONE_FLAG] = Not(self._mentions(names, codes))
        return out

    def _names_country(self, place: Place) -> Cond:
        return self._mentions(self.country_names(place), list(place.codes))

    def _mentions(self, names: list[str], codes: list[str]) -> Cond:
        parts: list[Cond] = [Search(c.value, names_pattern(names)) for c in self.columns]
        if codes:
            parts += [
                Search(c.value, names_pattern(codes)) for c in self.columns if c.role == "country"
            ]
        return any_of(parts)

    def match(self, terms: list[str]) -> tuple[Cond, set[str]]:
        """The condition that a record is in one of the rule's places (or names a literal
        term), and the countries whose flags it reads."""
        parts: list[Cond] = []
        needed: set[str] = set()
        for term in terms:
            place = self.index.resolve(term, terms)
            if place is None:
                literal = " ".join(normalise(term).lower().split())
                parts += [Search(c.value, names_pattern([literal])) for c in self.columns]
                continue
            cond, countries = self._within(place)
            parts.append(cond)
            needed |= countries
        return any_of(parts), needed

    def _within(self, outer: Place) -> tuple[Cond, set[str]]:
        inside = self.index.inside(outer)
        ambiguous = self.index.ambiguous
        needed: set[str] = set()
        plain = [
            n for p in inside if p.kind != "subdivision" for n in p.names if n not in ambiguous
        ]
        plain += [p.token for p in inside if p.kind != "subdivision"]
        parts: list[Cond] = (
            [Search(c.value, names_pattern(plain)) for c in self.columns] if plain else []
        )
        by_country: dict[str, list[Place]] = {}
        for p in inside:
            if p.kind == "subdivision":
                by_country.setdefault(p.country, []).append(p)
        for country, subs in sorted(by_country.items()):
            needed.add(country)
            consistent = any_of([Flag(found_flag(country)), Flag(NONE_FLAG)])
            names = [n for p in subs for n in p.names if n not in ambiguous] + [
                p.token for p in subs
            ]
            parts.append(
                all_of(
                    [
                        any_of([Search(c.value, names_pattern(names)) for c in self.columns]),
                        consistent,
                    ]
                )
            )
            parts += self._codes(country, subs)
        for name, keys in sorted(ambiguous.items()):
            for key in keys:
                if self.index.places[key] not in inside:
                    continue
                cond, countries = self._ambiguous(name, key, keys)
                parts.append(cond)
                needed |= countries
        codes = [c for p in inside if p.kind == "country" for c in p.codes]
        if codes:
            parts += [
                Search(c.value, names_pattern(codes)) for c in self.columns if c.role == "country"
            ]
        return any_of(parts), needed

    def _codes(self, country: str, subs: list[Place]) -> list[Cond]:
        """State codes: in a state column, and alone between commas in a free-form column."""
        country_codes = {
            c for p in self.index.places.values() if p.kind == "country" for c in p.codes
        }
        first, other = [], []
        for sub in subs:
            for code in sub.codes:
                owners = [
                    d for d in self.index.defaults if f"{d}-{code.upper()}" in self.index.places
                ]
                (first if owners[:1] == [country] else other).append(code)
        found, none = Flag(found_flag(country)), Flag(NONE_FLAG)
        parts: list[Cond] = []
        states = [c for c in self.columns if c.role == "state"]
        loose = [c for c in self.columns if c.role in ("city", "region")]
        for codes, fallback in ((first, True), (other, False)):
            if not codes:
                continue
            when = any_of([found, none]) if fallback else found
            parts += [all_of([Search(c.value, names_pattern(codes)), when]) for c in states]
            safe = [c for c in codes if c not in country_codes]  # "CA", "DE": need the country
            unsafe = [c for c in codes if c in country_codes]
            if safe and fallback:
                parts += [
                    all_of([Search(c.value, segment_pattern(safe)), any_of([found, none])])
                    for c in loose
                ]
            elif safe:
                parts += [all_of([Search(c.value, segment_pattern(safe)), found]) for c in loose]
            if unsafe:
                parts += [all_of([Search(c.value, segment_pattern(unsafe)), found]) for c in loose]
        return parts

    def _ambiguous(self, name: str, key: str, keys: list[str]) -> tuple[Cond, set[str]]:
        """A name of several places counts for the subdivision when the record names its
        country, for the country when the record names none of the others' countries."""
        place = self.index.places[key]
        others = {self.index.places[k].country for k in keys if k != key} - {""}
        mention = any_of([Search(c.value, names_pattern([name])) for c in self.columns])
        if place.kind == "subdivision":
            return all_of([mention, Flag(found_flag(place.country))]), {place.country}
        if place.kind == "country" and others:
            return all_of([mention, *(Not(Flag(found_flag(o))) for o in sorted(others))]), others
        return NEVER, set()


def geo_text(cell: str) -> str:
    """A geography cell as its conditions read it: normalised, lower-cased, and names that
    contain another place's name replaced by their token."""
    text = normalise(cell).lower()
    for rx, token in _shadow_rx():
        text = rx.sub(f" {token} ", text)
    return text


@cache
def _shadow_rx() -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(START + phrase(n) + END), t) for n, t in places().shadowing)


def shadow_guard() -> str:
    """A pattern that finds any of the names geo_text replaces (none found: nothing to do)."""
    return names_pattern([n for n, _ in places().shadowing])


def shadow_patterns() -> list[tuple[str, str]]:
    """(pattern, replacement) of geo_text, in order, for SQL."""
    return [(START + phrase(n) + END, f" {t} ") for n, t in places().shadowing]
