"""Render the ICP report as PDF, HTML or Markdown, and write it atomically."""

from __future__ import annotations

import ctypes
import mimetypes
import re
import threading
import time
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from agent.errors import InputError, RenderError
from agent.files import refuse_read_only
from agent.lang import load_pack
from agent.paths import resource
from agent.profile.models import SECTION_KEYS, SECTION_TITLES, Profile
from agent.report.bundle import write_atomic
from agent.report.context import review_context
from agent.report.model_summary import summarize_with_model
from agent.scoring.model_rubric import fold_in
from agent.scoring.rules import distinct_turns
from agent.store.db import SessionInfo, Turn

if TYPE_CHECKING:
    import jinja2

FORMATS: dict[str, str] = {  # identifiers: file suffixes
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
    ".md": "md",
}
# Layout gets a break opportunity every BREAK_EVERY characters of a run without spaces longer
# than LONG_RUN: a pasted URL, ID or wall of one word wraps in linear time (WeasyPrint's
# `overflow-wrap: anywhere` alone is quadratic in the word's length). HTML gets <wbr>, which
# copies as nothing; the PDF a zero-width space, which lays out four times faster than <wbr>
# boxes and is not in the PDF's text either. Outside the transcript appendix a run is cut at
# CUT_RUN characters with "…" (the appendix and every other format keep it whole).
LONG_RUN = 40
BREAK_EVERY = 24
CUT_RUN = 1000
RENDER_SECONDS = 120.0  # a PDF layout that takes longer is stopped with a RenderError
STOP_SECONDS = 5.0  # how long a layout past its limit is told to stop before giving up


def status_labels() -> dict[str, str]:
    """A section's status as the report shows it."""
    from agent.lang import load_pack

    return load_pack().ui.section_status


def render(
    profile: Profile,
    session: SessionInfo,
    turns: list[Turn],
    fmt: str,
    usage: dict | None = None,
    drift: Any = None,
) -> bytes:
    """The report in `fmt` ("pdf", "html" or "md") as bytes; `usage`: model-call totals.

    `drift` (an `agent.diff.Drift`) adds "What changed since the last review".
    """
    if fmt not in ("pdf", "html", "md"):
        raise InputError(f"unknown report format {fmt!r}; use pdf, html or md")
    context = _context(profile, session, turns, usage)
    context["drift"] = drift
    if fmt == "md":
        text = _env(markdown=True).get_template("report.md.j2").render(context)
        return re.sub(r"\n{3,}", "\n\n", text).encode("utf-8")
    env = _env(markdown=False, pdf=fmt == "pdf")
    if fmt == "html":
        from markupsafe import Markup

        # The HTML file must stand alone, so the bundled stylesheet goes inline.
        css = (templates_dir() / "report.css").read_text("utf-8")
        context["inline_css"] = Markup(css)
    else:
        context["inline_css"] = None
    html = env.get_template("report.html.j2").render(context)
    return html.encode("utf-8") if fmt == "html" else html_to_pdf(html)


def write_report(
    profile: Profile,
    session: SessionInfo,
    turns: list[Turn],
    out: Path,
    usage: dict | None = None,
    drift: Any = None,
    force: bool = False,
) -> Path:
    """Render the format the suffix of `out` names and replace `out` atomically.

    A read-only `out` is refused (before rendering) unless `force`.
    """
    out = Path(out)
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        allowed = ", ".join(FORMATS)
        raise InputError(f"cannot tell the report format from {out.name!r}; end it in {allowed}")
    if not force:
        refuse_read_only(out)  # before a render that may take seconds
    write_atomic(out, render(profile, session, turns, fmt, usage, drift), force=force)
    return out


def templates_dir() -> Path:
    """The bundled report_templates folder."""
    return resource("report_templates").resolve()


def html_to_pdf(html: str, seconds: float | None = None) -> bytes:
    """Lay out report HTML as PDF, loading nothing but bundled assets, within `seconds`
    (RENDER_SECONDS by default): a layout still running then is stopped with a RenderError."""
    import weasyprint

    root = templates_dir()
    limit = RENDER_SECONDS if seconds is None else seconds
    box: dict[str, Any] = {}

    def lay_out() -> None:
        try:
            try:
                doc = weasyprint.HTML(
                    string=html, base_url=root.as_uri() + "/", url_fetcher=bundled_fetcher(root)
                )
                box["pdf"] = doc.write_pdf()
            except BaseException as exc:  # handed to the caller's thread
                box["error"] = exc
        except _LayoutStopped:
            pass  # a second stop, sent while the first was being handled

    worker = threading.Thread(target=lay_out, name="icp-pdf", daemon=True)
    worker.start()
    worker.join(limit)
    if worker.is_alive():
        _stop(worker, STOP_SECONDS)
        raise RenderError(
            f"the PDF report took longer than {limit:g} s to lay out and was stopped; the "
            "HTML or Markdown report of the same session (--out report.html) is quick"
        )
    exc = box.get("error")
    if exc is None:
        return box["pdf"]
    if isinstance(exc, _LayoutStopped | KeyboardInterrupt | SystemExit):
        raise exc
    reason = " ".join(str(exc).split()) or type(exc).__name__  # WeasyPrint raises many types
    raise RenderError(f"could not lay out the PDF report: {reason}") from exc


class _LayoutStopped(Exception):
    """Raised inside a PDF layout that ran past its time limit."""


