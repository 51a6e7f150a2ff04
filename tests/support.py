"""What the tests share: the stack template, a manual clock, sandbox helpers, and the end-to-end
harness (the real durable handler in the local runner, over the sandbox, on one virtual clock).

Test modules import helpers from here only, never from one another.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from samtranslator.yaml_helper import yaml_parse

from drift_healer import aws, executions, review, secrets
from drift_healer.settings import Settings
from drift_healer_cli.local import LocalRun, LocalRunner
from drift_healer_cli.review_server import function_url_event
from drift_sandbox import Notification, Sandbox

TEMPLATE = """
Parameters:
  Env: {Type: String, Default: dev}
Resources:
  Param:
    Type: AWS::SSM::Parameter
    Properties: {Name: !Sub "/app/${Env}/feature", Type: String, Value: "on", Description: flag}
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 30
      MessageRetentionPeriod: 345600
      Tags: [{Key: team, Value: core}, {Key: tier, Value: gold}]
  Topic:
    Type: AWS::SNS::Topic
    Properties: {DisplayName: Alerts, Tags: [{Key: team, Value: core}]}
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      VersioningConfiguration: {Status: Enabled}
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault: {SSEAlgorithm: AES256}
      Tags: [{Key: team, Value: core}]
  Logs:
    Type: AWS::Logs::LogGroup
    Properties: {RetentionInDays: 7}
"""
PREVIOUS = [{"ParameterKey": "Env", "UsePreviousValue": True}]
STEP_ATTEMPTS = Settings().step_max_attempts


class ManualClock:
    """A clock a test moves by hand."""

    def __init__(self) -> None:
        self.now_value = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now_value

    def advance(self, seconds: float) -> None:
        self.now_value += timedelta(seconds=seconds)


# ------------------------------------------------------------------------------ the sandbox
def create_stack(
    sandbox: Sandbox, name: str = "app", env: str = "prod", **kwargs: Any
) -> dict[str, str]:
    """Create a stack from TEMPLATE (or ``TemplateBody=``); physical ids by logical id."""
    cfn = sandbox.client("cloudformation")
    kwargs.setdefault("TemplateBody", TEMPLATE)
    cfn.create_stack(
        StackName=name, Parameters=[{"ParameterKey": "Env", "ParameterValue": env}], **kwargs
    )
    resources = cfn.describe_stack_resources(StackName=name)["StackResources"]
    return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}


def detect(cfn: Any, clock: ManualClock, stack_name: str = "app") -> dict[str, Any]:
    """Run a detection to its end on the manual clock and return its status."""
    detection_id = cfn.detect_stack_drift(StackName=stack_name)["StackDriftDetectionId"]
    clock.advance(3600)
    return cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection_id)  # type: ignore[no-any-return]


def drifts(cfn: Any, stack_name: str = "app") -> dict[str, dict[str, Any]]:
    out = cfn.describe_stack_resource_drifts(StackName=stack_name)["StackResourceDrifts"]
    return {d["LogicalResourceId"]: d for d in out}


def create_change_set(
    cfn: Any, name: str = "heal-1", stack: str = "app", **extra: Any
) -> dict[str, Any]:
    return cfn.create_change_set(  # type: ignore[no-any-return]
        StackName=stack,
        ChangeSetName=name,
        DeploymentMode="REVERT_DRIFT",
        UsePreviousTemplate=True,
        ChangeSetType="UPDATE",
        Parameters=PREVIOUS,
        **extra,
    )


def colleague_change_set(cfn: Any, name: str = "release-42", stack: str = "app") -> str:
    """A change set someone else made on the stack: a template change (moto's own kind)."""
    return cfn.create_change_set(  # type: ignore[no-any-return]
        StackName=stack,
        ChangeSetName=name,
        TemplateBody=TEMPLATE + f"Outputs:\n  Release: {{Value: '{name}'}}\n",
        Parameters=PREVIOUS,
        ChangeSetType="UPDATE",
    )["Id"]


def drift_param(sandbox: Sandbox, value: str = "off") -> None:
    """Change the stack's parameter out of band (the template says "on")."""
    sandbox.client("ssm").put_parameter(
        Name="/app/prod/feature", Value=value, Type="String", Overwrite=True
    )


def param_value(sandbox: Sandbox) -> str:
    ssm = sandbox.client("ssm")
    return ssm.get_parameter(Name="/app/prod/feature")["Parameter"]["Value"]  # type: ignore[no-any-return]


def change_sets(sandbox: Sandbox, stack: str = "app") -> list[dict[str, Any]]:
    """Every change set of the stack (all pages)."""
    cfn = sandbox.client("cloudformation")
    pages = cfn.get_paginator("list_change_sets").paginate(StackName=stack)
    return [summary for page in pages for summary in page["Summaries"]]


# ------------------------------------------------------------------------------ end to end
@dataclass
class Run:
    """What one execution left behind."""

    local: LocalRun
    notifications: list[Notification]

    @property
    def succeeded(self) -> bool:
        return self.local.succeeded

    @property
    def result(self) -> dict[str, Any]:
        assert self.local.succeeded and self.local.result is not None, (
            f"execution failed: {self.local.error}"
        )
        return self.local.result

    @property
    def error(self) -> Any:
        assert self.local.error is not None, f"execution succeeded: {self.local.result}"
        return self.local.error

    @property
    def outcome(self) -> str:
        return str(self.result["Outcome"])

    def attempts(self, phase: str) -> int:
        """How often a step ran, or how often a wait polled."""
        return self.local.phase(phase).attempts

    def failure_note(self) -> str:
        """The one notification of a failed heal; its body."""
        [note] = self.notifications
        assert note.attributes["outcome"] == "FAILED"
        assert note.subject is not None and "heal FAILED" in note.subject
        return note.message


def put_alarm(cloudwatch: Any, name: str, state: str = "OK") -> None:
    """A CloudWatch alarm named ``name``, in ``state`` (OK, ALARM or INSUFFICIENT_DATA), through
    ``cloudwatch`` (any account's client)."""
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        MetricName=name,
        Namespace="App",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason="test")


