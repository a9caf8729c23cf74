"""Figures the reliability tests report (kills survived, inputs tried, external fetches),
printed in pytest's terminal summary so CI logs show them."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

FIGURES = pytest.StashKey[Counter]()


@pytest.fixture(scope="session")
def figures(request) -> Counter:
    """A run-wide tally; a test adds to it: figures["SIGKILLs survived"] += n."""
    return request.config.stash.setdefault(FIGURES, Counter())


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    tally = config.stash.get(FIGURES, None)
    if tally:
        terminalreporter.write_sep("-", "reliability figures")
        for key, value in tally.items():
            terminalreporter.write_line(f"{key}: {value}")


def pytest_collection_modifyitems(config, items) -> None:
    """Every reliability test is slow (real processes, kills, PDFs): `-m "not slow"` skips the
    whole suite for a quick run; CI runs it all."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.slow)
