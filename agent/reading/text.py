"""The matching copy of a text every reader scans."""

from __future__ import annotations


def normalise(text: str) -> str:
    """Same-length copy with typographic apostrophes made plain, for matching only."""
    return text.replace("’", "'").replace("‘", "'")
