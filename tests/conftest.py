"""Fixtures shared by every kind of test: a manual clock and a sandbox on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drift_sandbox import Sandbox
from tests.support import ManualClock

pytest_plugins = ["tests.matrix"]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sandbox(clock: ManualClock) -> Iterator[Sandbox]:
    with Sandbox(clock=clock) as sb:
        yield sb
