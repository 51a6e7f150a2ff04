"""End to end: the real durable handler in the durable SDK's local runner, over the sandbox,
both on the runner's virtual clock (so hour-long waits take milliseconds)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from aws_durable_execution_sdk_python_testing.runner import (
    DurableFunctionTestResult,
    DurableFunctionTestRunner,
)

from drift_healer import aws
from drift_healer.handler import build_handler
from drift_healer.sandbox import Notification, Sandbox
from drift_healer.settings import Settings
from tests.conftest import TEMPLATE


@dataclass
class Run:
    """What one execution left behind."""

    raw: DurableFunctionTestResult
    notifications: list[Notification]
    runner: DurableFunctionTestRunner

    @property
    def succeeded(self) -> bool:
        return self.raw.status.name == "SUCCEEDED"

    @property
    def result(self) -> dict[str, Any]:
        assert self.succeeded, f"execution failed: {self.raw.error}"
        return json.loads(self.raw.result or "null")  # type: ignore[no-any-return]

    @property
    def error(self) -> Any:
        assert not self.succeeded, f"execution succeeded: {self.raw.result}"
        return self.raw.error

    @property
    def outcome(self) -> str:
        return str(self.result["Outcome"])


@dataclass
class Harness:
    sandbox: Sandbox
    topic_arn: str
    runners: list[DurableFunctionTestRunner] = field(default_factory=list)

    def now(self) -> datetime:
        """The virtual now of the runner in use (wall clock before any runner exists)."""
        if self.runners:
            return self.runners[-1]._clock.now()  # type: ignore[no-any-return]
        return datetime.now().astimezone()

    def stack(
        self, name: str = "app", template: str = TEMPLATE, env: str = "prod", **kwargs: Any
    ) -> dict[str, str]:
        cfn = self.sandbox.client("cloudformation")
        cfn.create_stack(
            StackName=name,
            TemplateBody=template,
            Parameters=[{"ParameterKey": "Env", "ParameterValue": env}],
            **kwargs,
        )
        resources = cfn.describe_stack_resources(StackName=name)["StackResources"]
        return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}

    def drift(self, value: str = "off") -> None:
        self.sandbox.client("ssm").put_parameter(
            Name="/app/prod/feature", Value=value, Type="String", Overwrite=True
        )

    def executions(self, stack: str = "app") -> int:
        """How often CloudFormation started updating the stack (one per executed change set)."""
        events = self.sandbox.client("cloudformation").describe_stack_events(StackName=stack)
        return sum(
            e["ResourceStatus"] == "UPDATE_IN_PROGRESS" and e["LogicalResourceId"] == stack
            for e in events["StackEvents"]
        )

    def drift_again_after_execution(self) -> None:
        """Someone drifts the parameter again right after the heal, before verification."""
        faults = self.sandbox.faults
        faults.before_call(
            "ExecuteChangeSet",
            lambda: faults.before_call("DetectStackDrift", lambda: self.drift("again")),
        )

    def settings(self, **overrides: Any) -> Settings:
        # aws_max_attempts=1: botocore's in-call retries sleep in real time; the durable step
        # retries (virtual time here, free while waiting in Lambda) are what most tests exercise.
        base: dict[str, Any] = {
            "sns_topic_arn": self.topic_arn,
            "healer_stack_name": "drift-healer",
            "aws_max_attempts": 1,
        }
        return Settings(**{**base, **overrides})

    def run(self, event: Any, timeout: int = 120, **settings: Any) -> Run:
        inbox = self.sandbox.inbox(self.topic_arn)
        handler = build_handler(
            clock=lambda: runner._clock.now().timestamp(), settings=self.settings(**settings)
        )
        runner = DurableFunctionTestRunner(handler=handler, skip_time=True, region="us-east-1")
        self.runners.append(runner)
        raw = runner.run(
            input=json.dumps(event),
            execution_timeout=7 * 24 * 3600,
            execution_name=f"heal-{len(self.runners)}",
        )
        return Run(raw=raw, notifications=inbox.messages(), runner=runner)


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