def _stop(worker: threading.Thread, seconds: float) -> None:
    """Stop a runaway layout thread: CPython raises _LayoutStopped in it at its next Python
    line (layout is Python code), so a server does not keep laying out a report nobody waits
    for. The exception can land in a destructor, which Python ignores, so it is sent again
    until the thread ends or `seconds` pass."""
    setter = getattr(getattr(ctypes, "pythonapi", None), "PyThreadState_SetAsyncExc", None)
    if setter is None or worker.ident is None:
        return
    deadline = time.monotonic() + seconds
    while worker.is_alive() and time.monotonic() < deadline:
        setter(ctypes.c_ulong(worker.ident), ctypes.py_object(_LayoutStopped))
        worker.join(0.1)


def bundled_fetcher(root: Path) -> Any:
    """A WeasyPrint URL fetcher that serves files under `root` and refuses every other URL."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class BundledOnly(URLFetcher):
        """Serves file: URLs inside the templates folder; no network, no other files."""

        def __init__(self) -> None:
            super().__init__(allowed_protocols=("file",), allow_redirects=False)
            self.served: list[str] = []
            self.refused: list[str] = []

        def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
            path = bundled_path(root, url)
            if path is None:
                self.refused.append(url)
                raise ValueError(f"the report may only load bundled files, not {url[:80]!r}")
            self.served.append(url)
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})

    return BundledOnly()


def bundled_path(root: Path, url: str) -> Path | None:
    """The file a file: URL names if it is inside `root`, else None."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        return None
    try:
        path = Path(url2pathname(unquote(parts.path))).resolve()
    except (OSError, ValueError):
        return None
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


def _context(
    profile: Profile, session: SessionInfo, turns: list[Turn], usage: dict | None = None
) -> dict[str, Any]:
    review = review_context(profile, session)
    # One rubric page: the model's draft criteria join the derived rules as suggestions.
    review["model_rubric"] = fold_in(review["rubric"], profile)
    return {
        "profile": profile,
        "session": session,
        "summary": summarize_with_model(profile),
        "usage": usage,
        "sections": [
            {"key": key, "title": SECTION_TITLES[key], "section": profile.sections[key]}
            for key in SECTION_KEYS
        ],
        "turns": turns,
        "turn_ids": {t.seq for t in turns},
        "answers": sum(t.is_answer for t in turns),
        "date": _date(session.started),
        "status_labels": status_labels(),
        "commands": load_pack().ui.events,
        # Rubric, For marketing / For sales, Resolve together, sign-off (issue 6).
        "review": review,
    }


def _date(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).strftime("%d %B %Y")
    except (TypeError, ValueError):
        return iso or "unknown"


def _env(markdown: bool, pdf: bool = False) -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        # Markdown too: autoescape makes macro output Markup, so finalize can tell template
        # markup (passed through) from data (Markdown-escaped) without HTML-escaping it.
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=markdown,
        lstrip_blocks=markdown,
        keep_trailing_newline=True,
        finalize=_md_finalize if markdown else partial(breakable, pdf=pdf, cut=CUT_RUN),
    )
    env.filters["whole"] = partial(breakable, pdf=pdf, cut=None)
    env.filters["mdquote"] = md_quote
    env.filters["distinct_turns"] = distinct_turns
    return env


_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~&$])")
# What GitHub's Markdown turns into a link without any markup (its "autolink" extension): a
# scheme's "://" and "www." lose that power with one backslash, which readers do not see.
_MD_SCHEME = re.compile(r":(?=//)")
_MD_WWW = re.compile(r"(?i)(www)\.")
_LONG_RUN = re.compile(rf"\S{{{LONG_RUN + 1},}}")
_MD_LINE_START = re.compile(r"^([#>+=\-])|^(\d+)([.)])")


def md_escape(value: Any) -> str:
    """Escape text for one Markdown line: no markup, links, HTML or line structure survive."""
    from markupsafe import Markup

    return Markup(_md_line(" ".join(str(value).split())))


def md_quote(value: Any) -> str:
    """Escape multi-line text as a Markdown blockquote, keeping its line breaks."""
    from markupsafe import Markup

    lines = [_md_line(" ".join(line.split())) for line in str(value).splitlines()] or [""]
    return Markup("\n".join(f"> {line}" if line else ">" for line in lines))


def _md_line(text: str) -> str:
    text = _MD_INLINE.sub(r"\\\1", text)
    text = _MD_WWW.sub(r"\1\\.", _MD_SCHEME.sub(r"\\:", text))
    return _MD_LINE_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", text)


def breakable(value: Any, pdf: bool = False, cut: int | None = CUT_RUN) -> Any:
    """Data in an HTML or PDF report: a run without spaces longer than LONG_RUN gets a break
    opportunity every BREAK_EVERY characters, and past `cut` characters it ends with "…";
    everything else is left to autoescaping."""
    from markupsafe import Markup, escape

    if isinstance(value, Markup) or not isinstance(value, str) or len(value) <= LONG_RUN:
        return value
    if not _LONG_RUN.search(value):
        return value
    mark = Markup("\u200b" if pdf else "<wbr>")
    parts, end = [], 0
    for run in _LONG_RUN.finditer(value):
        parts.append(escape(value[end : run.start()]))
        word = run.group()
        shown = word if cut is None else word[:cut]
        parts.append(
            mark.join(escape(shown[i : i + BREAK_EVERY]) for i in range(0, len(shown), BREAK_EVERY))
        )
        if len(shown) < len(word):
            parts.append(Markup("…"))
        end = run.end()
    parts.append(escape(value[end:]))
    return Markup("").join(parts)


def _md_finalize(value: Any) -> Any:
    from markupsafe import Markup

    return value if isinstance(value, Markup) else md_escape(value)
