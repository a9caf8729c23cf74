"""Render the ICP report as PDF, HTML or Markdown, and write it atomically."""

from __future__ import annotations

import mimetypes
import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from agent.errors import InputError, RenderError
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
    env = _env(markdown=False)
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
) -> Path:
    """Render the format the suffix of `out` names and replace `out` atomically."""
    out = Path(out)
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        allowed = ", ".join(FORMATS)
        raise InputError(f"cannot tell the report format from {out.name!r}; end it in {allowed}")
    write_atomic(out, render(profile, session, turns, fmt, usage, drift))
    return out


def templates_dir() -> Path:
    """The bundled report_templates folder."""
    return resource("report_templates").resolve()


def html_to_pdf(html: str) -> bytes:
    """Lay out report HTML as PDF, loading nothing but bundled assets."""
    import weasyprint

    root = templates_dir()
    try:
        doc = weasyprint.HTML(
            string=html, base_url=root.as_uri() + "/", url_fetcher=bundled_fetcher(root)
        )
        return doc.write_pdf()
    except Exception as exc:  # WeasyPrint raises many types; the CLI needs one line
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise RenderError(f"could not lay out the PDF report: {reason}") from exc


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


def _env(markdown: bool) -> jinja2.Environment:
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
        finalize=_md_finalize if markdown else None,
    )
    env.filters["mdquote"] = md_quote
    env.filters["distinct_turns"] = distinct_turns
    return env


_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~&$])")
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
    return _MD_LINE_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", text)


def _md_finalize(value: Any) -> Any:
    from markupsafe import Markup

    return value if isinstance(value, Markup) else md_escape(value)
