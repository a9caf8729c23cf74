"""Score a CSV of accounts against a rubric: flexible columns, messy numbers, bad rows skipped."""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any

from agent.errors import InputError
from agent.paths import load_yaml, resource
from agent.reading.numbers import point
from agent.reading.quantities import parse_number
from agent.reading.terms import has_term
from agent.scoring.rules import CATEGORIES, NUMERIC_FIELDS, Rubric

DELIMITERS = ",;\t|"
OUTPUT_COLUMNS = (
    "line",
    "account",
    "icp_fit_score",
    "icp_tier",
    "icp_segment",
    "firmographic",
    "technographic",
    "behavioural",
    "rules_matched",
    "disqualification_code",
    "disqualification_reason",
    "unknown_fields",
)


def _key(name: str) -> str:
    """A column name reduced to letters and digits: "No. of Employees" -> "noofemployees"."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in decomposed.casefold() if ch.isalnum())


@cache
def aliases() -> dict[str, str]:
    """Reduced column name -> account field, from prompts/scoring_columns.yaml."""
    data = load_yaml(resource("prompts") / "scoring_columns.yaml")
    return {_key(str(alias)): fld for fld, names in data.items() for alias in [fld, *names]}


@dataclass
class Scored:
    """One account's result."""

    line: int
    account: str
    score: int
    tier: str
    segment: str
    points: dict[str, int]
    matched: list[dict[str, Any]]
    disqualifier: dict[str, str] | None
    unknown: list[str]

    def row(self) -> list[Any]:
        """The CSV output row, in OUTPUT_COLUMNS order."""
        dq = self.disqualifier or {}
        return [
            self.line,
            self.account,
            self.score,
            self.tier,
            self.segment,
            *(self.points[c] for c in CATEGORIES),
            "; ".join(m["id"] for m in self.matched),
            dq.get("code", ""),
            dq.get("reason", ""),
            "; ".join(self.unknown),
        ]

    def as_dict(self) -> dict[str, Any]:
        """The --json form."""
        return {
            "line": self.line,
            "account": self.account,
            "score": self.score,
            "tier": self.tier,
            "segment": self.segment,
            "points": self.points,
            "matched": self.matched,
            "disqualifier": self.disqualifier,
            "unknown": self.unknown,
        }


@dataclass
class Result:
    """Every scored account, the rows skipped and what the reader noticed."""

    accounts: list[Scored] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def csv(self) -> str:
        """Scored accounts as CSV with a header row."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(OUTPUT_COLUMNS)
        writer.writerows(a.row() for a in self.accounts)
        return out.getvalue()

    def json(self) -> str:
        """Scored and skipped rows as one JSON document."""
        data = {
            "accounts": [a.as_dict() for a in self.accounts],
            "skipped": [{"line": n, "reason": why} for n, why in self.skipped],
            "notes": self.notes,
        }
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def decode(data: bytes) -> str:
    """CSV bytes as text: UTF-8 (with or without BOM, or UTF-16 with BOM), else Windows-1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            raise InputError("the accounts file is neither UTF-8 nor Windows-1252 text") from None


def dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    """The CSV dialect, sniffed; the delimiter must occur in the header line."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    try:
        sniffed = csv.Sniffer().sniff(text[:65536], delimiters=DELIMITERS)
        if sniffed.delimiter in first:
            return sniffed
    except csv.Error:
        pass
    counts = {d: first.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.__getitem__)

    class Simple(csv.excel):
        delimiter = best if counts[best] else ","

    return Simple


def score_csv(data: bytes, rubric: Rubric, as_of: date | None = None) -> Result:
    """Score every account row of a CSV file's bytes."""
    as_of = as_of or date.today()
    text = decode(data).replace("\x00", "")
    reader = csv.reader(io.StringIO(text, newline=""), dialect(text))
    result = Result()
    header: list[str] | None = None
    columns: dict[int, str] = {}
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            result.skipped.append((reader.line_num, f"unreadable CSV ({exc})"))
            continue
        if not any(cell.strip() for cell in row):
            continue
        if header is None:
            header, columns = row, _map_columns(row, rubric, result)
            continue
        try:
            account = _account(row, header, columns)
        except ValueError as exc:
            result.skipped.append((reader.line_num, str(exc)))
            continue
        result.accounts.append(score_account(rubric, account, reader.line_num, as_of))
    if header is None:
        raise InputError("the accounts file is empty: it needs a header row and account rows")
    return result


