"""Durable plumbing: steps that retry on AWS errors, and polls that wait until CloudFormation is
done. The workflow says what to do; this module says how it survives replays and faults.

Every AWS call runs inside a step or a poll's check, so a replay reads the checkpoint instead of
calling again. Every poll is a durable wait: nothing runs, nothing is billed, while CloudFormation
works.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Generic, TypedDict, TypeVar

from aws_durable_execution_sdk_python import DurableContext
from aws_durable_execution_sdk_python.config import Duration, JitterStrategy, StepConfig
from aws_durable_execution_sdk_python.exceptions import (
    DurableExecutionsError,
    DurableOperationError,
)
from aws_durable_execution_sdk_python.logger import Logger
from aws_durable_execution_sdk_python.retries import RetryStrategyConfig, create_retry_strategy
from aws_durable_execution_sdk_python.waits import (
    WaitForConditionConfig,
    WaitForConditionDecision,
    WaitStrategyConfig,
    create_wait_strategy,
)
from botocore.exceptions import BotoCoreError, ClientError

from . import aws
from .errors import WaitTimedOut
from .policy.polling import polls_within
from .settings import Settings

T = TypeVar("T")


class _Polled(TypedDict, Generic[T]):
    """A poll's checkpointed state: the last answer (None until one came through)."""

    value: T | None


def is_sdk_error(error: BaseException) -> bool:
    """The SDK's own failures (checkpointing, replay, invocation). They must reach the SDK
    untouched, so that Lambda retries the invocation; the heal must not notify or go on. A step
    or poll that failed (``DurableOperationError``) is the heal's own failure, not the SDK's."""
    return isinstance(error, DurableExecutionsError) and not isinstance(
        error, DurableOperationError
    )


class Durable:
    """Steps and polls of one execution, configured by the settings."""

    def __init__(self, context: DurableContext, settings: Settings) -> None:
        self._context = context
        self._settings = settings
        self._step_config = StepConfig(
            retry_strategy=create_retry_strategy(
                RetryStrategyConfig(
                    max_attempts=settings.step_max_attempts,
                    initial_delay=Duration.from_seconds(5),
                    max_delay=Duration.from_seconds(120),
                    retryable_error_types=[ClientError, BotoCoreError],
                )
            )
        )

    @property
    def logger(self) -> Logger:
        """The replay-aware logger (silent while replaying what was logged already)."""
        return self._context.logger

    def step(self, name: str, fn: Callable[[], T]) -> T:
        """Run ``fn`` once, checkpoint its JSON result, retry it durably on AWS errors."""
        return self._context.step(lambda _: fn(), name=name, config=self._step_config)

    def local_step(self, name: str, fn: Callable[[], T]) -> T:
        """Run ``fn`` once, with the SDK's default retries: for work that calls no AWS API
        (emitting metrics)."""
        return self._context.step(lambda _: fn(), name=name)

    def poll_until(self, name: str, poll: Callable[[], T], done: Callable[[T], bool]) -> T:
        """Poll with growing delays until ``done``; WaitTimedOut after MAX_WAIT_SECONDS.
        A throttled poll just counts as a poll: the last answer stands."""
        settings = self._settings

        def finished(state: _Polled[T]) -> bool:
            return state["value"] is not None and done(state["value"])

        backoff = create_wait_strategy(
            WaitStrategyConfig[_Polled[T]](
                should_continue_polling=lambda state: not finished(state),
                max_attempts=sys.maxsize,  # the bound is MAX_WAIT_SECONDS, counted in polls below
                initial_delay=Duration.from_seconds(settings.poll_initial_seconds),
                max_delay=Duration.from_seconds(settings.poll_max_seconds),
                backoff_rate=settings.poll_backoff_rate,
                jitter_strategy=JitterStrategy.NONE,
            )
        )
        polls = polls_within(
            settings.max_wait_seconds,
            lambda n: backoff({"value": None}, n).delay_seconds,
        )

        def check(state: _Polled[T], _: object) -> _Polled[T]:
            try:
                return {"value": poll()}
            except ClientError as error:
                if not aws.is_throttling(error):
                    raise
                return state

        def strategy(state: _Polled[T], attempts: int) -> WaitForConditionDecision:
            if attempts >= polls and not finished(state):
                return WaitForConditionDecision.stop_polling()
            return backoff(state, attempts)

        start: _Polled[T] = {"value": None}
        final = self._context.wait_for_condition(
            check,
            WaitForConditionConfig(wait_strategy=strategy, initial_state=start),
            name=name,
        )
        value = final["value"]
        if value is None or not done(value):
            raise WaitTimedOut(
                f"{name}: CloudFormation did not finish within {settings.max_wait_seconds}s "
                f"(last status: {value}); raise MAX_WAIT_SECONDS for large stacks"
            )
        return value
