"""End to end: the real durable handler in the durable SDK's local runner, over the sandbox,
both on the runner's virtual clock (so hour-long waits take milliseconds)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drift_healer import aws, secrets
from drift_sandbox import Sandbox
from tests.support import Harness, Reviewed


@pytest.fixture
def harness(monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    aws.reset()
    holder: list[Harness] = []
    sandbox = Sandbox(clock=lambda: holder[0].now())
    with sandbox:
        topic = sandbox.client("sns").create_topic(Name="drift-healer")["TopicArn"]
        harness = Harness(sandbox=sandbox, topic_arn=topic)
        holder.append(harness)
        yield harness
        for runner in harness.runners:
            runner.close()


@pytest.fixture
def reviewed(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> Iterator[Reviewed]:
    """A RequireApproval heal of a drifted stack, waiting for its answer on the review page."""
    harness.stack()
    harness.drift()
    yield Reviewed(harness, monkeypatch)
    aws.reset()
    secrets.forget()
