"""Run the real durable handler on this machine, in the durable SDK's local runner.

Used by the ``drift-healer`` command and by the end-to-end tests. Needs the ``local`` extra (the
durable testing SDK), which the Lambda artifact never contains.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_durable_execution_sdk_python.lambda_service import ErrorObject
from aws_durable_execution_sdk_python.serdes import ExtendedTypeSerDes

from drift_healer.handler import build_handler
from drift_healer.models import Message
from drift_healer.settings import Settings
from drift_healer_cli import console

try:
    from aws_durable_execution_sdk_python_testing.model import StartDurableExecutionInput
    from aws_durable_execution_sdk_python_testing.runner import (
        DurableFunctionTestRunner,
        _get_callback_id_from_events,
    )
    from aws_durable_execution_sdk_python_testing.web.server import WebServer, WebServiceConfig
except ImportError as missing:  # pragma: no cover - depends on how it was installed
    raise SystemExit(
        "running locally needs the durable testing SDK: pip install 'drift-healer[local]'"
    ) from missing


#: Answers an approval request: (approve, the document: Approver, Ticket, Comment).
Decide = Callable[[Message | None], tuple[bool, dict[str, str]]]
_EPOCH = datetime.min.replace(tzinfo=UTC)
_TIMEOUT = 7 * 24 * 3600
#: The healer's logger (Powertools, named after its service): notifications that are not
#: published (no SNS_TOPIC_ARN, or the publish failed) are logged there with subject and body.
_HEALER_LOGGER = "drift-healer"
#: How the durable SDK stores results and states: JSON in its own typed envelope.
_SERDES: ExtendedTypeSerDes[Any] = ExtendedTypeSerDes()  # type: ignore[no-untyped-call]


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

    @property
    def running(self) -> bool:
        return self.ended is None

    def state(self) -> Any:
        """The checkpointed result decoded (the SDK stores it in its own typed envelope); for a
        poll, ``{"value": <what CloudFormation last answered>, "errors": n, "error": "..."}``.
        None when nothing is stored yet or it cannot be read."""
        if not self.result:
            return None
        try:
            return _SERDES.deserialize(self.result)
        except Exception:
            return None


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
    #: The notifications the heal logged instead of publishing (no SNS_TOPIC_ARN, or the
    #: publish failed), in order: what a local run has to show of them.
    notifications: list[Message] = field(default_factory=list)

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
            handler=build_handler(settings, clock=self.now), skip_time=skip_time, region=region
        )
        self._servers: list[WebServer] = []

    def now(self) -> datetime:
        """The runner's clock: virtual when skipping time, else the wall clock. (The testing SDK
        has no public accessor; this is the one place that reads it.)"""
        now: datetime = self._runner._clock.now()
        return now

    def skip_to(self, moment: datetime) -> None:
        """Move the virtual clock forward to ``moment`` (a story or a test that starts at, say,
        14:00 on a Wednesday); a moment already past changes nothing: the clock never goes back.
        Only with ``skip_time``; the testing SDK's SkipClock keeps the time it skipped in
        ``_skipped``, the one place that writes it."""
        gap = moment - self.now()
        if gap > timedelta(0):
            self._runner._clock._skipped += gap  # type: ignore[attr-defined]

    def run(
        self,
        event: object,
        progress: Callable[[Phase], None] | None = None,
        poll_seconds: float = 0.5,
        name: str | None = None,
        quiet: bool | None = None,
        decide: Decide | None = None,
    ) -> LocalRun:
        """Run one execution to its end.

        ``progress`` hears of every phase: every ``poll_seconds`` while it runs (each poll's
        checkpointed state included), and once more when it has ended, the last ones included;
        if it has an ``end()`` method, that is called when the run is over (or interrupted).
        ``name``: the execution's name (default: ``heal-<stack>-<time>``). ``quiet`` (default:
        when ``progress`` is given, since a person watches that) keeps the healer's INFO log
        lines and metrics off the output unless ``console.verbose``. ``decide`` answers an
        approval the execution asks for (RequireApproval): it gets the request the heal sent and
        returns (approve, the answer's document)."""
        if quiet is None:
            quiet = progress is not None
        try:
            with console.quiet(quiet), _Notes() as notes:
                arn = self._start(event, name or _execution_name(event, self.now()))
                notes.execution_arn = arn
                if decide is not None:
                    self._ask(arn, decide, notes, progress, poll_seconds)
                result, phases = self._wait(arn, progress, poll_seconds)
        finally:
            _end(progress)
        return _local_run(result, phases, notes.messages)

    # ------------------------------------------------------------------- a person's answer
    def start(self, event: object, name: str | None = None) -> str:
        """Start an execution and return its ARN at once: for one that will wait for a person
        (RequireApproval); ``callback``, ``answer`` and ``finish`` do the rest."""
        return self._start(event, name or _execution_name(event, self.now()))

    def callback(self, arn: str, name: str = "approval", timeout: float = 120) -> str:
        """The id of the callback the execution waits on, once it waits (its approval)."""
        # the SDK names the callback of wait_for_callback(name=...) "<name> create callback id"
        callback = f"{name} create callback id"
        return str(self._runner.wait_for_callback(arn, name=callback, timeout=int(timeout)))

    def answer(self, callback_id: str, approve: bool, document: dict[str, str]) -> None:
        """Answer as SendDurableExecutionCallbackSuccess (the document as its result) or
        -Failure (the document as its ErrorData, the comment as its ErrorMessage) would."""
        data = json.dumps(document)
        if approve:
            self._runner.send_callback_success(callback_id, data.encode())
            return
        error = ErrorObject(
            message=document.get("Comment", "rejected"),
            type="Rejected",
            data=data,
            stack_trace=None,
        )
        self._runner.send_callback_failure(callback_id, error)

    def finish(
        self,
        arn: str,
        progress: Callable[[Phase], None] | None = None,
        poll_seconds: float = 0.5,
    ) -> LocalRun:
        """Wait for a started execution's end (see ``start``)."""
        try:
            result, phases = self._wait(arn, progress, poll_seconds)
        finally:
            _end(progress)
        return _local_run(result, phases, [])

    def _ask(
        self,
        arn: str,
        decide: Decide,
        notes: _Notes,
        progress: Callable[[Phase], None] | None,
        poll_seconds: float,
    ) -> None:
        """Until the execution waits for an approval (or ends without one), show its phases;
        then hand the request to ``decide`` and send its answer."""
        shown: dict[str, Phase] = {}
        name = "approval create callback id"  # the SDK's name for wait_for_callback's callback
        while True:
            execution = self._runner._executor.get_execution(arn)
            if progress is not None:
                _tell(self._live_phases(arn), shown, progress)
            if execution.is_complete:
                return
            events = self._runner.get_execution_history(arn).events
            callback_id = _get_callback_id_from_events(events, name)
            if callback_id:
                break
            threading.Event().wait(poll_seconds)
        _end(progress)
        requests = [m for m in notes.messages if "approval needed" in m.subject]
        # answered here: not a notification left to print at the end
        notes.messages[:] = [m for m in notes.messages if m not in requests]
        approve, document = decide(requests[-1] if requests else None)
        self.answer(callback_id, approve, document)

    def _wait(
        self, arn: str, progress: Callable[[Phase], None] | None, poll_seconds: float
    ) -> tuple[Any, list[Phase]]:
        """Wait for the execution's end, reporting its phases meanwhile and the last ones then."""
        done = threading.Event()
        shown: dict[str, Phase] = {}
        reporter: threading.Thread | None = None
        if progress is not None:
            reporter = threading.Thread(
                target=self._report, args=(arn, progress, poll_seconds, done, shown), daemon=True
            )
            reporter.start()
        try:
            result = self._runner.wait_for_result(arn, timeout=_TIMEOUT)
        finally:
            done.set()
            if reporter is not None:
                reporter.join(timeout=poll_seconds + 5)
        phases = [_phase(op) for op in result.get_all_operations() if op.name]
        phases.sort(key=lambda p: p.started or _EPOCH)
        if progress is not None:
            _tell(phases, shown, progress)  # the last steps, and how each wait ended
        return result, phases

    def _start(self, event: object, name: str) -> str:
        return start_execution(self._runner, event, name)

    def _report(
        self,
        arn: str,
        progress: Callable[[Phase], None],
        poll_seconds: float,
        done: threading.Event,
        shown: dict[str, Phase],
    ) -> None:
        while not done.wait(poll_seconds):
            try:
                phases = self._live_phases(arn)
            except Exception:
                continue  # the execution is not readable yet: next time
            _tell(phases, shown, progress)

    def _live_phases(self, arn: str) -> list[Phase]:
        """The execution's operations as they are now, a pending poll's last state included
        (the history's events do not carry it; the runner's execution does, as
        GetDurableExecutionState would in Lambda)."""
        execution = self._runner._executor.get_execution(arn)
        phases = [
            Phase(
                op.name,
                op.start_timestamp,
                op.end_timestamp,
                op.step_details.attempt if op.step_details else 0,
                op.step_details.result if op.step_details else None,
            )
            for op in list(execution.operations)
            if op.name and op.operation_type.value != "EXECUTION"
        ]
        phases.sort(key=lambda p: p.started or _EPOCH)
        return phases

    def serve(self) -> str:
        """Serve this runner's executions over the Lambda durable-execution API on 127.0.0.1
        (the testing SDK's web server), so that any AWS client, ``drift-healer approve`` among
        them, can read their history and answer their callbacks; returns the endpoint URL."""
        root = logging.getLogger()
        if not root.handlers:
            # the web server calls logging.basicConfig, whose handler on the root logger would
            # print every log line of the process (the healer's INFO lines among them)
            root.addHandler(logging.NullHandler())
        server = WebServer(
            WebServiceConfig(host="127.0.0.1", port=0, log_level=logging.WARNING),
            self._runner._executor,
        )
        self._servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        host, port = server.server_address[:2]
        return f"http://{host!s}:{port}"

    def close(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._runner.close()  # type: ignore[no-untyped-call]


def start_execution(runner: DurableFunctionTestRunner, event: object, name: str) -> str:
    """Start an execution of ``runner`` under ``name`` and return its ARN at once. The runner's
    own run_async gives every execution the same placeholder invocation id (``inv-12345678-…``),
    which ends up in the execution ARN, the logs and the change set's description; this names
    it after the heal instead. (The benchmark's driver starts its executions here too.)"""
    started = runner._executor.start_execution(
        StartDurableExecutionInput(
            account_id="123456789012",
            function_name="drift-healer",
            function_qualifier="$LATEST",
            execution_name=name,
            execution_timeout_seconds=_TIMEOUT,
            execution_retention_period_days=7,
            invocation_id=name,
            input=json.dumps(event),
        )
    )
    if started.execution_arn is None:  # pragma: no cover - the runner always makes one
        raise RuntimeError("the local durable runner started no execution")
    return started.execution_arn


def _local_run(result: Any, phases: list[Phase], messages: list[Any]) -> LocalRun:
    """What the runner's result says, as a LocalRun."""
    if result.status.name == "SUCCEEDED":
        return LocalRun(True, json.loads(result.result or "null"), None, phases, messages)
    error = result.error
    failure = (
        Failure(str(error.type), str(error.message))
        if error
        else Failure("Unknown", "unknown error")
    )
    return LocalRun(False, None, failure, phases, messages)


def _tell(
    phases: Iterable[Phase], shown: dict[str, Phase], progress: Callable[[Phase], None]
) -> None:
    """Report what changed since last time, and the running phase again (its clock ticks).
    The parts of an approval wait that are the SDK's own (its callback, the step that sends
    the request) are not phases a person needs to see."""
    for phase in phases:
        if phase.name.endswith((" create callback id", " submitter")):
            continue
        if shown.get(phase.name) != phase or phase.running:
            shown[phase.name] = phase
            progress(phase)


def _end(progress: Callable[[Phase], None] | None) -> None:
    end = getattr(progress, "end", None)
    if callable(end):
        end()


def _execution_name(event: object, now: datetime) -> str:
    """``heal-<stack name>-<UTC time>``: what the execution is, at a glance."""
    stack = event.get("StackName") if isinstance(event, dict) else None
    text = str(stack or "stack")
    if text.startswith("arn:") and "/" in text:
        text = text.split("/")[1]  # arn:…:stack/NAME/ID
    safe = re.sub(r"[^A-Za-z0-9-]+", "-", text).strip("-")[:64] or "stack"
    return f"heal-{safe}-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}"


class _Notes(logging.Filter):
    """Collects the notifications this execution logged (subject and body) from the healer's
    logger while a run lasts; every record goes on as it was."""

    def __init__(self) -> None:
        super().__init__()
        self.execution_arn = ""
        self.messages: list[Message] = []

    def filter(self, record: logging.LogRecord) -> bool:
        subject, body = getattr(record, "subject", None), getattr(record, "body", None)
        mine = getattr(record, "executionArn", None) == self.execution_arn
        if mine and isinstance(subject, str) and isinstance(body, str):
            self.messages.append(Message(subject=subject, body=body, attributes={}))
        return True

    def __enter__(self) -> _Notes:
        logging.getLogger(_HEALER_LOGGER).addFilter(self)
        return self

    def __exit__(self, *_: object) -> None:
        logging.getLogger(_HEALER_LOGGER).removeFilter(self)


def _phase(op: Any) -> Phase:
    result = getattr(op, "result", None)
    return Phase(
        op.name,
        op.start_timestamp,
        op.end_timestamp,
        getattr(op, "attempt", 0) or 0,
        result if isinstance(result, str) else None,
    )
