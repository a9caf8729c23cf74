"""The `icp` command line: parse arguments, call `agent`, print. No logic lives here."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from agent import __version__
from agent.engines import ENGINE_NAMES
from agent.errors import ICPError

ROLES = ("founder", "sales", "marketing", "cs")  # identifiers: respondent roles


class _Group(click.Group):
    """Turns known errors into one line on stderr and exit code 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # The reader of stdout went away (`icp score big.csv | head`): stop quietly, as
            # other command-line tools do, with nothing more written to the closed pipe.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
        except ICPError as exc:
            _fail(exc)
        except Exception as exc:
            from agent.store.db import damaged

            error = damaged(exc)  # a database that breaks mid-command (a bad page, a bad row)
            if error is None:
                raise
            _fail(error)


def _fail(exc: Exception) -> None:
    """One line on stderr, exit code 1; names and texts in the message are shown harmless."""
    from agent.safety import clean_name

    click.echo(f"icp: error: {clean_name(str(exc))}", err=True)
    sys.exit(1)


def _store():
    from agent.store.db import Store

    return Store()


def _engine(name: str, model: str | None = None, base_url: str | None = None):
    from agent.engines import get_engine

    return get_engine(name, model, base_url)


def _model_options(func):
    """--model and --base-url, for commands that can run the llm engine."""
    func = click.option(
        "--base-url",
        default=None,
        help="OpenAI-compatible server for --engine llm (Ollama, vLLM, LM Studio...).",
    )(func)
    return click.option(
        "--model",
        default=None,
        help="provider:model for --engine llm (default openai:gpt-4o-mini, or the config's).",
    )(func)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="icp")
def main() -> None:
    """Interview a founder or revenue lead and write an evidence-backed Ideal Customer Profile.

    Data lives in $ICP_HOME (default: your user data folder).
    """


@main.command()
@click.option("--company", default="", help="Company the profile is for.")
@click.option(
    "--role",
    type=click.Choice(ROLES),
    default="founder",
    show_default=True,
    help="Who is answering.",
)
@click.option(
    "--minutes",
    type=click.FloatRange(min=1, max=240),
    default=30,
    show_default=True,
    help="Time budget; the interview paces itself to it.",
)
@click.option(
    "--engine",
    type=click.Choice(ENGINE_NAMES),
    default=None,
    help="offline (the default: built-in rules, no network) or llm (a chat model).",
)
@_model_options
@click.option("--jsonl", is_flag=True, help="Headless protocol: JSON lines on stdin/stdout.")
@click.option(
    "--review",
    metavar="ID",
    default=None,
    help="Quarterly review of an existing profile (ID or ID@VERSION); 15 minutes by default.",
)
def interview(
    company: str,
    role: str,
    minutes: float,
    engine: str | None,
    model: str | None,
    base_url: str | None,
    jsonl: bool,
    review: str | None,
) -> None:
    """Start an interview in the terminal (Ctrl-C saves; `icp resume ID` continues)."""
    from agent.config import default_engine
    from agent.interview.loop import Interview

    chosen = _engine(engine or default_engine(), model, base_url)
    if review:
        from agent.interview.review import DEFAULT_MINUTES, begin_review

        source = click.get_current_context().get_parameter_source("minutes")
        budget = DEFAULT_MINUTES if source == click.core.ParameterSource.DEFAULT else minutes
        session = begin_review(_store(), chosen, review, minutes=budget)
    else:
        session = Interview.start(_store(), chosen, company=company, role=role, minutes=minutes)
    _run(session, jsonl)


def _review_drift(session) -> None:
    """After a finished review: its drift against the reviewed profile, on stderr."""
    drift = session.review_drift() if session.done else None
    if drift is not None:
        from agent.profile.drift import format_text

        click.echo(f"\nWhat changed: {format_text(drift)}", err=True)
        click.echo(
            f"Report: icp report {session.session.id} --since {drift.old} --out review.pdf",
            err=True,
        )


