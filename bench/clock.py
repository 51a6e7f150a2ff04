"""Virtual time for the benchmark: the durable test runner's clock, shared with the sandbox.

Two ways to run heals on it:

- ``RunnerClock`` (one heal at a time): the runner's own skip clock, which jumps over every
  wait, so the time a heal takes is CloudFormation's modeled time plus the waits plus the real
  time its invocations ran; the baseline poller sleeps on the same clock.
- ``EventClock`` (many heals at once, the fleet night): a discrete-event clock. Time stands
  still while anything runs, and moves to the earliest pending wake-up of any execution only
  when every execution is idle, so concurrent heals (and the account's rate limits) see one
  consistent time. Invocations take no virtual time here.

The testing SDK (pinned in requirements/dev.lock) has no public hook for either; this module is
the one place that reaches into it: the clock object the runner shares with its executor and
checkpoint processor, the executor's method that arms an execution's next wake-up, and the
scheduler's ``call_later`` (to know when no work is left). The smoke test fails if an upgrade
moves them.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import aws_durable_execution_sdk_python.state as sdk_state
from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner

#: A wake-up armed this far ahead never fires by itself: the event clock fires it.
_NEVER = 10.0**6
#: ``call_later`` delays up to this are work to do now, not timers.
_NOW = 1.0


class RunnerClock:
    """The runner's own skip clock, read and moved on by the benchmark: the sandbox reads it,
    and the baseline poller sleeps on it (as an armed wake-up does, it jumps ahead)."""

    def __init__(self, runner: DurableFunctionTestRunner) -> None:
        self._clock: Any = runner._clock

    def now(self) -> datetime:
        now: datetime = self._clock.now()
        return now

    def sleep(self, seconds: float) -> None:
        self._clock.arm(self.now() + timedelta(seconds=seconds))


class EventClock:
    """A discrete-event clock driving a ``DurableFunctionTestRunner`` (see the module's text).
    ``run_until`` moves time on; ``now`` is the time the sandbox and every execution read."""

    def __init__(self, runner: DurableFunctionTestRunner, start: datetime) -> None:
        self._now = start
        self._idle = threading.Condition()
        self._busy = 0
        self._wakes: list[tuple[datetime, int, str | None]] = []
        self._order = itertools.count()
        self._local = threading.local()
        executor: Any = runner._executor
        self._arm_execution: Callable[[str], None] = executor._schedule_earliest_pending
        clock: Any = runner._clock  # one object, shared by the executor and the checkpointer
        clock.now = self.now
        clock.arm = self._arm
        executor._schedule_earliest_pending = self._arming
        scheduler: Any = runner._scheduler
        self._call_later = scheduler.call_later
        scheduler.call_later = self._counted_call_later

    # ------------------------------------------------------------------ what the runner calls
    def now(self) -> datetime:
        return self._now

    def _arming(self, arn: str) -> None:
        """The executor arms ``arn``'s next wake-up: note whose it is while it does."""
        previous = getattr(self._local, "arn", None)
        self._local.arn = arn
        try:
            self._arm_execution(arn)
        finally:
            self._local.arn = previous

    def _arm(self, wake: datetime) -> float:
        """Real seconds until ``wake`` fires: none if due, else never (until ``run_until``)."""
        if wake <= self._now:
            return 0.0
        with self._idle:
            heapq.heappush(
                self._wakes, (wake, next(self._order), getattr(self._local, "arn", None))
            )
        return _NEVER

    def _counted_call_later(
        self,
        func: Callable[[], Any],
        delay: float = 0,
        count: int | None = 1,
        completion_event: Any = None,
    ) -> Future[Any]:
        now = delay <= _NOW
        if now:
            with self._idle:
                self._busy += 1
        future: Future[Any] = self._call_later(
            func, delay=delay, count=count, completion_event=completion_event
        )
        if now:
            future.add_done_callback(self._done)
        return future

    def _done(self, _: Future[Any]) -> None:
        with self._idle:
            self._busy -= 1
            if self._busy == 0:
                self._idle.notify_all()

    # ------------------------------------------------------------------ what the driver calls
    def settle(self, timeout: float = 600.0) -> None:
        """Wait (in real time) until no execution has work left at the current time."""
        with self._idle:
            if not self._idle.wait_for(lambda: self._busy == 0, timeout):
                raise RuntimeError(
                    f"the durable runner still had {self._busy} tasks running after "
                    f"{timeout:.0f} s of real time at {self._now:%H:%M:%S}: a heal is stuck"
                )

    def next_wake(self) -> datetime | None:
        with self._idle:
            return self._wakes[0][0] if self._wakes else None

    def advance(self, to: datetime) -> None:
        """Move time to ``to`` (never back) and fire every wake-up due by then."""
        with self._idle:
            self._now = max(self._now, to)
            due = []
            while self._wakes and self._wakes[0][0] <= self._now:
                due.append(heapq.heappop(self._wakes)[2])
        for arn in dict.fromkeys(due):
            if arn is not None:
                self._arming(arn)  # re-arms at its true earliest wake-up: fires if due
        self.settle()


@contextmanager
def fast_checkpoint_stop(seconds: float = 0.005) -> Iterator[None]:
    """The durable SDK's checkpoint thread looks for its stop signal every 0.1 s, so every
    invocation lasts up to 0.1 s longer than its work. Under the event clock real time is not
    virtual time, so looking more often changes nothing measured, only how long the run takes."""
    saved = sdk_state._STOP_SIGNAL_POLL_SECONDS
    sdk_state._STOP_SIGNAL_POLL_SECONDS = seconds
    try:
        yield
    finally:
        sdk_state._STOP_SIGNAL_POLL_SECONDS = saved
