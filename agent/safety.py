"""Untrusted text made harmless for where it goes: storage, terminals, CSV cells.

Answers, imported transcripts, speaker and company names and model output are untrusted. Each
sink has one function here, so every path to that sink neutralises the same way.
"""

from __future__ import annotations

from typing import Any

# OWASP "CSV injection": a cell starting with one of these is a formula to a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def clean_text(text: str) -> str:
    """Text without control characters (keeping newlines and tabs), surrounding whitespace
    removed; a lone surrogate (a JSON escape like "\\ud800", which UTF-8 cannot hold) becomes
    U+FFFD. Escape sequences lose their ESC, so "\\x1b]0;title" prints as harmless text."""
    return "".join(
        "\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch
        for ch in text
        if ch in "\n\t" or not (ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0)
    ).strip()


def csv_cell(value: Any) -> Any:
    """A value safe for a CSV cell a spreadsheet will open: text that would start a formula is
    prefixed with an apostrophe, which spreadsheets show as text; numbers pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


_FORMULA_FIRST = frozenset(FORMULA_STARTS)


def csv_row(values: list[Any]) -> list[Any]:
    """csv_cell for every value of a row (one call per row, for writers of large files)."""
    return ["'" + v if isinstance(v, str) and v[:1] in _FORMULA_FIRST else v for v in values]
