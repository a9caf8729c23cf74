"""What a pack calls sections and other things users see (`labels.yaml`)."""

from __future__ import annotations

from pydantic import BaseModel, field_validator

from agent.profile.models import SECTION_KEYS


class Labels(BaseModel):
    """Titles shown to users."""

    sections: dict[str, str]

    @field_validator("sections")
    @classmethod
    def _every_section(cls, titles: dict[str, str]) -> dict[str, str]:
        if set(titles) != set(SECTION_KEYS):
            raise ValueError("needs a title for each of the eleven canonical sections")
        return {key: titles[key] for key in SECTION_KEYS}
