"""Where icp keeps its data and finds its bundled files."""

from __future__ import annotations

import os
from pathlib import Path

_ROOT = Path(__file__).resolve().parent


def icp_home() -> Path:
    """The folder holding the database: $ICP_HOME, else the platform's user data folder."""
    env = os.environ.get("ICP_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("icp", appauthor=False))


def resource(name: str) -> Path:
    """A bundled folder (`prompts`, `report_templates`): inside the wheel or beside the package."""
    for base in (_ROOT / "_data", _ROOT.parent):
        path = base / name
        if path.is_dir():
            return path
    raise FileNotFoundError(f"bundled folder {name!r} is missing from this installation")
