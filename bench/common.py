"""What the scenarios share: the healer's settings, the process environment, and what
CloudFormation did on a stack (its own time on a heal's path)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime

from drift_healer import aws
from drift_healer.settings import Settings
from drift_healer_cli import console
from drift_sandbox import ACCOUNT_ID, DEFAULT_REGION, Sandbox, StackTiming

REGION = DEFAULT_REGION
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:drift-healer"
TAG = "drift-healer"
#: Where the healer keeps each stack's timings (the template's ChangeRecords bucket). Change
#: records are not written (``CHANGE_RECORD_BUCKET`` empty): a compliance record the poller does
#: not keep, two durable operations a heal that changes.
HISTORY_BUCKET = "drift-healer-history"


def healer_settings() -> Settings:
    """The healer as deployed with HealMode=heal and the opt-in tag, notifying by SNS, keeping
    each stack's timings for its next heal.
    ``aws_max_attempts=1``: botocore's own retries sleep in real time, which a virtual clock
    cannot skip; a throttled call is retried by the healer's durable retries instead."""
    return Settings(
        sns_topic_arn=TOPIC_ARN,
        heal_mode="heal",
        opt_in_tag_key=TAG,
        healer_stack_name="drift-healer",
        history_bucket=HISTORY_BUCKET,
        aws_max_attempts=1,
    )


#: The durable SDKs log every failed step attempt with its traceback: a throttled call the
#: healer retries durably is expected here, and counted instead.
_SDK_LOGGERS = ("aws_durable_execution_sdk_python", "aws_durable_execution_sdk_python_testing")


@contextmanager
def quiet_process(sandbox: Sandbox) -> Iterator[None]:
    """The sandbox's credentials and region for every AWS call of the process, the healer's
    log lines and metrics and the durable SDKs' logs off the output, no cached clients before
    or after."""
    levels = {name: logging.getLogger(name).level for name in _SDK_LOGGERS}
    for name in _SDK_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    saved = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = REGION
    aws.reset()
    with ExitStack() as stack:
        stack.enter_context(sandbox)
        stack.enter_context(sandbox.environ())
        stack.enter_context(console.quiet(True))
        sandbox.client("sns").create_topic(Name="drift-healer")
        sandbox.client("s3").create_bucket(Bucket=HISTORY_BUCKET)
        try:
            yield
        finally:
            aws.reset()
            for name, level in levels.items():
                logging.getLogger(name).setLevel(level)
            if saved is None:
                os.environ.pop("AWS_DEFAULT_REGION", None)
            else:
                os.environ["AWS_DEFAULT_REGION"] = saved


def cloudformation_calls(sandbox: Sandbox) -> int:
    """CloudFormation API calls so far (throttled ones included)."""
    return sum(n for (service, _), n in sandbox.calls.items() if service == "cloudformation")


def cloudformation_seconds(
    sandbox: Sandbox, timing: StackTiming, stack_name: str, stack_id: str, since: datetime
) -> float:
    """Seconds CloudFormation itself worked for a heal of the stack that began at ``since``:
    every detection and change set it made since then, and every execution. A heal waits for
    each in turn, so together they are CloudFormation's time on the heal's path."""
    state = sandbox.engine.state
    durations = timing.known[stack_name]
    detections = [
        d for d in state.detections.values() if d.stack_id == stack_id and d.started >= since
    ]
    change_sets = [
        c for c in state.change_sets.values() if c.stack_id == stack_id and c.created >= since
    ]
    executed = sum(c.execution_ready_at is not None for c in change_sets)
    return (
        sum((d.ready_at - d.started).total_seconds() for d in detections)
        + sum((c.ready_at - c.created).total_seconds() for c in change_sets)
        + executed * durations.execution
    )