@main.command()
@click.argument("session_id")
@click.option(
    "--engine",
    type=click.Choice(ENGINE_NAMES),
    default=None,
    help="Engine for the rest of the interview (default: the one it started with).",
)
@_model_options
@click.option("--jsonl", is_flag=True, help="Headless protocol: JSON lines on stdin/stdout.")
def resume(
    session_id: str, engine: str | None, model: str | None, base_url: str | None, jsonl: bool
) -> None:
    """Continue an interview exactly where it stopped."""
    from agent.interview.loop import Interview

    def make(started_with: str):
        return _engine(engine or started_with, model, base_url)

    try:
        interview = Interview.reopen(_store(), session_id, make)
    except ICPError as exc:
        if jsonl:  # a harness reads stdout: the error is a protocol line too
            click.echo(json.dumps({"type": "error", "message": str(exc)}, ensure_ascii=False))
        raise
    _run(interview, jsonl)


def _run(session, jsonl: bool) -> None:
    if jsonl:
        from agent.frontends.jsonl import run_jsonl

        run_jsonl(session)
    else:
        from agent.frontends.chat import run_chat

        if not run_chat(session):
            sys.exit(130)
    _review_drift(session)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def sessions(as_json: bool) -> None:
    """List interviews: id, company, role, started, turns, status, model cost."""
    from agent.engines.llm.usage import format_cost, session_rows
    from agent.safety import clean_name

    rows = session_rows(_store())
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("No interviews yet. Start one with `icp interview` or try `icp demo`.", err=True)
        return
    header = (
        f"{'ID':<10} {'COMPANY':<22} {'ROLE':<10} {'STARTED':<20} {'TURNS':>5}  {'STATUS':<11} COST"
    )
    click.echo(header)
    for r in rows:
        company = (clean_name(r["company"]) or "-")[:22]
        started = r["started"][:16].replace("T", " ")
        click.echo(
            f"{r['id']:<10} {company:<22} {r['role'] or '-':<10} {started:<20}"
            f" {r['turns']:>5}  {r['status']:<11} {format_cost(r['cost_usd'])}"
        )


@main.command()
@click.argument("session_id")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Output file: .pdf, .html or .md.",
)
@click.option(
    "--version", "version", type=int, default=None, help="Profile version (default: latest)."
)
@click.option(
    "--since",
    default=None,
    metavar="OLD",
    help="Add 'What changed since the last review' against OLD (ID or ID@VERSION).",
)
@click.option("--force", is_flag=True, help="Replace --out even if it is read-only.")
def report(session_id: str, out: Path, version: int | None, since: str | None, force: bool) -> None:
    """Write the ICP report as PDF, HTML or Markdown (by the file's suffix)."""
    from agent.report.bundle import load_bundle
    from agent.report.render import write_report

    store = _store()
    bundle = load_bundle(store, session_id, version)
    drift = None
    if since:
        from agent.profile import drift as drifts

        drift = drifts.since(store, since, bundle.session, bundle.profile)
    path = write_report(
        bundle.profile, bundle.session, bundle.turns, out, bundle.usage, drift=drift, force=force
    )
    click.echo(str(path))


@main.command()
@click.argument("session_id")
@click.option("--format", "fmt", type=click.Choice(["json"]), default="json", show_default=True)
@click.option(
    "--version", "version", type=int, default=None, help="Profile version (default: latest)."
)
def export(session_id: str, fmt: str, version: int | None) -> None:
    """Print the profile as JSON (sections, items, evidence)."""
    from agent.report.bundle import load_bundle, profile_json

    click.echo(profile_json(load_bundle(_store(), session_id, version).profile))


@main.command()
def schema() -> None:
    """Print the profile's JSON Schema."""
    from agent.profile.models import json_schema

    click.echo(json.dumps(json_schema(), indent=2))


