"""What `icp score` writes, row by row: CSV, JSON, or the import file of a CRM (HubSpot,
Salesforce), and the one readable line per account of --explain. Every CSV cell goes through
agent.safety.csv_cell, whatever its source: account names and rule reasons are untrusted."""

from __future__ import annotations

import csv
import json
from functools import cache
from typing import Any, TextIO

from agent.errors import InputError
from agent.paths import load_yaml, resource
from agent.safety import csv_row as safe_row
from agent.scoring.plan import Scored
from agent.scoring.rules import CATEGORIES, Rubric

FORMATS = ("csv", "json", "hubspot", "salesforce")  # identifiers: output formats
OUTPUT_COLUMNS = (  # identifiers: CSV column names
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
    "icp_data_coverage",
    "icp_needs_data",
    "record_id",
)


@cache
def settings() -> dict[str, Any]:
    """prompts/scoring_output.yaml: CRM file shapes and --explain wording."""
    return load_yaml(resource("prompts") / "scoring_output.yaml")


def explain(scored: Scored, rubric: Rubric) -> str:
    """One line: the tier and why ("B: Employees 150-2,000 (+17), Manhattan in Description
    (+10); unknown: signals; needs data")."""
    words = settings()["explain"]
    dq = scored.disqualifier
    if dq:
        what = dq.get("what") or dq["label"]
        key = "out_in_column" if dq.get("column") else "out"
        return words[key].format(code=dq["code"], what=what, column=dq.get("column", ""))
    head_key = "projected" if scored.projected else "tier"
    head = words[head_key].format(
        tier=scored.tier, coverage=scored.coverage, reachable=rubric.reachable
    )
    parts = []
    for hit in scored.matched:
        what = hit.get("what") or hit["label"]
        key = "in_column" if hit.get("column") else "matched"
        parts.append(words[key].format(what=what, column=hit.get("column"), points=hit["points"]))
    text = f"{head}: {', '.join(parts) or words['nothing']}"
    if scored.unknown:
        text += "; " + words["unknown"].format(fields=", ".join(scored.unknown))
    if scored.needs_data:
        text += "; " + words["needs_data"]
    return text


def csv_row(scored: Scored, explain_column: bool) -> list[Any]:
    """The --format csv row, in OUTPUT_COLUMNS order (and the explanation last)."""
    dq = scored.disqualifier or {}
    matched = scored.rules_matched or "; ".join(
        m["id"] + (f" ({m['column']})" if m.get("column") else "") for m in scored.matched
    )
    row = [
        scored.line,
        scored.account,
        scored.score,
        scored.tier,
        scored.segment,
        *(scored.points[c] for c in CATEGORIES),
        matched,
        dq.get("code", ""),
        dq.get("reason", ""),
        "; ".join(scored.unknown),
        scored.coverage,
        "true" if scored.needs_data else "false",
        scored.record_id,
    ]
    if explain_column:
        row.append(scored.explanation)
    return safe_row(row)


class Writer:
    """Writes scored accounts to a text stream as they come."""

    def __init__(self, fmt: str, out: TextIO, explain: bool = False):
        if fmt not in FORMATS:
            raise InputError(f"unknown format {fmt!r}; choose {', '.join(FORMATS)}")
        self.fmt, self.out, self.explain = fmt, out, explain
        self.count = 0
        self.without_id = 0
        self.skipped: list[tuple[int, str]] = []
        self.crm = settings()["crm"].get(fmt)
        self._csv = csv.writer(out, lineterminator="\n") if fmt != "json" else None
        self._csv_format = fmt == "csv"

    def begin(self, columns: dict[str, list[str]], notes: list[str]) -> None:
        """The header (CSV) or the opening of the document (JSON)."""
        if self.fmt == "csv":
            self._csv.writerow([*OUTPUT_COLUMNS, *(["explanation"] if self.explain else [])])
        elif self.fmt == "json":
            head = json.dumps({"columns": columns, "notes": notes}, ensure_ascii=False)
            self.out.write(head[:-1] + ', "accounts": [')
        else:
            self._csv.writerow(self._crm_header())

    def _crm_header(self) -> list[str]:
        fields = self.crm["fields"]
        keys = ["score", "tier", "segment", "reason", "coverage", "needs_data"]
        if self.explain:
            keys.append("explanation")
        id_columns = [self.crm["id"]] + ([self.crm["domain"]] if self.crm.get("domain") else [])
        return [*id_columns, *(fields[k] for k in keys)]

    def write(self, scored: Scored) -> None:
        """One account."""
        if self._csv_format:
            self._csv.writerow(csv_row(scored, self.explain))
        elif self.fmt == "json":
            sep = "\n  " if self.count == 0 else ",\n  "
            self.out.write(sep + json.dumps(scored.as_dict(), ensure_ascii=False))
        else:
            ids = [scored.record_id] + ([scored.domain] if self.crm.get("domain") else [])
            if not any(ids):
                self.without_id += 1  # nothing the CRM could match it on
                return
            dq = scored.disqualifier or {}
            values: list[Any] = [
                scored.score,
                scored.tier,
                scored.segment,
                dq.get("code", ""),
                scored.coverage,
                "true" if scored.needs_data else "false",
            ]
            if self.explain:
                values.append(scored.explanation)
            self._csv.writerow(safe_row([*ids, *values]))
        self.count += 1

    def write_chunk(self, text: str, count: int, without_id: int) -> None:
        """Accounts another Writer of this format wrote (in a worker process), in order."""
        if text and self.fmt == "json" and self.count:
            self.out.write(",")  # that writer began its document: no comma before its first
        self.out.write(text)
        self.count += count
        self.without_id += without_id

    def end(self) -> None:
        """The closing of the JSON document, with the rows skipped."""
        if self.fmt == "json":
            skipped = [{"line": n, "reason": why} for n, why in self.skipped]
            tail = json.dumps(skipped, ensure_ascii=False)
            self.out.write(("\n" if self.count else "") + f'], "skipped": {tail}}}\n')