def outcomes(notes: list[Notification]) -> list[str]:
    """The outcome of each notification, in the order they were sent."""
    return [n.attributes["outcome"] for n in notes]


@dataclass
class Harness:
    sandbox: Sandbox
    topic_arn: str
    runners: list[LocalRunner] = field(default_factory=list)

    def now(self) -> datetime:
        """The virtual now of the runner in use (wall clock before any runner exists)."""
        if self.runners:
            return self.runners[-1].now()
        return datetime.now().astimezone()

    def stack(self, name: str = "app", env: str = "prod", **kwargs: Any) -> dict[str, str]:
        return create_stack(self.sandbox, name, env, **kwargs)

    def drift(self, value: str = "off") -> None:
        drift_param(self.sandbox, value)

    def param_value(self) -> str:
        return param_value(self.sandbox)

    def change_sets(self, stack: str = "app") -> list[dict[str, Any]]:
        return change_sets(self.sandbox, stack)

    def executions(self, stack: str = "app") -> int:
        """How often CloudFormation started updating the stack (one per executed change set)."""
        events = self.sandbox.client("cloudformation").describe_stack_events(StackName=stack)
        return sum(
            e["ResourceStatus"] == "UPDATE_IN_PROGRESS" and e["LogicalResourceId"] == stack
            for e in events["StackEvents"]
        )

    def execution_times(self) -> list[datetime]:
        """Filled, as heals run, with when ExecuteChangeSet was called (the virtual clock, UTC)."""
        at: list[datetime] = []
        self.sandbox.faults.before_call(
            "ExecuteChangeSet", lambda: at.append(self.now().astimezone(UTC))
        )
        return at

    def alarm(self, name: str, state: str = "OK") -> None:
        """A CloudWatch alarm named ``name`` in this account, in ``state``."""
        put_alarm(self.sandbox.client("cloudwatch"), name, state)

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

    def run(self, event: Any, starting_at: datetime | None = None, **settings: Any) -> Run:
        """One heal to its end; ``starting_at`` moves the virtual clock there first."""
        inbox = self.sandbox.inbox(self.topic_arn)
        runner = LocalRunner(self.settings(**settings), skip_time=True)
        if self.runners:  # the clock never goes back, whichever runner holds it
            runner.skip_to(self.runners[-1].now())
        self.runners.append(runner)
        if starting_at is not None:
            runner.skip_to(starting_at)
        local = runner.run(event, name=f"heal-{len(self.runners)}")
        return Run(local=local, notifications=inbox.messages())


# ------------------------------------------------------------------------------ the change policy
BERLIN = ZoneInfo("Europe/Berlin")
#: A Wednesday afternoon in Berlin.
WEDNESDAY_14_00 = datetime(2030, 1, 2, 14, 0, tzinfo=BERLIN)
#: Change windows on Wednesdays in Berlin: open at 14:00, and opening two hours later.
AFTERNOONS = {"Days": ["Wed"], "Start": "12:00", "End": "18:00", "TimeZone": "Europe/Berlin"}
EVENINGS = {"Days": ["Wed"], "Start": "16:00", "End": "23:00", "TimeZone": "Europe/Berlin"}


def ready_then_heal(
    harness: Harness, document: str, starting_at: datetime = WEDNESDAY_14_00, **settings: Any
) -> Run:
    """Create the stack and drift it; heal it under the change policy ``document`` (CHANGE_POLICY)
    from ``starting_at`` on the virtual clock."""
    harness.stack()
    harness.drift()
    return harness.run(
        {"StackName": "app"}, starting_at=starting_at, change_policy=document, **settings
    )


