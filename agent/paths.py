"""Where icp keeps its data and finds its bundled files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent


def icp_home() -> Path:
    """The folder holding the database: $ICP_HOME, else the platform's user data folder."""
    env = os.environ.get("ICP_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("icp", appauthor=False))


def private_dir(path: Path) -> Path:
    """Create the folder owner-only (0700) if it is missing; an existing one is left as it is.

    Its missing parents are created as `mkdir -p` would: they are the user's folders.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        return path
    os.chmod(path, 0o700)  # mkdir's mode passes through the umask
    return path


def private_file(path: Path) -> Path:
    """Create an empty owner-only (0600) file if there is none; an existing one is left alone.

    For the database: SQLite gives its -wal, -shm and -journal files the database's mode.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path
    try:
        os.chmod(path, 0o600)  # the umask may have removed the owner's own bits
    finally:
        os.close(fd)
    return path


def resource(name: str) -> Path:
    """A bundled folder (`prompts`, `report_templates`): inside the wheel or beside the package."""
    for base in (_ROOT / "_data", _ROOT.parent):
        path = base / name
        if path.is_dir():
            return path
    raise FileNotFoundError(f"bundled folder {name!r} is missing from this installation")


def load_yaml(path: Path) -> Any:
    """A bundled YAML file, with libyaml's fast loader when it is there."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text("utf-8"), Loader=loader)
