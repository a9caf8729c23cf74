"""The reflect-back lines of the closing summary and of a quarterly review's preface."""

from __future__ import annotations

from agent.profile.models import Profile

_SUMMARY_KEYS = ("company_profile", "buying_triggers", "evaluation_criteria", "exclusions")
_SUMMARY_LABELS = {
    "company_profile": "Best fit",
    "buying_triggers": "Buying now when",
    "evaluation_criteria": "They decide on",
    "exclusions": "Not a fit",
}


def summary_lines(profile: Profile, limit: int = 14) -> list[str]:
    """One short line per key section for the closing reflect-back."""
    lines = []
    for key in _SUMMARY_KEYS:
        items = profile.sections[key].items
        best = sorted(items, key=lambda i: not i.concrete)[:1]
        if best:
            lines.append(f"{_SUMMARY_LABELS[key]}: {short(best[0].text.rstrip('.'), limit)}.")
    return lines


def short(text: str, words: int = 6) -> str:
    """At most `words` words of the respondent's text, marked when cut."""
    parts = text.split()
    return " ".join(parts[:words]) + ("..." if len(parts) > words else "")
