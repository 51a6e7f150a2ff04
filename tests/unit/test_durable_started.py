"""``Durable.started``: the instant a change policy's deadline counts from. AWS counts
ExecutionTimeout from the execution's start, which the execution's own record (its EXECUTION
operation) holds; a record without it falls back to the time now, said in a warning. The end-to-end
rule is in tests/e2e/test_change_policy_deadline.py; this pins the two sources apart."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from drift_healer.durable import Durable
from drift_healer.settings import Settings

NOW = datetime(2030, 1, 2, 13, 30, 59, 900_000, tzinfo=UTC)


@dataclass
class _Execution:
    start_timestamp: datetime | None


@dataclass
class _State:
    execution: _Execution | None

    def get_execution_operation(self) -> _Execution | None:
        return self.execution


class _Context:
    """The two things ``started`` uses of a DurableContext: the execution's state, and a step
    (run at once, as on a first run: its result is what a replay reads back)."""

    def __init__(self, execution: _Execution | None) -> None:
        self.state = _State(execution)
        self.logger = logging.getLogger("test_durable_started")
        self.steps: list[str] = []

    def step(self, fn: Callable[[Any], Any], name: str, config: Any) -> Any:
        self.steps.append(name)
        return fn(None)


def started(execution: _Execution | None) -> tuple[datetime, _Context]:
    context = _Context(execution)
    durable = Durable(context, Settings(), clock=lambda: NOW)  # type: ignore[arg-type]
    return durable.started("clock: began"), context


def test_the_execution_s_own_start_is_used_floored_to_the_second() -> None:
    began = datetime(2030, 1, 2, 14, 0, 0, 999_000, tzinfo=timezone(timedelta(hours=1)))
    at, context = started(_Execution(began))
    assert at == datetime(2030, 1, 2, 13, 0, 0, tzinfo=UTC)  # not NOW, not rounded up
    assert context.steps == ["clock: began"]  # checkpointed: a replay reads the same


@pytest.mark.parametrize(
    "execution", [None, _Execution(None)], ids=["no execution operation", "no start time"]
)
def test_a_record_without_the_start_counts_from_now_and_says_so(
    execution: _Execution | None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="test_durable_started"):
        at, context = started(execution)
    assert at == NOW.replace(microsecond=0)
    assert context.steps == ["clock: began"]
    assert "start time is not in its record" in caplog.text
