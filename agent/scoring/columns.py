"""Which column of an accounts file feeds which account field: the header names of real CRM
exports (prompts/scoring_columns.yaml), and --map FIELD=COLUMN for any other."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import cache

from agent.errors import InputError
from agent.paths import load_yaml, resource

FIELDS = (  # identifiers: account fields
    "id",
    "name",
    "domain",
    "industry",
    "employees",
    "revenue",
    "country",
    "state",
    "city",
    "region",
    "locations",
    "technologies",
    "signals",
    "signal_date",
    "source",
    "text",
)
GEO_FIELDS = (
    "country",
    "state",
    "city",
    "region",
)  # identifiers: account fields (all of them feed `region` rules)
NUMBER_FIELDS = ("employees", "revenue", "locations")  # identifiers: account fields
TEXT_FIELDS = ("industry", "technologies", "signals", "source")  # identifiers: account fields
FREE_TEXT_FIELDS = (
    "industry",
    "technologies",
    "signals",
)  # identifiers: account fields (their rules also read `text`)


def key(name: str) -> str:
    """A column name reduced to letters and digits: "No. of Employees" -> "noofemployees"."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in decomposed.casefold() if ch.isalnum())


@dataclass(frozen=True)
class Alias:
    """What a known column name feeds, and the unit its numbers are in."""

    field: str
    times: float = 1


@cache
def aliases() -> dict[str, Alias]:
    """Reduced column name -> what it feeds, from prompts/scoring_columns.yaml."""
    data = load_yaml(resource("prompts") / "scoring_columns.yaml")
    out: dict[str, Alias] = {}
    for fld, names in data.items():
        if fld not in FIELDS:
            raise InputError(f"prompts/scoring_columns.yaml: unknown field {fld!r}")
        for entry in [fld, *names]:
            if isinstance(entry, dict):
                out.setdefault(key(str(entry["name"])), Alias(fld, float(entry.get("times", 1))))
            else:
                out.setdefault(key(str(entry)), Alias(fld))
    return out


@dataclass(frozen=True)
class Column:
    """One column of the file that feeds a field."""

    index: int
    header: str
    field: str
    times: float = 1
    mapped: bool = False  # named by --map

    @property
    def label(self) -> str:
        """The header as printed: stripped, or "column N" when blank."""
        return self.header.strip() or f"column {self.index + 1}"


@dataclass
class Layout:
    """The columns of one file and the fields they feed."""

    header: list[str]
    columns: list[Column] = field(default_factory=list)

    def of(self, *fields: str) -> list[Column]:
        """The columns feeding any of these fields, in file order."""
        return [c for c in self.columns if c.field in fields]

    def feeding(self, rule_field: str) -> list[Column]:
        """The columns a rule on this field reads (its own; not the free text)."""
        return self.of(*GEO_FIELDS) if rule_field == "region" else self.of(rule_field)

    @property
    def unused(self) -> list[str]:
        """Non-blank headers no field reads."""
        used = {c.index for c in self.columns}
        return [h.strip() for i, h in enumerate(self.header) if i not in used and h.strip()]

    def lines(self, rule_fields: list[str]) -> list[str]:
        """What feeds what, and what has nothing: the first lines `icp score` prints."""
        out = []
        for fld in FIELDS:
            mine = self.of(fld)
            if mine:
                names = ", ".join(
                    _quoted(c) + (f" (x{c.times:g})" if c.times != 1 else "") for c in mine
                )
                label = "free text" if fld == "text" else fld
                out.append(f"{label} <- {names}")
        missing = [f for f in dict.fromkeys(rule_fields) if not self.feeding(f)]
        free = self.of("text")
        for fld in missing:
            if fld in FREE_TEXT_FIELDS and free:
                where = ", ".join(_quoted(c) for c in free)
                out.append(f"no column for {fld}: its rules read {where} only")
            else:
                out.append(
                    f"no column for {fld}: its rules cannot be checked (unknown, not a miss)"
                )
        if self.unused:
            out.append(f"columns not used for scoring: {', '.join(self.unused)}")
        return out


def _quoted(column: Column) -> str:
    return f'"{column.label}"'


def parse_map(specs: tuple[str, ...] | list[str]) -> dict[str, list[str]]:
    """--map FIELD=COLUMN options as field -> columns; an empty COLUMN means "no column"."""
    out: dict[str, list[str]] = {}
    for spec in specs:
        fld, sep, column = spec.partition("=")
        fld = fld.strip().lower()
        if not sep or not fld:
            raise InputError(f"--map {spec!r}: write it as FIELD=COLUMN, e.g. industry=Sektor")
        if fld not in FIELDS:
            raise InputError(f"--map {spec!r}: no field {fld!r}; fields: {', '.join(FIELDS)}")
        out.setdefault(fld, [])
        if column.strip():
            out[fld].append(column.strip())
    return out


def _find(header: list[str], wanted: str, spec: str) -> int:
    for test in (
        lambda h: h.strip() == wanted,
        lambda h: h.strip().casefold() == wanted.casefold(),
        lambda h: key(h) == key(wanted),
    ):
        found = [i for i, h in enumerate(header) if test(h)]
        if found:
            return found[0]
    names = ", ".join(h.strip() for h in header if h.strip())
    raise InputError(f"--map {spec}: no column {wanted!r} in the file (columns: {names})")


def _known(name: str) -> Alias | None:
    table = aliases()
    found = table.get(key(name))
    if found is None and " - " in name:  # "Organization - Name", "Organization - Address - City"
        parts = name.split(" - ")
        for i in range(1, len(parts)):
            found = table.get(key(" ".join(parts[i:])))
            if found:
                break
    return found


def layout(header: list[str], mapping: dict[str, list[str]] | None = None) -> Layout:
    """The layout of a file with this header; --map choices replace what names would give."""
    mapping = mapping or {}
    chosen: dict[int, str] = {}
    for fld, wanted in mapping.items():
        for column in wanted:
            chosen[_find(header, column, f"{fld}={column}")] = fld
    out = Layout(header=list(header))
    for i, name in enumerate(header):
        if i in chosen:
            found = _known(name)
            times = found.times if found and found.field == chosen[i] else 1
            out.columns.append(Column(i, name, chosen[i], times, mapped=True))
            continue
        found = _known(name)
        if found and found.field not in mapping:
            out.columns.append(Column(i, name, found.field, found.times))
    if not out.columns:
        raise InputError(
            f"none of the columns ({', '.join(h.strip() for h in header[:8])}) is an account "
            "field; name them like Name, Industry, Employees, Revenue, Country, Technologies, "
            "Signals, Lead Source, Description (see prompts/scoring_columns.yaml), or map them "
            "with --map FIELD=COLUMN"
        )
    return out
