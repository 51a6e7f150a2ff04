"""Run the real durable handler on this machine, in the durable SDK's local runner.

Used by the ``drift-healer`` command and by the end-to-end tests. Needs the ``local`` extra (the
durable testing SDK), which the Lambda artifact never contains.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from drift_healer.handler import build_handler
from drift_healer.settings import Settings

try:
    from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner
except ImportError as missing:  # pragma: no cover - depends on how it was installed
    raise SystemExit(
        "running locally needs the durable testing SDK: pip install 'drift-healer[local]'"
    ) from missing


_EPOCH = datetime.min.replace(tzinfo=UTC)
_TIMEOUT = 7 * 24 * 3600


@dataclass(frozen=True)
class Phase:
    """One operation of the execution, on the runner's clock."""

    name: str
    started: datetime | None
    ended: datetime | None
    attempts: int
    #: The checkpointed result (a step's result, a wait's last state), as stored.
    result: str | None = None

    @property
    def size(self) -> int:
        """Bytes of the checkpointed result."""
        return len(self.result.encode()) if self.result else 0


@dataclass(frozen=True)
class Failure:
    """Why an execution failed: the error's type (as the SDK records it) and message."""

    type: str
    message: str

    def __str__(self) -> str:
        return f"{self.type}: {self.message}"


@dataclass(frozen=True)
class LocalRun:
    """What one execution ended with."""

    succeeded: bool
    result: dict[str, Any] | None
    error: Failure | None
    phases: list[Phase]

    def phase(self, name: str) -> Phase:
        """The operation named ``name`` (KeyError if the execution had none)."""
        for phase in self.phases:
            if phase.name == name:
                return phase
        raise KeyError(name)


class LocalRunner:
    """The local durable runner with the healer's handler; ``skip_time`` makes waits instant
    (virtual clock) instead of real."""

    def __init__(self, settings: Settings, skip_time: bool, region: str = "us-east-1") -> None:
        self._runner = DurableFunctionTestRunner(
            handler=build_handler(settings), skip_time=skip_time, region=region
        )

    def now(self) -> datetime:
        """The runner's clock: virtual when skipping time, else the wall clock. (The testing SDK
        has no public accessor; this is the one place that reads it.)"""
        now: datetime = self._runner._clock.now()
        return now

    def run(
        self,
        event: object,
        progress: Callable[[Phase], None] | None = None,
        poll_seconds: float = 2.0,
        name: str = "local",
    ) -> LocalRun:
        """Run one execution to its end; ``progress`` hears of each new phase as it starts."""
        arn = self._runner.run_async(
            input=json.dumps(event), execution_timeout=_TIMEOUT, execution_name=name
        )
        done = threading.Event()
        if progress is not None:
            threading.Thread(
                target=self._report, args=(arn, progress, poll_seconds, done), daemon=True
            ).start()
        try:
            result = self._runner.wait_for_result(arn, timeout=_TIMEOUT)
        finally:
            done.set()
        phases = [_phase(op) for op in result.get_all_operations() if op.name]
        phases.sort(key=lambda p: p.started or _EPOCH)
        if result.status.name == "SUCCEEDED":
            return LocalRun(True, json.loads(result.result or "null"), None, phases)
        error = result.error
        failure = (
            Failure(str(error.type), str(error.message))
            if error
            else Failure("Unknown", "unknown error")
        )
        return LocalRun(False, None, failure, phases)

    def _report(
        self,
        arn: str,
        progress: Callable[[Phase], None],
        poll_seconds: float,
        done: threading.Event,
    ) -> None:
        seen: set[str] = set()
        while not done.wait(poll_seconds):
            try:
                events = self._runner.get_execution_history(arn).events
            except Exception:
                continue
            for event in events:
                name = getattr(event, "name", None)
                if name and name not in seen:
                    seen.add(name)
                    progress(Phase(name, None, None, 0))

    def close(self) -> None:
        self._runner.close()  # type: ignore[no-untyped-call]


def _phase(op: Any) -> Phase:
    result = getattr(op, "result", None)
    return Phase(
        op.name,
        op.start_timestamp,
        op.end_timestamp,
        getattr(op, "attempt", 0) or 0,
        result if isinstance(result, str) else None,
    )