@main.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Report file (.pdf, .html or .md). Default: icp-demo-ID.pdf here.",
)
@click.option(
    "--persona",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Persona YAML to answer instead of the built-in sample.",
)
@click.option("--minutes", type=click.FloatRange(min=1, max=240), default=30, show_default=True)
@click.option("--quiet", is_flag=True, help="Do not print the conversation.")
@click.option(
    "--engine",
    type=click.Choice(ENGINE_NAMES),
    default="offline",
    show_default=True,
    help="Interview engine.",
)
@_model_options
@click.option("--force", is_flag=True, help="Replace --out even if it is read-only.")
def demo(
    out: Path | None,
    persona: Path | None,
    minutes: float,
    quiet: bool,
    engine: str,
    model: str | None,
    base_url: str | None,
    force: bool,
) -> None:
    """Run a complete interview with a sample respondent and write the PDF report."""
    from agent.report.bundle import load_bundle
    from agent.report.render import write_report
    from agent.sim.demo import run_demo

    def show(question: str, answer: str, topic: str | None) -> None:
        if not quiet:
            click.echo(f"\n[{topic}] {question}\n  > {answer}", err=True)

    if out is not None and not force:
        from agent.files import refuse_read_only

        refuse_read_only(out)  # before the interview, not after it
    store = _store()
    session = run_demo(store, _engine(engine, model, base_url), persona, minutes, show)
    bundle = load_bundle(store, session.session.id)
    path = write_report(
        bundle.profile,
        bundle.session,
        bundle.turns,
        out or Path(f"icp-demo-{session.session.id}.pdf"),
        bundle.usage,
        force=force,
    )
    click.echo(f"\nInterview {session.session.id}: {session.state.questions} questions.", err=True)
    click.echo(str(path))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Port (default 8765, or a free one if that is taken; 0 picks a free one).",
)
@click.option("--no-browser", is_flag=True, help="Print the link but do not open a browser.")
@click.option(
    "--engine",
    type=click.Choice(ENGINE_NAMES),
    default=None,
    help="Engine for interviews started in the browser (default: the config's, else offline);"
    " resumed ones keep their own.",
)
@_model_options
def serve(
    host: str,
    port: int | None,
    no_browser: bool,
    engine: str | None,
    model: str | None,
    base_url: str | None,
) -> None:
    """Chat in the browser: a local web app; prints (and opens) its link with an access token."""
    from agent.frontends.web.serve import run_server

    run_server(host, port, engine, model, base_url, open_browser=not no_browser)


@main.command()
@click.argument("session_ids", nargs=-1, required=True)
@click.option("--name", default="", help="A name for the joint profile (shown on the report).")
@click.option("--json", "as_json", is_flag=True, help="Print the merge summary as JSON.")
def merge(session_ids: tuple[str, ...], name: str, as_json: bool) -> None:
    """Merge interviews with different people of one company into one joint profile."""
    from agent.joint.merge import merge_sessions

    result = merge_sessions(_store(), list(session_ids), name)
    sid = result.session.id
    if as_json:
        data = {
            "session": sid,
            "company": result.session.company,
            "name": name,
            "sources": result.session.meta["sources"],
            "agreements": result.agreements,
            "single_source": result.single_source,
            "conflicts": [c.model_dump(mode="json") for c in result.conflicts],
        }
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        click.echo(sid)
    who = ", ".join(f"{s['role'] or '?'} {s['id']}" for s in result.session.meta["sources"])
    click.echo(
        f"Merged {len(session_ids)} interviews ({who}) into {sid}: {result.agreements} "
        f"agreements, {result.single_source} single-source items, "
        f"{len(result.conflicts)} conflicts to resolve together.",
        err=True,
    )
    for conflict in result.conflicts:
        click.echo(f"  - {conflict.title}", err=True)
    click.echo(f"Report: icp report {sid} --out joint-icp.pdf", err=True)


