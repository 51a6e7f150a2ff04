"""Durable plumbing: steps that retry what is worth retrying, and polls that wait until
CloudFormation is done. The workflow says what to do; this module says how it survives replays
and faults.

Every AWS call runs inside a step or a poll's check, so a replay reads the checkpoint instead of
calling again. Every poll is a durable wait: nothing runs, nothing is billed, while CloudFormation
works. Only transient errors (throttling, 5xx, the network) are retried; anything else ends the
step at once in a typed error that says what happened and what to do, and that type survives the
step boundary.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, NoReturn, TypedDict, TypeVar

from aws_durable_execution_sdk_python import DurableContext
from aws_durable_execution_sdk_python.config import (
    Duration,
    StepConfig,
    WaitForCallbackConfig,
)
from aws_durable_execution_sdk_python.exceptions import (
    CallbackExternalError,
    CallbackSubmitterError,
    CallbackTimeoutError,
    DurableExecutionsError,
    DurableOperationError,
    ExecutionError,
)
from aws_durable_execution_sdk_python.logger import Logger
from aws_durable_execution_sdk_python.retries import (
    RetryDecision,
    RetryStrategyConfig,
    create_retry_strategy,
)
from aws_durable_execution_sdk_python.types import WaitForConditionCheckContext
from aws_durable_execution_sdk_python.waits import (
    WaitForConditionConfig,
    WaitForConditionDecision,
)

from . import aws
from .errors import AwsUnavailable, HealError, WaitTimedOut, error_class
from .policy import limits
from .policy.polling import Backoff, poll_times
from .records import Expectation
from .redact import redact_text
from .settings import Settings

T = TypeVar("T")
#: The durable SDK's own exceptions, as a failed operation records their type.
_SDK = "aws_durable_execution_sdk_python."


def backoff_of(settings: Settings) -> Backoff:
    """The geometric schedule and bound of every wait, as the settings give them."""
    return Backoff(
        initial=settings.poll_initial_seconds,
        rate=settings.poll_backoff_rate,
        ceiling=settings.poll_max_seconds,
        max_wait=settings.max_wait_seconds,
    )


@dataclass(frozen=True)
class Answer:
    """A person's answer to a callback: their document, or why there is none."""

    given: bool
    #: SendDurableExecutionCallbackSuccess's result, or SendDurableExecutionCallbackFailure's
    #: ErrorData.
    document: Any = None
    #: The failure's ErrorMessage.
    message: str = ""
    #: "rejected" or "timed out" when not given.
    why: str = ""


@dataclass(frozen=True)
class Waited(Generic[T]):
    """How a wait ended: CloudFormation's last answer, and when it came."""

    value: T
    #: Polls that asked CloudFormation.
    polls: int
    #: Seconds after the wait began of the poll that saw it done, on the wait's schedule: how
    #: long CloudFormation took, at most (0: it was done when the wait began) ...
    took: int
    #: ... and of the poll before: at least (0 for the poll at once).
    before: int
    expected: Expectation


def _schedule(backoff: Backoff, expected: Expectation) -> tuple[int, ...]:
    """When a wait with this expectation polls (policy.polling)."""
    return poll_times(backoff, expected["FirstLook"], expected.get("Informed", False))


#: A wait that knows nothing of how long CloudFormation takes.
_UNKNOWN: Expectation = {"FirstLook": None, "Resources": None}


class _Polled(TypedDict, Generic[T]):
    """A poll's checkpointed state: the last answer (None until one came through), the transient
    errors in a row since then, the wait's expectation (fixed by its first check), which check
    this is (1: the one at once) and how many of the checks asked CloudFormation."""

    value: T | None
    errors: int
    error: str
    expected: Expectation
    poll: int
    asked: int


def is_sdk_error(error: BaseException) -> bool:
    """The SDK's own failures (checkpointing, replay, invocation). They must reach the SDK
    untouched, so that Lambda retries the invocation; the heal must not notify or go on. A step
    or poll that failed (``DurableOperationError``) is the heal's own failure, not the SDK's."""
    return isinstance(error, DurableExecutionsError) and not isinstance(
        error, DurableOperationError
    )