def _map_columns(header: list[str], rubric: Rubric, result: Result) -> dict[int, str]:
    table = aliases()
    columns = {i: table[_key(name)] for i, name in enumerate(header) if _key(name) in table}
    if not columns:
        raise InputError(
            f"none of the columns ({', '.join(h.strip() for h in header[:8])}) is an account "
            "field; name them like Name, Industry, Employees, Revenue, Country, Technologies, "
            "Signals, Lead Source (see prompts/scoring_columns.yaml)"
        )
    ignored = [name.strip() for i, name in enumerate(header) if i not in columns and name.strip()]
    if ignored:
        result.notes.append(f"columns not used for scoring: {', '.join(ignored)}")
    have = set(columns.values())
    for fld in dict.fromkeys(r.field for r in [*rubric.rules, *rubric.disqualifiers]):
        if fld not in have:
            result.notes.append(f"no column for {fld}: rules on it score nothing for any account")
    return columns


def _account(row: list[str], header: list[str], columns: dict[int, str]) -> dict[str, Any]:
    """One row's fields, parsed; ValueError for a row that cannot be read as meant."""
    extra = [cell for cell in row[len(header) :] if cell.strip()]
    if extra:
        raise ValueError(
            f"{len(row)} cells but the header has {len(header)} (a value with an unquoted "
            "delimiter?)"
        )
    account: dict[str, Any] = {}
    for i, fld in columns.items():
        raw = unicodedata.normalize("NFKC", row[i]).strip() if i < len(row) else ""
        if not raw:
            continue
        if fld in NUMERIC_FIELDS:
            if account.get(fld) is not None:
                continue
            try:
                parsed = parse_number(raw)
            except ValueError:
                raise ValueError(f"{header[i].strip()} {raw!r} is not a number") from None
            account[fld] = point(*parsed) if parsed else None
        elif fld == "signal_date":
            account[fld] = _date(raw, header[i].strip())
        else:
            account[fld] = f"{account[fld]}; {raw}" if account.get(fld) else raw
    return account


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%d.%m.%Y", "%d %b %Y", "%d %B %Y", "%b %d, %Y")


def _date(raw: str, column: str) -> date:
    text = re.sub(r"[T ]\d{1,2}:\d{2}.*$", "", raw) if re.match(r"\d{4}-", raw) else raw
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"{column} {raw!r} is not a date (write it as YYYY-MM-DD)")


def score_account(rubric: Rubric, account: dict[str, Any], line: int, as_of: date) -> Scored:
    """Points per category (capped), tier, matched rules and the first disqualifier that holds."""
    points = dict.fromkeys(CATEGORIES, 0)
    matched, unknown = [], []
    for rule in rubric.rules:
        outcome = rule.test(account, as_of)
        if outcome is None:
            unknown.append(rule.field)
        elif outcome:
            points[rule.category] += rule.points
            matched.append({"id": rule.id, "label": rule.label, "points": rule.points})
    points = {c: min(p, rubric.categories.get(c, 0)) for c, p in points.items()}
    hit = next((d for d in rubric.disqualifiers if d.test(account, as_of)), None)
    dq = None
    if hit:
        dq = {"code": hit.code, "id": hit.id, "label": hit.label, "reason": hit.reason}
    total = min(100, sum(points.values()))
    industry = account.get("industry") or ""
    segment = next((t for t in rubric.segments if industry and has_term(industry, t)), "")
    return Scored(
        line=line,
        account=account.get("name") or f"line {line}",
        score=total,
        tier=rubric.tier(total, disqualified=dq is not None),
        segment=segment,
        points=points,
        matched=matched,
        disqualifier=dq,
        unknown=list(dict.fromkeys(unknown)),
    )