@main.command()
@click.argument("source")
@click.option(
    "--version", "version", type=int, default=None, help="Profile version (default: latest)."
)
@click.option("--format", "fmt", default="yaml", show_default=True, help="yaml or sql.")
@click.option(
    "--dialect",
    default="duckdb",
    show_default=True,
    help="SQL dialect: duckdb, postgres, snowflake or bigquery.",
)
@click.option("--table", default=None, help="SQL: the table of accounts to score.")
@click.option(
    "--columns-from",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SQL: a CSV export whose header names the table's columns.",
)
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="FIELD=COLUMN",
    help="SQL: read FIELD from COLUMN (repeatable), as `icp score --map`.",
)
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="SQL: the date within_days counts back from (default: CURRENT_DATE).",
)
def rules(
    source: str,
    version: int | None,
    fmt: str,
    dialect: str,
    table: str | None,
    columns_from: Path | None,
    maps: tuple,
    as_of,
) -> None:
    """Print the scoring rules a profile implies, as editable YAML (icp rules ID > rules.yaml),
    or as SQL (--format sql) from a profile or an edited rules file (icp rules rules.yaml ...)."""
    from agent.scoring.publish import rules_text

    text, messages = rules_text(
        source,
        _store,
        version=version,
        fmt=fmt,
        dialect=dialect,
        table=table,
        columns_from=columns_from,
        maps=maps,
        as_of=as_of.date() if as_of else None,
    )
    for line in messages:
        click.echo(line, err=True)
    click.echo(text, nl=False)


@main.command()
@click.argument("accounts", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option(
    "--rules",
    "rules_file",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Rules file written by `icp rules` (and edited as you like).",
)
@click.option(
    "--format",
    "fmt",
    default="csv",
    show_default=True,
    help="csv, json, hubspot or salesforce (the CRM's own import file).",
)
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="FIELD=COLUMN",
    help="Read FIELD from COLUMN (repeatable), e.g. --map industry=Sektor --map text=Notizen.",
)
@click.option("--explain", is_flag=True, help="Add one readable line per account: why its tier.")
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Date that within_days counts back from (default: today).",
)
def score(
    accounts: Path, rules_file: Path, fmt: str, as_json: bool, maps: tuple, explain: bool, as_of
) -> None:
    """Score a CSV of accounts (or - for stdin): fit score, tier, rules matched, disqualifier."""
    from agent.scoring.accounts import processes_for, score_stream
    from agent.scoring.columns import parse_map
    from agent.scoring.output import FORMATS
    from agent.scoring.rules import load_rules

    fmt = "json" if as_json else fmt.lower()
    if fmt not in FORMATS:
        raise ICPError(f"unknown --format {fmt!r}; choose {', '.join(FORMATS)}")
    mapping = parse_map(maps)
    rubric = load_rules(rules_file)
    try:
        binary = sys.stdin.buffer if str(accounts) == "-" else accounts.open("rb")
    except OSError as exc:
        raise ICPError(f"cannot read {accounts}: {exc.strerror or exc}") from None
    size = 0 if binary is sys.stdin.buffer else accounts.stat().st_size
    with binary, _Progress("Scoring") as bar:
        try:
            summary = score_stream(
                binary,
                rubric,
                sys.stdout,
                fmt=fmt,
                mapping=mapping,
                as_of=as_of.date() if as_of else None,
                explain=explain,
                note=bar.note,
                # bytes read; a bar only for files over 20 MB
                progress=(lambda at: bar(at, size)) if size >= 20_000_000 else None,
                processes=processes_for(size),
            )
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise ICPError(f"cannot read {accounts}: {exc.strerror or exc}") from None
    if not summary.scored and summary.skipped:
        raise ICPError("no account could be scored; fix the lines above")
    counts = ", ".join(f"{n} {t}" for t, n in summary.tiers.items())
    extra = f"; {summary.needs_data} need data" if summary.needs_data else ""
    if summary.without_id:
        extra += f"; {summary.without_id} without a record id left out of the {fmt} file"
    click.echo(
        f"Scored {summary.scored} accounts ({counts}); skipped {summary.skipped}{extra}.",
        err=True,
    )


