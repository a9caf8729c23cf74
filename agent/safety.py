"""Untrusted text made harmless for where it goes: storage, terminals, CSV cells; and untrusted
JSON and YAML refused when its numbers or nesting are built to break a parser.

Answers, imported transcripts, speaker and company names and model output are untrusted. Each
sink has one function here, so every path to that sink neutralises the same way.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

# OWASP "CSV injection": a cell starting with one of these is a formula to a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# Invisible characters that make two names look the same ("Dana" and "Dana\u200d") or hide
# a label's colon; removed from names and labels, never from the text people said (an emoji
# sequence such as 👩🏽‍⚕️ is held together by U+200D).
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_DROP_ZERO_WIDTH = dict.fromkeys(map(ord, ZERO_WIDTH))

# Limits for untrusted JSON and YAML: far beyond any real transcript line, answer or rules
# file, far below what makes a parser recurse out of stack or convert digits for minutes.
MAX_DEPTH = 32
MAX_INT_DIGITS = 18  # fits a 64-bit integer
MAX_NUMBER_CHARS = 40


class Hostile(ValueError):
    """Input a parser refuses: a non-finite or huge number, or nesting too deep."""


# C0 controls but newline and tab, DEL and the C1 controls (U+0080-U+009F: "\x9b" is CSI).
_CONTROLS = dict.fromkeys(c for c in range(0xA0) if (c < 32 and chr(c) not in "\n\t") or c >= 0x7F)
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str, strip: bool = True) -> str:
    """Text without control characters (keeping newlines and tabs), surrounding whitespace
    removed (unless `strip` is false: a streamed piece keeps its spaces); a lone surrogate (a
    JSON escape like "\\ud800", which UTF-8 cannot hold) becomes U+FFFD. Escape sequences
    lose their ESC, so "\\x1b]0;title" prints as harmless text."""
    cleaned = _SURROGATE.sub("\ufffd", text.translate(_CONTROLS))
    return cleaned.strip() if strip else cleaned


def clean_name(text: str) -> str:
    """A name or label on one line: `clean_text`, zero-width characters removed, whitespace
    (newlines and tabs too) collapsed to single spaces."""
    return " ".join(clean_text(text).translate(_DROP_ZERO_WIDTH).split())


def clean_strings(value: Any) -> Any:
    """Every string in a JSON-like value (dicts, lists) through `clean_text`."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {key: clean_strings(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clean_strings(item) for item in value]
    return value


def csv_cell(value: Any) -> Any:
    """A value safe for a CSV cell a spreadsheet will open: text that would start a formula is
    prefixed with an apostrophe, which spreadsheets show as text; numbers pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def load_json(text: str | bytes) -> Any:
    """Parse untrusted JSON like `json.loads`, refusing what strict JSON has no place for or
    what only an attack sends: NaN and Infinity, numbers too large for a float or with more
    than MAX_INT_DIGITS digits, and nesting deeper than MAX_DEPTH. Raises Hostile for those,
    json.JSONDecodeError for text that is not JSON."""
    try:
        value = json.loads(
            text, parse_constant=_no_constant, parse_int=_bounded_int, parse_float=_finite_float
        )
    except RecursionError:
        raise Hostile(f"nested more than {MAX_DEPTH} levels deep") from None
    _check_depth(value)
    return value


def _no_constant(name: str) -> Any:
    raise Hostile(f"{name} is not a number JSON allows")


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise Hostile(f"a number with more than {MAX_INT_DIGITS} digits")
    return int(digits)


def _finite_float(digits: str) -> float:
    value = float(digits)
    if not math.isfinite(value) or len(digits) > MAX_NUMBER_CHARS:
        raise Hostile(f"a number too large to use ({digits[:20]}...)")
    return value


def _check_depth(value: Any) -> None:
    """Walk the parsed value without recursion; Hostile past MAX_DEPTH."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > MAX_DEPTH:
                raise Hostile(f"nested more than {MAX_DEPTH} levels deep")
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


# A plain YAML scalar that a loader turns into a number: decimal, hex, octal, binary,
# sexagesimal ("1:30:00"), with signs, underscores and exponents.
_YAML_NUMBER = re.compile(
    r"[-+]?(?:0x[0-9a-fA-F_]+|0o?[0-7_]+|0b[01_]+|[0-9_]*\.?[0-9][0-9_:]*\.?[0-9_]*(?:[eE][-+]?[0-9]+)?)"
)


def check_yaml(text: str) -> None:
    """Raise Hostile for a YAML document nested more than MAX_DEPTH levels or holding a number
    longer than MAX_NUMBER_CHARS: the token scan is iterative, so it finds both before a
    recursive composer or an integer conversion would choke on them. Syntax errors are left
    for the loader to report."""
    import yaml
    from yaml import tokens

    # The pure-Python scanner: libyaml's reads ahead and stops at 1,000 levels with a syntax
    # error, which would leave the document to the (recursive) loader.
    loader = yaml.SafeLoader
    opening = (
        tokens.BlockMappingStartToken,
        tokens.BlockSequenceStartToken,
        tokens.FlowMappingStartToken,
        tokens.FlowSequenceStartToken,
    )
    closing = (tokens.BlockEndToken, tokens.FlowMappingEndToken, tokens.FlowSequenceEndToken)
    depth = 0
    try:
        for token in yaml.scan(text, Loader=loader):
            if isinstance(token, opening):
                depth += 1
                if depth > MAX_DEPTH:
                    line = token.start_mark.line + 1
                    raise Hostile(f"line {line}: nested more than {MAX_DEPTH} levels deep")
            elif isinstance(token, closing):
                depth -= 1
            elif (
                isinstance(token, tokens.ScalarToken)
                and token.plain
                and len(token.value) > MAX_NUMBER_CHARS
                and _YAML_NUMBER.fullmatch(token.value)
            ):
                line = token.start_mark.line + 1
                raise Hostile(f"line {line}: a number more than {MAX_NUMBER_CHARS} characters long")
    except yaml.YAMLError:
        return  # not YAML at all: the loader names the problem and its line


_FORMULA_FIRST = frozenset(FORMULA_STARTS)


def csv_row(values: list[Any]) -> list[Any]:
    """csv_cell for every value of a row (one call per row, for writers of large files)."""
    return ["'" + v if isinstance(v, str) and v[:1] in _FORMULA_FIRST else v for v in values]
