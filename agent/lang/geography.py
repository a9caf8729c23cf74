"""Places beyond ISO 3166 (`geography.yaml`): everyday names of countries, regions and their
members, and where a bare state code is read."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, field_validator, model_validator

_CODE = re.compile(r"^[A-Z]{2}(?:-[A-Z0-9]{1,3})?$")


class Region(BaseModel):
    """A named group of countries, subdivisions or other regions."""

    aliases: list[str] = Field(default_factory=list)
    members: list[str] = Field(min_length=1)


class Geography(BaseModel):
    """Aliases of ISO places, the countries whose subdivisions count, regions."""

    aliases: dict[str, list[str]] = Field(default_factory=dict)
    subdivisions: dict[str, list[str]] = Field(default_factory=dict)
    state_codes_default: list[str] = Field(default_factory=list)
    regions: dict[str, Region] = Field(default_factory=dict)

    @field_validator("aliases", "subdivisions")
    @classmethod
    def _codes(cls, table: dict[str, list[str]]) -> dict[str, list[str]]:
        bad = [code for code in table if not _CODE.match(code)]
        if bad:
            raise ValueError(f"not an ISO code: {', '.join(bad)}")
        return table

    @model_validator(mode="after")
    def _members_known(self) -> Geography:
        names = {name.casefold() for name in self.regions}
        for name, region in self.regions.items():
            bad = [m for m in region.members if not _CODE.match(m) and m.casefold() not in names]
            if bad:
                raise ValueError(f"region {name}: unknown members {', '.join(bad)}")
        return self
