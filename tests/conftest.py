"""Fixtures shared by every kind of test: a manual clock and a sandbox on it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import botocore.loaders
import botocore.session
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

# Tests make new boto3 sessions all the time (each sandbox has its own credentials and endpoint,
# and drift_healer.aws.reset() forgets the healer's session), and each new session would parse
# botocore's service models and endpoint rules again: about a second of JSON a test. One loader
# for the process parses each file once, as one long-lived session in Lambda does. The models
# are botocore's data, the same for every session; sessions and clients are still built afresh.
_LOADER = botocore.loaders.create_loader()


def _register_shared_loader(session: botocore.session.Session) -> None:
    def loader() -> botocore.loaders.Loader:
        path = session.get_config_variable("data_path")  # AWS_DATA_PATH: a loader of its own
        return botocore.loaders.create_loader(path) if path else _LOADER

    session._components.lazy_register_component("data_loader", loader)


botocore.session.Session._register_data_loader = _register_shared_loader  # type: ignore[method-assign]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sandbox(clock: ManualClock) -> Iterator[Sandbox]:
    with Sandbox(clock=clock) as sb:
        yield sb
