"""The healer's real durable handler in the durable SDK's local runner, measured.

Like ``drift_healer_cli.local.LocalRunner`` (same handler, same runner, executions started the
same way), plus what a benchmark
needs: each invocation of the handler is timed (Lambda bills that time), and an execution's
record is read whole when it ends: every operation, every checkpoint written, its start and end
on the virtual clock.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner
from aws_lambda_powertools import Metrics

from drift_healer.handler import build_handler
from drift_healer.settings import Settings
from drift_healer_cli.local import start_execution

_TIMEOUT = 7 * 24 * 3600


@dataclass(frozen=True)
class Execution:
    """What one execution cost and how it ended."""

    succeeded: bool
    #: The heal's result (the contract's JSON) or None when the execution failed.
    result: dict[str, Any] | None
    error: str
    started: datetime
    ended: datetime
    #: Durable operations: the execution itself, each step attempt and each poll, each wait.
    operations: int
    #: Bytes of every checkpoint written (results, states of polls, errors) and the input.
    data_bytes: int
    invocations: int
    #: Real seconds the handler ran, all invocations together (what Lambda bills).
    lambda_seconds: float
    #: Polls of each wait (its name -> how often it asked CloudFormation).
    polls: dict[str, int]

    @property
    def outcome(self) -> str:
        if self.result is None:
            return f"FAILED ({self.error})"
        return str(self.result.get("Outcome"))

    @property
    def seconds(self) -> float:
        return (self.ended - self.started).total_seconds()


class Driver:
    """A local durable runner with the healer's handler, timed per invocation."""

    def __init__(self, settings: Settings, region: str) -> None:
        handler = build_handler(settings)
        self._seconds: dict[str, list[float]] = defaultdict(list)

        def timed(event: Any, context: Any) -> Any:
            arn = str(getattr(event, "durable_execution_arn", ""))
            began = time.perf_counter()
            try:
                return handler(event, context)
            finally:
                self._seconds[arn].append(time.perf_counter() - began)
                # Metrics are off (console.quiet) and a disabled flush keeps them: in one
                # process of hundreds of heals they would pile up to Powertools' limit of 100,
                # which it flushes all the same. In Lambda each invocation starts afresh.
                Metrics().clear_metrics()

        self.runner = DurableFunctionTestRunner(handler=timed, skip_time=True, region=region)

    def start(self, event: dict[str, Any], name: str) -> str:
        """Start an execution now (on the runner's clock) and return its ARN."""
        return start_execution(self.runner, event, name)

    def done(self, arn: str) -> bool:
        return bool(self.runner._executor.get_execution(arn).is_complete)

    def wait(self, arn: str) -> Execution:
        """Block until the execution ends (skip clock: its waits take no real time)."""
        self.runner.wait_for_result(arn, timeout=_TIMEOUT)
        return self.record(arn)

    def record(self, arn: str) -> Execution:
        """The ended execution, measured."""
        execution = self.runner._executor.get_execution(arn)
        if not execution.is_complete:
            raise RuntimeError(f"execution {arn} has not ended")
        operations, started, ended = 0, None, None
        polls: dict[str, int] = {}
        for op in execution.operations:
            kind = op.operation_type.value
            if kind == "EXECUTION":
                started, ended = op.start_timestamp, op.end_timestamp
                operations += 1
            elif kind == "STEP":
                attempts = max(1, op.step_details.attempt if op.step_details else 1)
                operations += attempts
                if op.sub_type == "WaitForCondition" and op.name:
                    polls[op.name] = attempts
            else:
                operations += 1
        data = len(execution.start_input.input or "")
        for update in execution.updates:
            data += len((update.payload or "").encode())
            if update.error is not None:
                data += len(json.dumps(update.error.to_dict()).encode())
        output = execution.result
        succeeded = execution.close_status is not None and execution.close_status.value == (
            "SUCCEEDED"
        )
        result = json.loads(output.result) if succeeded and output and output.result else None
        error = ""
        if not succeeded:
            failure = output.error if output is not None else None
            error = f"{failure.type}: {failure.message}" if failure else "no result"
        seconds = self._seconds.get(arn, [])
        if started is None or ended is None:  # pragma: no cover - an ended execution has both
            raise RuntimeError(f"execution {arn} has no start or end time")
        return Execution(
            succeeded=succeeded,
            result=result,
            error=error,
            started=started,
            ended=ended,
            operations=operations,
            data_bytes=data,
            invocations=len(seconds),
            lambda_seconds=sum(seconds),
            polls=polls,
        )

    def close(self) -> None:
        self.runner.close()  # type: ignore[no-untyped-call]
