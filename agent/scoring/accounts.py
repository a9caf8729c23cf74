"""Score a file of accounts against a rubric, streamed: any CRM export's columns, messy numbers,
free text, bad rows reported and skipped, memory that does not grow with the file."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import BinaryIO, TextIO

from agent.errors import ICPError, InputError
from agent.processes import WorkerLost, cores, in_order
from agent.scoring.columns import Layout, layout
from agent.scoring.output import OUTPUT_COLUMNS, Writer
from agent.scoring.plan import RowError, Scored, Scorer, build
from agent.scoring.rules import Rubric

__all__ = ["OUTPUT_COLUMNS", "AccountsFile", "Result", "Summary", "score_csv", "score_stream"]

DELIMITERS = ",;\t|"
SNIFF_CHARS = 65536
PARALLEL_BYTES = 16_000_000  # smaller files finish before a second process pays for itself
BATCH = 2000  # rows sent to a worker process at a time


def _cp1252_fallback(error: UnicodeDecodeError) -> tuple[str, int]:
    """Bytes that are not UTF-8 read as Windows-1252 (an Excel export), one at a time; the five
    bytes Windows-1252 leaves undefined become U+FFFD."""
    byte = error.object[error.start : error.start + 1]
    try:
        return byte.decode("cp1252"), error.start + 1
    except UnicodeDecodeError:
        return "\ufffd", error.start + 1


codecs.register_error("icp-cp1252", _cp1252_fallback)


class AccountsFile:
    """The rows of an accounts file, read as they are needed: UTF-8 (with or without BOM,
    falling back to Windows-1252 byte by byte) or UTF-16 with a BOM; the delimiter sniffed."""

    def __init__(self, binary: BinaryIO):
        self.binary = binary
        buffered = binary if hasattr(binary, "peek") else io.BufferedReader(binary)  # type: ignore[arg-type]
        start = buffered.peek(4)[:4]  # type: ignore[union-attr]
        if start.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = io.TextIOWrapper(buffered, encoding="utf-16", newline="")  # type: ignore[arg-type]
        else:
            text = io.TextIOWrapper(
                buffered,  # type: ignore[arg-type]
                encoding="utf-8-sig",
                errors="icp-cp1252",
                newline="",
            )
        head = text.read(SNIFF_CHARS)
        head += text.readline()  # finish the line the sample cut
        self.dialect = dialect(head)
        lines = itertools.chain(io.StringIO(head, newline=""), text)
        self._reader = csv.reader((line.replace("\x00", "") for line in lines), self.dialect)
        self.header: list[str] | None = None
        self.skipped_before: list[tuple[int, str]] = []
        for line, row in self._rows():
            if isinstance(row, str):
                self.skipped_before.append((line, row))
                continue
            self.header = row
            break
        if self.header is None:
            raise InputError("the accounts file is empty: it needs a header row and account rows")

    def _rows(self, width: int | None = None) -> Iterator[tuple[int, list[str] | str]]:
        """(line number, cells), or (line number, why) for a line that cannot be read as
        meant; blank lines left out. With `width`, a row with more cells than that is one."""
        reader = self._reader
        while True:
            try:
                for row in reader:
                    if not "".join(row).strip():
                        continue
                    if width is not None and len(row) > width and "".join(row[width:]).strip():
                        yield (
                            reader.line_num,
                            (
                                f"{len(row)} cells but the header has {width} (a value with an "
                                "unquoted delimiter?)"
                            ),
                        )
                        continue
                    yield reader.line_num, row
                return
            except csv.Error as exc:
                yield reader.line_num, f"unreadable CSV ({exc})"

    def rows(self) -> Iterator[tuple[int, list[str] | str]]:
        """(line number, cells) for each account row, or (line number, why) for one that
        cannot be read; blank rows are left out."""
        return self._rows(len(self.header or []))

    def position(self) -> int:
        """Bytes read so far (for progress), or 0 when the source cannot tell."""
        try:
            return self.binary.tell()
        except (OSError, ValueError, AttributeError):
            return 0


def dialect(text: str) -> type[csv.Dialect]:
    """The CSV dialect: the delimiter sniffed (it must occur in the header line), quotes always
    the double quotes every CRM writes. The sniffer's guess of a quote character is not used:
    a name starting with an apostrophe (a user's own formula guard) would fool it."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    try:
        delimiter = csv.Sniffer().sniff(text, delimiters=DELIMITERS).delimiter
    except csv.Error:
        delimiter = ""
    if delimiter not in first or not delimiter:
        counts = {d: first.count(d) for d in DELIMITERS}
        best = max(counts, key=counts.__getitem__)
        delimiter = best if counts[best] else ","

    class Export(csv.excel):
        pass

    Export.delimiter = delimiter
    return Export


@dataclass
class Summary:
    """What a run scored and skipped."""

    tiers: dict[str, int] = field(default_factory=lambda: dict.fromkeys(("A", "B", "C", "out"), 0))
    scored: int = 0
    skipped: int = 0
    needs_data: int = 0
    without_id: int = 0


def rule_fields(rubric: Rubric) -> list[str]:
    """The fields the rubric's rules and disqualifiers test, in order."""
    return list(dict.fromkeys(r.field for r in [*rubric.rules, *rubric.disqualifiers]))


def score_stream(
    binary: BinaryIO,
    rubric: Rubric,
    out: TextIO,
    *,
    fmt: str = "csv",
    mapping: dict[str, list[str]] | None = None,
    as_of: date | None = None,
    explain: bool = False,
    note: Callable[[str], None] = lambda _: None,
    progress: Callable[[int], None] | None = None,
    processes: int = 1,
) -> Summary:
    """Score every row of an accounts file, writing each result to `out` as it comes. `note`
    gets the column lines first, then each row skipped; `progress` the bytes read so far.
    With `processes` over 1, rows are scored in that many worker processes while this one
    reads and writes (`processes_for` picks the number from the file's size)."""
    writer = Writer(fmt, out, explain)  # an unknown format fails before reading anything
    source = AccountsFile(binary)
    assert source.header is not None
    cols = layout(source.header, mapping)
    if (
        fmt in ("hubspot", "salesforce")
        and not cols.of("id")
        and not (fmt == "hubspot" and cols.of("domain"))
    ):
        raise InputError(
            f"--format {fmt} needs the record id column of the export (Record ID, Account ID, "
            "Id...) to match accounts in the CRM; map it with --map id=COLUMN"
        )
    notes = cols.lines(rule_fields(rubric))
    for line in notes:
        note(line)
    summary = Summary()
    writer.begin(columns_of(cols), notes)
    for line, why in source.skipped_before:
        _skip(writer, summary, note, line, why)
    write, tiers = writer.write, summary.tiers
    needs = 0
    if processes > 1:
        setup = (rubric, cols, as_of or date.today(), fmt, explain)
        for chunk in _in_processes(source.rows(), setup, processes):
            for line, why in chunk.skipped:
                _skip(writer, summary, note, line, why)
            writer.write_chunk(chunk.text, chunk.count, chunk.without_id)
            for tier, count in chunk.tiers.items():
                tiers[tier] += count
            needs += chunk.needs_data
            if progress is not None:
                progress(source.position())
    else:
        scorer = Scorer(build(rubric, cols), as_of or date.today(), explain)
        for n, (line, scored) in enumerate(_score_rows(source.rows(), scorer)):
            if progress is not None and not n & 4095:
                progress(source.position())
            if scored.__class__ is str:  # why the row was skipped
                _skip(writer, summary, note, line, scored)  # type: ignore[arg-type]
                continue
            write(scored)  # type: ignore[arg-type]
            tiers[scored.tier] += 1  # type: ignore[union-attr]
            needs += scored.needs_data  # type: ignore[union-attr]
    summary.scored = sum(tiers.values())
    summary.needs_data = needs
    writer.end()
    summary.without_id = writer.without_id
    if progress is not None:
        progress(source.position())
    return summary


def processes_for(size: int) -> int:
    """How many processes score a file of `size` bytes: one per usable core for a large file,
    else one (this process)."""
    return 1 if size < PARALLEL_BYTES else cores()


Outcome = tuple[int, "Scored | str"]  # a row's line and its result, or why it was skipped


def _score_rows(rows: Iterable[tuple[int, list[str] | str]], scorer: Scorer) -> Iterator[Outcome]:
    score = scorer.score
    for line, row in rows:
        if row.__class__ is str:
            yield line, row  # type: ignore[misc]
            continue
        try:
            yield line, score(row, line)  # type: ignore[arg-type]
        except RowError as exc:
            yield line, str(exc)


@dataclass
class Chunk:
    """A batch of rows scored and written by a worker process, as its output text."""

    text: str
    count: int
    without_id: int
    tiers: dict[str, int]
    needs_data: int
    skipped: list[tuple[int, str]]


_WORKER: tuple[Scorer, str, bool] | None = None


def _start_worker(rubric: Rubric, cols: Layout, as_of: date, fmt: str, explain: bool) -> None:
    global _WORKER
    _WORKER = Scorer(build(rubric, cols), as_of, explain), fmt, explain  # compiled once


def _score_batch(batch: list[tuple[int, list[str] | str]]) -> Chunk:
    """Score and write a batch here: sending the text back costs far less than sending back
    the scored accounts (pickling them cost more than scoring them)."""
    assert _WORKER is not None
    scorer, fmt, explain = _WORKER
    buffer = io.StringIO()
    writer = Writer(fmt, buffer, explain)
    chunk = Chunk("", 0, 0, {}, 0, [])
    for line, scored in _score_rows(batch, scorer):
        if scored.__class__ is str:
            chunk.skipped.append((line, scored))  # type: ignore[arg-type]
            continue
        writer.write(scored)  # type: ignore[arg-type]
        chunk.tiers[scored.tier] = chunk.tiers.get(scored.tier, 0) + 1  # type: ignore[union-attr]
        chunk.needs_data += scored.needs_data  # type: ignore[union-attr]
    chunk.text, chunk.count, chunk.without_id = buffer.getvalue(), writer.count, writer.without_id
    return chunk


def _in_processes(
    rows: Iterator[tuple[int, list[str] | str]], setup: tuple, processes: int
) -> Iterator[Chunk]:
    """`rows` scored and written in batches by worker processes, in order."""
    try:
        yield from in_order(_score_batch, rows, processes, BATCH, _start_worker, setup)
    except WorkerLost:
        raise ICPError(
            "a scoring process ended unexpectedly (out of memory?); the output is incomplete"
        ) from None


def _skip(writer: Writer, summary: Summary, note: Callable[[str], None], line: int, why: str):
    writer.skipped.append((line, why))
    summary.skipped += 1
    note(f"skipped line {line}: {why}")


def columns_of(cols: Layout) -> dict[str, list[str]]:
    """Field -> the columns feeding it, for the JSON output."""
    out: dict[str, list[str]] = {}
    for column in cols.columns:
        out.setdefault(column.field, []).append(column.label)
    return out


@dataclass
class Result:
    """Every scored account of a file held in memory (for tests and small files)."""

    accounts: list[Scored] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    layout: Layout | None = None

    def render(self, fmt: str, explain: bool = False) -> str:
        """The output of `icp score --format FMT` for these accounts."""
        out = io.StringIO()
        writer = Writer(fmt, out, explain)
        writer.begin(columns_of(self.layout) if self.layout else {}, self.notes)
        writer.skipped = list(self.skipped)
        for scored in self.accounts:
            writer.write(scored)
        writer.end()
        return out.getvalue()

    def csv(self) -> str:
        """Scored accounts as CSV with a header row."""
        return self.render("csv")

    def json(self) -> str:
        """Scored and skipped rows as one JSON document."""
        return self.render("json")


def score_csv(
    data: bytes,
    rubric: Rubric,
    as_of: date | None = None,
    mapping: dict[str, list[str]] | None = None,
    explain: bool = False,
) -> Result:
    """Score every account row of a CSV file's bytes, in memory."""
    source = AccountsFile(io.BytesIO(data))
    assert source.header is not None
    cols = layout(source.header, mapping)
    result = Result(notes=cols.lines(rule_fields(rubric)), layout=cols)
    result.skipped += source.skipped_before
    scorer = Scorer(build(rubric, cols), as_of or date.today(), explain)
    for line, row in source.rows():
        if isinstance(row, str):
            result.skipped.append((line, row))
            continue
        try:
            result.accounts.append(scorer.score(row, line))
        except RowError as exc:
            result.skipped.append((line, str(exc)))
    return result