def _typed(fn: Callable[[], T], doing: str) -> Callable[[], T]:
    """``fn``, with every error that is not worth retrying turned into its typed HealError."""

    def run() -> T:
        try:
            return fn()
        except Exception as error:
            if is_sdk_error(error) or aws.is_transient(error):
                raise
            raise aws.classify(error, doing) from error

    return run


def _revive(failed: DurableOperationError, doing: str) -> NoReturn:
    """Raise the typed error a step or poll recorded; a transient error that outlasted every
    retry becomes AwsUnavailable."""
    cls = error_class(failed.error_type)
    if cls is not None:
        raise cls(failed.message or doing) from None
    if failed.error_type.startswith(_SDK):
        # The SDK's own failure inside a poll's check: the SDK ended the operation; end the
        # execution as it ends a step it cannot checkpoint, without a heal's notification.
        raise ExecutionError(f"{doing}: {failed.message}") from None
    raise AwsUnavailable(
        f"{doing}: AWS kept failing after every retry ({failed.message}); nothing was lost, "
        "run the heal again later"
    ) from None


class Durable:
    """Steps and polls of one execution, configured by the settings."""

    def __init__(
        self,
        context: DurableContext,
        settings: Settings,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._context = context
        self._settings = settings
        #: The time: the system's in Lambda, the runner's virtual clock in a local run.
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        backoff = create_retry_strategy(
            RetryStrategyConfig(
                max_attempts=settings.step_max_attempts,
                initial_delay=Duration.from_seconds(5),
                max_delay=Duration.from_seconds(120),
                retryable_error_types=[Exception],
            )
        )

        def retry(error: Exception, attempt: int) -> RetryDecision:
            if not aws.is_transient(error):
                return RetryDecision.no_retry()
            return backoff(error, attempt)

        self._step_config = StepConfig(retry_strategy=retry)

    @property
    def logger(self) -> Logger:
        """The replay-aware logger (silent while replaying what was logged already)."""
        return self._context.logger

    def step(self, name: str, fn: Callable[[], T]) -> T:
        """Run ``fn`` once and checkpoint its JSON result. Transient AWS errors are retried
        durably (STEP_MAX_ATTEMPTS); any other error fails at once, typed."""
        try:
            return self._context.step(
                lambda _: _typed(fn, name)(), name=name, config=self._step_config
            )
        except DurableOperationError as failed:
            _revive(failed, name)

    def best_effort_step(self, name: str, fn: Callable[[], None]) -> None:
        """Run ``fn`` once, with the SDK's default retries, for work the heal does not depend on
        (emitting metrics): if it still fails, that is logged and the heal goes on."""
        try:
            self._context.step(lambda _: fn(), name=name)
        except DurableOperationError as failed:
            self.logger.error(f"{name} failed; the heal goes on", extra={"error": failed.message})

    def sleep(self, name: str, seconds: int) -> None:
        """Wait ``seconds`` durably: the function stops, nothing is billed, and the execution
        resumes then (a change window's opening)."""
        self._context.wait(Duration.from_seconds(max(1, seconds)), name=name)

    def now(self, name: str) -> datetime:
        """The time now, checkpointed under ``name``: a replay decides on the same instant."""
        return datetime.fromisoformat(
            self.step(name, lambda: self.clock().astimezone(UTC).isoformat(timespec="seconds"))
        )

    def started(self, name: str) -> datetime:
        """When the execution started (its ExecutionTimeout counts from then), checkpointed
        under ``name``: read from the execution's own record, or the time now when the record
        does not say (a replay decides on the same instant either way)."""

        def read() -> str:
            execution = self._context.state.get_execution_operation()
            at = execution.start_timestamp if execution is not None else None
            if at is None:
                self.logger.warning(
                    "the execution's start time is not in its record: its deadline counts from "
                    "now, later than AWS counts it"
                )
                at = self.clock()
            return at.astimezone(UTC).isoformat(timespec="seconds")  # floored to the second

        return datetime.fromisoformat(self.step(name, read))

    def wait_for_person(
        self, name: str, ask: Callable[[str], None], timeout_seconds: int
    ) -> Answer:
        """Ask a person (``ask`` gets the callback id and sends the request, inside a step) and
        wait, at no cost, for SendDurableExecutionCallbackSuccess or -Failure, or the timeout."""
        config = WaitForCallbackConfig(
            timeout=Duration.from_seconds(timeout_seconds),
            retry_strategy=self._step_config.retry_strategy,
        )
        try:
            document = self._context.wait_for_callback(
                lambda callback_id, _: _typed(lambda: ask(callback_id), name)(),
                name=name,
                config=config,
            )
        except CallbackTimeoutError:
            return Answer(False, why="timed out")
        except CallbackExternalError as failed:
            return Answer(False, failed.data, failed.message or "", why="rejected")
        except CallbackSubmitterError as failed:  # the request could not be sent: typed
            cause = failed.__cause__
            _revive(cause if isinstance(cause, DurableOperationError) else failed, name)
        return Answer(True, document=document)

    def poll_until(
        self,
        name: str,
        poll: Callable[[], T],
        done: Callable[[T], bool],
        waiting_for: str = "CloudFormation to finish",
        expect: Expectation | None = None,
        at_once: bool = True,
    ) -> Waited[T]:
        """Poll until ``done``; WaitTimedOut after MAX_WAIT_SECONDS. The first check comes at
        once and polls only ``at_once`` (a wait for work the heal has just started skips it:
        CloudFormation cannot be done yet). With an expectation the next poll comes at its first
        look, each later one a little later than the one before (policy.polling); without,
        delays grow geometrically.
        A transient error (throttling, 5xx, network) just counts as a poll, the last answer
        standing, up to POLL_MAX_CONSECUTIVE_ERRORS in a row; any other error fails at once."""
        settings = self._settings
        backoff = backoff_of(settings)

        def finished(state: _Polled[T]) -> bool:
            return state["value"] is not None and done(state["value"])

        def failing(state: _Polled[T]) -> bool:
            return state["errors"] >= settings.poll_max_consecutive_errors

        typed_poll = _typed(poll, name)

        def check(state: _Polled[T], context: WaitForConditionCheckContext) -> _Polled[T]:
            if state["poll"]:
                expected = state["expected"]
            else:
                expected = (expect if settings.poll_estimates else None) or _UNKNOWN
            if not state["poll"] and not at_once:
                return {**state, "expected": expected, "poll": context.attempt}
            try:
                return {
                    "value": typed_poll(),
                    "errors": 0,
                    "error": "",
                    "expected": expected,
                    "poll": context.attempt,
                    "asked": state["asked"] + 1,
                }
            except HealError:
                raise
            except Exception as error:
                if is_sdk_error(error):
                    raise
                # transient (_typed let it through): counts as a poll
                return {
                    "value": state["value"],
                    "errors": state["errors"] + 1,
                    "error": limits.cut(redact_text(f"{type(error).__name__}: {error}"), 500) or "",
                    "expected": expected,
                    "poll": context.attempt,
                    "asked": state["asked"] + 1,
                }

        def strategy(state: _Polled[T], attempts: int) -> WaitForConditionDecision:
            times = _schedule(backoff, state["expected"])
            if finished(state) or failing(state) or attempts >= len(times):
                return WaitForConditionDecision.stop_polling()
            return WaitForConditionDecision.continue_waiting(
                Duration.from_seconds(times[attempts] - times[attempts - 1])
            )

        start: _Polled[T] = {
            "value": None,
            "errors": 0,
            "error": "",
            "expected": _UNKNOWN,
            "poll": 0,
            "asked": 0,
        }
        try:
            final = self._context.wait_for_condition(
                check,
                WaitForConditionConfig(wait_strategy=strategy, initial_state=start),
                name=name,
            )
        except DurableOperationError as failed:
            _revive(failed, name)
        value = final["value"]
        if value is not None and done(value):
            times = _schedule(backoff, final["expected"])
            checks = final["poll"]
            return Waited(
                value,
                final["asked"],
                times[checks - 1],
                times[max(0, checks - 2)],
                final["expected"],
            )
        if failing(final):
            raise AwsUnavailable(
                f"{name}: {final['errors']} polls in a row failed (last: {final['error']}); "
                "nothing was lost, run the heal again later"
            )
        raise WaitTimedOut(
            f"{name}: waited {settings.max_wait_seconds}s for {waiting_for} (last status: "
            f"{value}); raise MAX_WAIT_SECONDS for large stacks, or run the heal again later"
        )