@main.command(name="import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--respondent",
    multiple=True,
    help="Speaker who is the respondent (repeatable); asked when omitted in a terminal.",
)
@click.option("--company", default="", help="Company the profile is for.")
@click.option(
    "--engine",
    type=click.Choice(ENGINE_NAMES),
    default=None,
    help="Extraction engine: offline (the default: built-in rules) or llm (a chat model).",
)
@_model_options
@click.option("--force", is_flag=True, help="Import a file again even if it was imported before.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def import_(
    files: tuple[Path, ...],
    respondent: tuple[str, ...],
    company: str,
    engine: str | None,
    model: str | None,
    base_url: str | None,
    force: bool,
    as_json: bool,
) -> None:
    """Import transcripts (text, Markdown, WebVTT, SRT, JSON lines) as sessions."""
    from agent.config import default_engine
    from agent.quarterly.importer import import_files, speakers_line

    def choose(transcript) -> list[str]:
        names = list(transcript.speakers())  # cleaned when the file was read
        click.echo(f"{transcript.name}: speakers {speakers_line(transcript)}", err=True)
        for number, name in enumerate(names, 1):
            click.echo(f"  {number}) {name}", err=True)
        picked = click.prompt("Which is the respondent (number or name)", err=True)
        by_fold = {name.casefold(): name for name in names}
        parts = [p.strip() for p in picked.split(",") if p.strip()]
        return [
            names[int(p) - 1]
            if p.isdigit() and 0 < int(p) <= len(names)
            else by_fold.get(p.casefold(), p)
            for p in parts
        ]

    interactive = sys.stdin.isatty() and not respondent
    with _Progress("Extracting answers") as progress:
        done = import_files(
            _store(),
            list(files),
            _engine(engine or default_engine(), model, base_url),
            respondent=respondent,
            company=company,
            force=force,
            choose=choose if interactive else None,
            progress=progress,
        )
    for d in done:
        for warning in d.transcript.warnings:
            click.echo(f"icp: warning: {warning}", err=True)
    if as_json:
        click.echo(json.dumps([d.as_dict() for d in done], indent=2, ensure_ascii=False))
        return
    for d in done:
        click.echo(
            f"{d.session.id}  {d.path}  {d.transcript.format}, {len(d.transcript.utterances)}"
            f" turns, respondent {', '.join(d.respondent)}, {d.items} items"
        )


class _Progress:
    """A progress bar on stderr that appears once the work reports progress; a note printed
    while it runs clears its line first."""

    def __init__(self, label: str):
        self.label, self.bar = label, None

    def __enter__(self) -> _Progress:
        return self

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            bar = click.progressbar(length=total, label=self.label, file=sys.stderr, show_pos=True)
            self.bar = bar.__enter__()
        if done > self.bar.pos:
            self.bar.update(done - self.bar.pos)

    def note(self, line: str) -> None:
        clear = "\r\x1b[K" if self.bar is not None and sys.stderr.isatty() else ""
        click.echo(f"{clear}icp: {line}", err=True)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


@main.command()
@click.argument("session_ids", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="Every session.")
@click.option("--since", default=None, help="Sessions started on or after a date (2026-09-30).")
@click.option(
    "--engine",
    type=click.Choice(ENGINE_NAMES),
    default=None,
    help="offline (the default: built-in rules) or llm (a chat model).",
)
@_model_options
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    help="Sessions processed at once.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the reports (default: icp-batch-DATE-TIME here).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["pdf", "html", "md", "none"]),
    default="pdf",
    show_default=True,
    help="Report format; none only re-extracts.",
)
@click.option("--force", is_flag=True, help="Start over instead of resuming an interrupted run.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON for scripts.")
def batch(
    session_ids: tuple[str, ...],
    everything: bool,
    since: str | None,
    engine: str | None,
    model: str | None,
    base_url: str | None,
    concurrency: int,
    out: Path | None,
    fmt: str,
    force: bool,
    as_json: bool,
) -> None:
    """Re-extract sessions with the current guide and engine into new versions; write reports."""
    from agent.config import default_engine
    from agent.engines import EngineSpec
    from agent.quarterly import batch as runner

    store = _store()
    spec = EngineSpec(engine or default_engine(), model, base_url).resolved()
    sessions = runner.select(store, session_ids, everything, since)
    plan = runner.prepare(store, sessions, spec.key, out=out, fmt=fmt, force=force)
    if plan.resumed:
        click.echo(
            f"Resuming run {plan.run.id}: {plan.already} of {len(plan.items)} sessions already"
            " finished (--force starts over).",
            err=True,
        )
    with click.progressbar(
        length=len(plan.items), label="Re-extracting", file=sys.stderr, show_pos=True
    ) as bar:
        bar.update(plan.already)
        try:
            rows = runner.execute(
                store, plan, spec.create, concurrency=concurrency, on_item=lambda _: bar.update(1)
            )
        except runner.BatchInterrupted as exc:
            click.echo(f"\nicp: {exc}", err=True)
            sys.exit(130)
    if as_json:
        doc = {"run": plan.run.id, "engine": plan.engine, "out": plan.out and str(plan.out)}
        doc["sessions"] = [r.as_dict() for r in rows]
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        click.echo(runner.format_table(rows))
        if plan.out:
            click.echo(f"Reports in {plan.out}", err=True)
    runner.check(rows)


