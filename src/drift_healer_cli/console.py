"""What the command line prints, and what it keeps off the screen.

A person runs ``drift-healer``: they see section titles, the progress of each wait (phase,
CloudFormation's status, elapsed time), the timeline of an execution, and the notification as
its reader gets it. The healer's JSON log lines and its CloudWatch metrics are for CloudWatch;
here they are noise, kept away unless ``verbose`` (``drift-healer --debug``) asks for them.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from drift_healer_cli.local import LocalRun, Phase

#: Show everything: the healer's and the reconciler's INFO log lines (JSON), their metrics (EMF
#: JSON) and the sandbox server's access log. main() sets it for ``--debug``.
verbose = False

#: The Powertools loggers of the healer and the reconciler (named after their services).
_SERVICE_LOGGERS = ("drift-healer", "drift-healer-reconciler", "drift-healer-review")
#: The sandbox server's access log (moto's server is werkzeug's): a line per request.
_SERVER_LOGGER = "werkzeug"
#: Powertools' switch: flush_metrics prints nothing while it is true (read at each flush).
_METRICS_DISABLED = "POWERTOOLS_METRICS_DISABLED"
#: The phase column: as wide as the longest phase name ("re-detect after deferral 1: start"),
#: so that the notes line up.
_NAME_WIDTH = 33
#: Back to the start of the line, and erase it: the live progress line is rewritten in place.
_REWRITE = "\r\x1b[K"


# ------------------------------------------------------------------------------ sections
def say(title: str, detail: str = "") -> None:
    print(f"\n== {title}" + (f": {detail}" if detail else ""))


def timeline(phases: Sequence[Phase], indent: str = "   ") -> None:
    """Each phase with its start and duration on the (virtual) clock: waits cost nothing.
    ``polls``: how often a wait asked CloudFormation."""
    started = [p for p in phases if p.started]
    if not started:
        return
    origin = min(p.started for p in started if p.started)
    print(f"{indent}{'start':>9}  {'phase':28} {'took':>7}  polls")
    for phase in started:
        assert phase.started is not None
        start = (phase.started - origin).total_seconds()
        took = ((phase.ended or phase.started) - phase.started).total_seconds()
        polls = str(polls_of(phase)) if _is_poll(phase) else ""
        print(f"{indent}t+{start:6.1f}s  {phase.name:28} {took:6.1f}s  {polls}".rstrip())


def notification(subject: str | None, body: str, indent: str = "   ") -> None:
    """A notification as its reader sees it: the subject, then the body line by line."""
    print(f"{indent}Subject: {subject or ''}")
    print()
    for line in body.rstrip("\n").split("\n"):
        print(f"{indent}{line}".rstrip())


def notifications(run: LocalRun, topic: str) -> None:
    """The notifications of a local run: in full those it logged instead of publishing (no
    SNS_TOPIC_ARN, or the publish failed); else where a published one went."""
    for message in run.notifications:
        why = "the publish failed" if topic else "not published: SNS_TOPIC_ARN is not set"
        say(f"The notification ({why})")
        notification(message.subject, message.body)
    published = [p.name for p in run.phases if p.name.startswith("notify ") and not p.running]
    if not run.notifications and published and topic:
        say("The notification", f"published to {topic}")


def block(text: str, indent: str = "   ") -> None:
    """Multi-line text (JSON, a command), indented."""
    for line in text.split("\n"):
        print(f"{indent}{line}".rstrip())


# ------------------------------------------------------------------------------ progress
class Progress:
    """What a person watching a heal sees: every poll's phase, the status CloudFormation
    answered, and the time elapsed. On a terminal one live line is rewritten in place (its clock
    ticks) and each finished phase stays as a line of its own; elsewhere (a pipe, a CI log) only
    plain lines, one per poll and per finished phase, without control characters.

    Call it with each Phase (LocalRunner.run does); ``then`` hears each phase's name once, as it
    starts; ``end()`` closes a live line that is still open (LocalRunner.run calls it)."""

    def __init__(
        self,
        out: TextIO | None = None,
        then: Callable[[str], None] | None = None,
        live: bool | None = None,
    ) -> None:
        self._out = out or sys.stdout
        self._live = _is_terminal(self._out) if live is None else live
        self._then = then
        self._started = time.monotonic()
        self._printed: dict[str, tuple[Any, ...]] = {}
        #: Plain output: the phases with a line, and those started without one yet (end()
        #: shows them: after Ctrl-C, the phase it interrupted).
        self._shown: set[str] = set()
        self._unshown: dict[str, Phase] = {}
        self._open = False
        self._lock = threading.Lock()

    def __call__(self, phase: Phase) -> None:
        with self._lock:
            if phase.name not in self._printed and self._then is not None:
                self._then(phase.name)
            key = (phase.attempts, phase.result, phase.ended)
            changed = self._printed.get(phase.name) != key
            self._printed[phase.name] = key
            self._unshown.pop(phase.name, None)
            if self._live and phase.running:
                self._rewrite(self.describe(phase))
            elif changed and (not phase.running or phase.attempts):
                self._line(self.describe(phase))  # it ended, or a poll (a retry) happened
                self._shown.add(phase.name)
            elif phase.name not in self._shown:
                self._unshown[phase.name] = phase  # started, not shown yet

    def end(self) -> None:
        """The run is over: after an interruption, what was running is shown as it was."""
        with self._lock:
            for phase in self._unshown.values():
                self._line(self.describe(phase))
            self._unshown.clear()
            if self._open:
                self._out.write("\n")
                self._out.flush()
                self._open = False

    def describe(self, phase: Phase) -> str:
        """``[  12s] execute change set: wait   poll 3: ExecutionStatus EXECUTE_IN_PROGRESS, …``
        (what matters first: a line too long for the terminal is cut at its end)."""
        elapsed = time.monotonic() - self._started
        if _is_poll(phase):
            asked = polls_of(phase)
            if phase.running:
                note = f"poll {asked}" if asked else "waiting" if phase.attempts else "asking"
            else:
                note = (
                    f"done after {asked} poll{'s' if asked != 1 else ''} ({_seconds(phase):.0f}s)"
                )
        elif phase.running:
            note = f"attempt {phase.attempts + 1}" if phase.attempts else "running"
        else:
            note = "done"
        status = status_of(phase)
        name = f"{phase.name:{_NAME_WIDTH}}"
        return f"  [{elapsed:4.0f}s] {name} {note}" + (f": {status}" if status else "")

    def _line(self, text: str) -> None:
        if self._open:
            self._out.write(_REWRITE)
            self._open = False
        self._out.write(text + "\n")
        self._out.flush()

    def _rewrite(self, text: str) -> None:
        width = _columns(self._out)
        self._out.write(_REWRITE + text[: width - 1])  # never wrap: \r returns to one line only
        self._out.flush()
        self._open = True


def status_of(phase: Phase) -> str:
    """What CloudFormation last answered, for a poll: its ``…Status`` fields, e.g.
    ``DetectionStatus DETECTION_IN_PROGRESS`` or ``ExecutionStatus EXECUTE_IN_PROGRESS,
    StackStatus UPDATE_IN_PROGRESS``, and transient errors in a row. Empty for a step."""
    state = phase.state()
    if not _is_poll_state(state):
        return ""
    value, errors = state["value"], state["errors"]
    if isinstance(value, dict):
        # While a change set executes, its own Status stays CREATE_COMPLETE: the stack's moves.
        skip = {"Status"} if "StackStatus" in value else set()
        text = ", ".join(
            f"{key} {shown}"
            for key, shown in value.items()
            if key.endswith("Status") and key not in skip and isinstance(shown, str) and shown
        )
    elif value is None:
        text = "" if not state.get("asked", 1) else "no answer yet"
    else:
        text = ""  # e.g. the id of a drift detection that started
    if errors:
        failed = f"{errors} poll{'s' if errors != 1 else ''} in a row failed ({state['error']})"
        text = f"{text}; {failed}" if text else failed
    return text


def polls_of(phase: Phase) -> int:
    """How often a wait asked CloudFormation: its checks, but the one at once of a wait for work
    just started, which asks nothing."""
    state = phase.state()
    if _is_poll_state(state) and isinstance(state.get("asked"), int):
        return int(state["asked"])
    return phase.attempts


def _is_poll_state(state: Any) -> bool:
    return isinstance(state, dict) and {"value", "errors", "error"} <= state.keys()


def _is_poll(phase: Phase) -> bool:
    return _is_poll_state(phase.state()) or phase.name.endswith((": wait", ": start"))


def _seconds(phase: Phase) -> float:
    if phase.started is None or phase.ended is None:
        return 0.0
    return (phase.ended - phase.started).total_seconds()


def _columns(out: TextIO) -> int:
    """The terminal's width (the one written to, then the environment's), at least 40."""
    try:
        columns = os.get_terminal_size(out.fileno()).columns
    except (AttributeError, ValueError, OSError, io.UnsupportedOperation):
        columns = 0
    if columns <= 0:
        columns = shutil.get_terminal_size((100, 24)).columns
    return max(columns, 40)


def _is_terminal(out: TextIO) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False


# ------------------------------------------------------------------------------ quiet
@contextmanager
def quiet(enabled: bool = True) -> Iterator[None]:
    """While the block runs, keep off the output what is meant for CloudWatch or nobody: the
    healer's and the reconciler's INFO log lines (JSON; warnings and errors still show), their
    metrics (a CloudWatch EMF JSON line each run) and the sandbox server's access log. Nothing
    changes when ``verbose`` or not ``enabled``."""
    if not enabled or verbose:
        yield
        return
    # creates the loggers whose handlers are muted (the handler imports the reconciler lazily)
    import drift_healer.handler
    import drift_healer.reconciler
    import drift_healer.review  # noqa: F401

    handlers = [h for name in _SERVICE_LOGGERS for h in logging.getLogger(name).handlers]
    below_warning = _BelowWarning()
    server = logging.getLogger(_SERVER_LOGGER)
    for handler in handlers:
        handler.addFilter(below_warning)
    server.addFilter(below_warning)
    saved = os.environ.get(_METRICS_DISABLED)
    os.environ[_METRICS_DISABLED] = "true"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(_METRICS_DISABLED, None)
        else:
            os.environ[_METRICS_DISABLED] = saved
        server.removeFilter(below_warning)
        for handler in handlers:
            handler.removeFilter(below_warning)
        _drop_unflushed_metrics()


class _BelowWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


def _drop_unflushed_metrics() -> None:
    """A disabled flush keeps its metrics (Powertools clears them only when it prints): drop
    them, or the next flush in this process would carry them."""
    from aws_lambda_powertools import Metrics

    Metrics().clear_metrics()