def goes_off_when_executed(harness: Harness, name: str) -> None:
    """The alarm ``name`` goes off (ALARM) as the heal executes its change set."""
    harness.sandbox.faults.before_call(
        "ExecuteChangeSet",
        lambda: harness.sandbox.client("cloudwatch").set_alarm_state(
            AlarmName=name, StateValue="ALARM", StateReason="errors"
        ),
    )


def change_records(harness: Harness, bucket: str) -> dict[str, dict[str, Any]]:
    """Every change record in ``bucket``, decoded, by its key."""
    s3 = harness.sandbox.client("s3")
    found = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {
        o["Key"]: json.loads(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read())
        for o in found
    }


# ------------------------------------------------------------------------------ the review page
REVIEW_URL = "https://review.example.lambda-url.eu-west-1.on.aws/"


def forged(token: str) -> str:
    """``token`` with the last two characters of its signature changed."""
    return token[:-2] + ("AA" if not token.endswith("AA") else "BB")


class Reviewed:
    """A RequireApproval heal waiting for its answer, its emailed link, and the review page."""

    def __init__(self, harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
        self.harness = harness
        secret = harness.sandbox.client("secretsmanager").create_secret(
            Name="drift-healer-review", SecretString="r" * 64
        )
        self.settings: Settings = harness.settings(
            review_url=REVIEW_URL, review_secret_arn=secret["ARN"]
        )
        self.runner = LocalRunner(self.settings, skip_time=True)
        harness.runners.append(self.runner)
        self.inbox = harness.sandbox.inbox(harness.topic_arn)
        self.arn = self.runner.start({"StackName": "app", "RequireApproval": True}, name="ask")
        self.callback_id = self.runner.callback(self.arn)
        [self.request] = self.inbox.messages()
        found = re.search(re.escape(REVIEW_URL) + r"\?t=(\S+)", self.request.message)
        assert found, self.request.message
        self.token = found[1]
        # the review function reaches the run's Lambda API; its own key comes from the sandbox
        monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", self.runner.serve())
        aws.reset()
        secrets.forget()

    def get(self, token: str | None = None, now: datetime | None = None) -> dict[str, Any]:
        target = "/?" + urlencode({"t": self.token if token is None else token})
        return review.handle(
            function_url_event("GET", target), self.settings, now or datetime.now(UTC)
        )

    def post(
        self, now: datetime | None = None, omit: tuple[str, ...] = (), **form: str
    ) -> dict[str, Any]:
        """POST the form (a browser leaves an unticked box out: ``omit``)."""
        fields = {"t": self.token, "confirm": "yes", "name": "Ana Ops", **form}
        fields = {key: value for key, value in fields.items() if key not in omit}
        event = function_url_event("POST", "/", urlencode(fields))
        return review.handle(event, self.settings, now or datetime.now(UTC))

    def still_waiting(self) -> bool:
        """Nothing was answered: the heal still waits on the callback it asked with (its history
        records an answer as it arrives, before the heal goes on, runs or ends) and has executed
        nothing."""
        status = self.runner._runner._executor.get_execution(self.arn)
        return (
            not status.is_complete
            and self.harness.executions() == 0
            and executions.pending_approval(aws.durable_executions(None, 1), self.arn)
            == self.callback_id
        )


# ------------------------------------------------------------------------------ the templates
ROOT = Path(__file__).resolve().parents[1]
# The pseudo parameters the deploy tests translate and resolve the templates with.
PARAMETERS = {
    "AWS::Region": "eu-west-1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::StackName": "drift-healer",
}


def load(name: str) -> dict[str, Any]:
    parsed: dict[str, Any] = yaml_parse((ROOT / name).read_text())
    return parsed


def resources_of(template: dict[str, Any], rtype: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == rtype}


# ------------------------------------------------------------------------------ the fleet
HEALER_ARN = "arn:aws:lambda:us-east-1:123456789012:function:drift-healer:live"
SCHEDULER_ROLE = "arn:aws:iam::123456789012:role/drift-healer-scheduler"


def schedule_request(name: str, **overrides: Any) -> dict[str, Any]:
    """CreateSchedule/UpdateSchedule arguments for a nightly heal of one stack."""
    request: dict[str, Any] = {
        "Name": name,
        "ScheduleExpression": "cron(0 2 * * ? *)",
        "ScheduleExpressionTimezone": "UTC",
        "FlexibleTimeWindow": {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
        "Target": {
            "Arn": HEALER_ARN,
            "RoleArn": SCHEDULER_ROLE,
            "Input": '{"StackName": "' + name + '"}',
        },
    }
    return {**request, **overrides}


def tagged_stacks(tagging: Any, **filters: Any) -> dict[str, dict[str, str]]:
    """Every CloudFormation stack GetResources lists (all pages): tags by stack ARN."""
    pages = tagging.get_paginator("get_resources").paginate(
        ResourceTypeFilters=["cloudformation:stack"], **filters
    )
    return {
        r["ResourceARN"]: {t["Key"]: t["Value"] for t in r["Tags"]}
        for page in pages
        for r in page["ResourceTagMappingList"]
    }
