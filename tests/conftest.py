"""Fixtures shared by every kind of test: a manual clock and a sandbox on it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

from drift_sandbox import Sandbox
from tests.support import ManualClock

pytest_plugins = ["tests.matrix"]

# Property tests judge behaviour, not speed (that is the benchmark's): no per-example deadline,
# which a loaded CI machine would trip. In CI the examples are derived from the test, so a run
# is reproducible; locally each run explores new ones.
settings.register_profile("default", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") == "true" else "default")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sandbox(clock: ManualClock) -> Iterator[Sandbox]:
    with Sandbox(clock=clock) as sb:
        yield sb
