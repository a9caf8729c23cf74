"""What the front ends and reports call things (`ui.yaml`): transcript events, progress labels."""

from __future__ import annotations

from pydantic import BaseModel


class UIWords(BaseModel):
    """Labels shown to people, by the key the code uses."""

    events: dict[str, str]  # a command turn ("/skip") as the transcript shows it
    progress: dict[str, str]  # a section's progress in the chat panel, by state
    item_status: dict[str, str]  # an item's review status on the review page
    topics: dict[str, str]  # intro and close, as the chat heads them
    roles: dict[str, str]  # who answers: founder, sales, marketing, cs
    session_status: dict[str, str]  # active, interrupted, complete
    section_status: dict[str, str]  # a section's status in the report
