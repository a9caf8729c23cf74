"""What `icp rules` prints: the rubric of a profile or of a rules file, as YAML or as SQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from agent.errors import ICPError
from agent.store.db import Store


def rules_text(
    source: str,
    store: Callable[[], Store],
    *,
    version: int | None = None,
    fmt: str = "yaml",
    dialect: str = "duckdb",  # as `icp rules --dialect` defaults
    table: str | None = None,
    columns_from: Path | None = None,
    maps: tuple[str, ...] = (),
    as_of: date | None = None,
) -> tuple[str, list[str]]:
    """The rules file (YAML) or query (SQL) for a session id or a rules file, and the lines for
    stderr. Options that cannot work together fail before anything is read."""
    fmt = fmt.lower()
    if fmt not in ("yaml", "sql"):
        raise ICPError(f"unknown --format {fmt!r}; choose yaml or sql")
    if fmt == "sql":
        from agent.scoring.sql import DIALECTS

        if dialect.lower() not in DIALECTS:
            raise ICPError(f"unknown --dialect {dialect!r}; choose {', '.join(DIALECTS)}")
        if not table:
            raise ICPError("--format sql needs --table TABLE (the table of accounts)")
        if columns_from is None and not maps:
            raise ICPError(
                "--format sql needs --columns-from FILE.csv (an export with the table's "
                "column names) or --map FIELD=COLUMN"
            )
    path = Path(source)
    if path.suffix.lower() in (".yaml", ".yml") or path.is_file():
        from agent.scoring.rules import load_rules

        if fmt == "yaml":
            raise ICPError(f"{source} is a rules file already; --format sql compiles it")
        rubric = load_rules(path)
    else:
        from agent.report.bundle import load_bundle
        from agent.report.context import decided, roles_of, source_line
        from agent.scoring.rubric import derive
        from agent.scoring.rules import to_yaml

        bundle = load_bundle(store(), source, version)
        rubric = derive(bundle.profile, decided(bundle.session, bundle.profile))
        if fmt == "yaml":
            origin = source_line(bundle.session, bundle.profile)
            kept_out = len(rubric.conflicts)
            summary = (
                f"{len(rubric.rules)} rules, {len(rubric.disqualifiers)} disqualifiers, "
                f"{len(rubric.manual)} items to check by hand"
            ) + (f", {kept_out} unresolved conflicts kept out of the rules." if kept_out else ".")
            return to_yaml(rubric, origin, roles_of(bundle.session)), [summary]
    from agent.scoring.sql import sql_for

    text, lines = sql_for(rubric, dialect.lower(), table, columns_from, maps, as_of)
    return text, [f"icp: {line}" for line in lines]