@main.command()
@click.argument("old")
@click.argument("new", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def diff(old: str, new: str | None, as_json: bool) -> None:
    """Compare two profiles (ID or ID@VERSION) section by section: what drifted.

    With one argument: a review against the profile it reviewed, else a session's latest
    version against the one before.
    """
    from agent.profile.drift import between, format_text

    drift = between(_store(), old, new)
    if as_json:
        click.echo(json.dumps({**drift.model_dump(), "counts": drift.counts()}, indent=2))
    else:
        click.echo(format_text(drift))


@main.group(name="config")
def config_group() -> None:
    """Defaults for the llm engine, kept in config.toml (`icp config path` shows where)."""


@config_group.command(name="set")
@click.argument("key")
@click.argument("value")
def config_set(key: str, value: str) -> None:
    """Store a setting; VALUE `-` reads it from standard input (for api_key).

    KEY: engine, model, base_url, api_key, timeout, max_retries, price_input, price_output.
    """
    from agent.config import set_value

    if value == "-":
        hidden = key == "api_key" and sys.stdin.isatty()
        value = click.prompt(key, hide_input=hidden) if sys.stdin.isatty() else sys.stdin.read()
    path = set_value(key, value.strip())
    click.echo(f"Saved {key} in {path}", err=True)


@config_group.command(name="unset")
@click.argument("key")
def config_unset(key: str) -> None:
    """Remove a setting (its default applies again)."""
    from agent.config import unset

    click.echo(f"Removed {key} from {unset(key)}", err=True)


@config_group.command(name="show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def config_show(as_json: bool) -> None:
    """Print the settings (API key masked) and the model they resolve to."""
    from agent.config import resolve, shown

    data = shown()
    if as_json:
        click.echo(json.dumps({"settings": data, "model": resolve().describe()}, indent=2))
        return
    for key, value in data.items():
        click.echo(f"{key} = {json.dumps(value)}")
    click.echo(f"# resolves to: {resolve().describe()}", err=True)


@config_group.command(name="path")
def config_path_cmd() -> None:
    """Print where the settings file is."""
    from agent.config import config_path

    click.echo(str(config_path()))


@main.command()
@_model_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def doctor(model: str | None, base_url: str | None, as_json: bool) -> None:
    """Check the model with one tiny call: does it answer, stream, return structured output?"""
    from agent.engines.llm.doctor import as_json as doctor_json
    from agent.engines.llm.doctor import run_doctor

    checks = run_doctor(model, base_url)
    if as_json:
        click.echo(json.dumps(doctor_json(checks), indent=2))
    else:
        from agent.safety import clean_name

        for c in checks:  # a detail may quote the server's own words: shown harmless
            click.echo(f"{'ok  ' if c.ok else 'FAIL'} {c.name:<18} {clean_name(c.detail)}")
            if c.fix:
                click.echo(f"     {'fix':<18} {clean_name(c.fix)}")
    if not all(c.ok for c in checks):
        sys.exit(1)


if __name__ == "__main__":
    main()
