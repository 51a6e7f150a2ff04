"""The event contract end to end: bad input changes nothing; Region, RoleArn; secrets redacted;
replays never repeat a change."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drift_sandbox import ACCOUNT_ID
from tests.support import TEMPLATE, Harness, put_alarm


def healer_calls(harness: Harness) -> dict[tuple[str, str], int]:
    """Calls the healer could make (the test's own inbox uses SQS and sns:Subscribe)."""
    return {
        k: v
        for k, v in harness.sandbox.calls.items()
        if k[0] in ("cloudformation", "sts") or k == ("sns", "Publish")
    }


ARN = "arn:aws:cloudformation:us-east-1:123456789012:stack"
ROLE = "arn:aws:iam::123456789012:role/drift-healer/Healer"


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"StackName": "app", "DryRUN": True}, "DryRUN: unknown field"),
        ({"StackName": "app", "dry_run": True}, "dry_run: unknown field"),
        ({"stack_name": "app"}, "StackName: required; stack_name: unknown field"),
        ({"StackName": "app", "DryRun": True, "CreateChangeSetOnly": True}, "contradict"),
        ({"StackName": "app", "DryRun": "yes"}, "DryRun"),
        ({"StackName": "app", "DryRun": "true"}, "DryRun"),
        ({}, "StackName: required"),
        ({"StackName": "bad name!"}, "neither a stack name"),
        ({"StackName": "app\n"}, "StackName: 'app\\n' is neither a stack name"),
        ({"StackName": "\u0430pp"}, "StackName: '\\u0430pp' has a non-ASCII character"),
        ({"StackName": "x" * 2**20}, "StackName: 'xxxxxxxx"),
        ({"StackName": f"{ARN}/app*/1"}, "its stack name 'app*' is not"),
        ({"StackName": f"{ARN}/team/app/1"}, "its stack id 'app/1' is not"),
        ({"StackName": f"{ARN}/app/1", "Region": "eu-west-1"}, "Region eu-west-1 contradicts"),
        ({"StackName": "app", "Region": "mars"}, "Region"),
        ({"StackName": "app", "Region": "us-east-1\n"}, "Region: 'us-east-1\\n' is not"),
        ({"StackName": "app", "RoleArn": "admin"}, "RoleArn"),
        ({"StackName": "app", "Region": "cn-north-1", "RoleArn": ROLE}, "RoleArn is in"),
        (["app"], "JSON object"),
        ({"StackName": "app", "RequireApproval": True, "DryRun": True}, "contradict"),
    ],
)
def test_bad_input_fails_clearly_before_any_aws_call(
    harness: Harness, event: Any, expected: str
) -> None:
    harness.stack()
    harness.drift()
    before = healer_calls(harness)
    run = harness.run(event)
    assert expected in run.error.message
    assert len(run.error.message) < 1000
    assert run.error.type.endswith("InvalidRequest")
    assert healer_calls(harness) == before  # the healer made no AWS call at all
    assert run.notifications == []


FIELDS = ("StackName", "CreateChangeSetOnly", "DryRun", "RequireApproval", "Region", "RoleArn")
VALID = [
    {"StackName": "app"},
    {"StackName": "app", "CreateChangeSetOnly": True},
    {"StackName": "app", "DryRun": True, "Region": "us-east-1"},
    {"StackName": f"{ARN}/app/0f1e2d3c-4b5a", "Region": "us-east-1"},
    {"StackName": "app", "Region": "eu-west-1", "RoleArn": ROLE},
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def invalid_events(draw: st.DrawFn) -> tuple[Any, str]:
    """A valid event with one field wrong, or an unknown field; what the refusal must name."""
    event = dict(draw(st.sampled_from(VALID)))
    field = draw(st.sampled_from((*FIELDS, "unknown")))
    if field == "unknown":
        key = draw(st.sampled_from(["stack_name", "dry_run", "DryRUN", "Stackname", "Mode"]))
        event[key] = draw(json_values)
        return event, f"{key}: unknown field (allowed: StackName, "
    if field in ("CreateChangeSetOnly", "DryRun", "RequireApproval"):
        event[field] = draw(json_values.filter(lambda v: not isinstance(v, bool)))
        return event, f"{field}: "
    good = str(
        event.get(field) or {"StackName": "app", "Region": "eu-west-1", "RoleArn": ROLE}[field]
    )
    at = draw(st.integers(0, len(good)))
    poison = draw(st.sampled_from(["\n", " ", "*", "?", "\x00"]) | st.characters(min_codepoint=128))
    event[field] = draw(
        st.just(good[:at] + poison + good[at:])
        | json_values.filter(lambda v: not isinstance(v, str | None))
    )
    return event, f"{field}: "


@pytest.fixture
def drifted(harness: Harness) -> Harness:
    """A drifted stack that a valid event would heal (one for all the examples of a test)."""
    harness.stack()
    harness.drift()
    return harness


@settings(
    max_examples=25,  # each runs the durable handler: ~0.1-1 s
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # one drifted stack for all
)
@given(case=invalid_events())
def test_an_invalid_event_makes_no_aws_call_and_names_the_field(
    drifted: Harness, case: tuple[Any, str]
) -> None:
    harness, (event, named) = drifted, case
    before = healer_calls(harness)
    run = harness.run(event)
    assert run.error.type.endswith("InvalidRequest")
    assert run.error.message.startswith(f"invalid heal request: {named}"), run.error.message
    assert healer_calls(harness) == before
    assert run.notifications == []


def test_stack_in_another_region(harness: Harness) -> None:
    cfn = harness.sandbox.client("cloudformation", region="eu-west-1")
    cfn.create_stack(StackName="far", TemplateBody=TEMPLATE)
    harness.sandbox.client("ssm", region="eu-west-1").put_parameter(
        Name="/app/dev/feature", Value="off", Type="String", Overwrite=True
    )
    run = harness.run({"StackName": "far", "Region": "eu-west-1"})
    assert run.outcome == "HEALED"
    assert ":eu-west-1:" in run.result["StackId"]
    assert run.result["ChangeSet"]["Url"].startswith("https://eu-west-1.console.aws.amazon.com/")


MEMBER = "210987654321"
MEMBER_ROLE = f"arn:aws:iam::{MEMBER}:role/DriftHealerMember"


def member_session(harness: Harness) -> boto3.Session:
    """The member account, as MEMBER_ROLE sees it."""
    sts = harness.sandbox.client("sts")
    creds = sts.assume_role(RoleArn=MEMBER_ROLE, RoleSessionName="setup")["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name="us-east-1",
    )


def member_stack(harness: Harness) -> None:
    """A drifted stack 'member-app' in another account, reachable through MEMBER_ROLE."""
    session = member_session(harness)
    session.client("cloudformation").create_stack(StackName="member-app", TemplateBody=TEMPLATE)
    session.client("ssm").put_parameter(
        Name="/app/dev/feature", Value="off", Type="String", Overwrite=True
    )


def test_stack_in_another_account_through_role_arn(harness: Harness) -> None:
    member_stack(harness)
    # the healer's own account has no such stack
    assert harness.run({"StackName": "member-app"}).error.type.endswith("StackNotFound")

    run = harness.run({"StackName": "member-app", "RoleArn": MEMBER_ROLE})

    assert run.outcome == "HEALED"
    assert f":{MEMBER}:stack/member-app/" in run.result["StackId"]
    assert f":{ACCOUNT_ID}:" not in run.result["StackId"]


def test_each_execution_assumes_the_role_once_under_its_own_name(harness: Harness) -> None:
    """CloudTrail must tell which execution did what: one role session per execution, named
    after it, reused by every step of that execution and by no other."""
    member_stack(harness)
    assert harness.run({"StackName": "member-app", "RoleArn": MEMBER_ROLE}).outcome == "HEALED"
    harness.run({"StackName": "member-app", "RoleArn": MEMBER_ROLE, "DryRun": True})

    sessions = [name for role, name in harness.sandbox.assumed_roles() if name != "setup"]
    assert len(sessions) == 2  # many steps and replays each, one AssumeRole each
    assert sessions[0] != sessions[1]
    assert all(name.startswith("drift-healer-") for name in sessions)


SECRET_TEMPLATE = """
Resources:
  DbPassword:
    Type: AWS::SSM::Parameter
    Properties: {Name: /app/db-password, Type: String, Value: correct-horse}
"""


def test_sensitive_values_are_redacted_in_result_and_message(harness: Harness) -> None:
    harness.sandbox.client("cloudformation").create_stack(
        StackName="secrets", TemplateBody=SECRET_TEMPLATE
    )
    harness.sandbox.client("ssm").put_parameter(
        Name="/app/db-password", Value="hunter2", Type="String", Overwrite=True
    )
    run = harness.run({"StackName": "secrets", "DryRun": True})
    [resource] = run.result["DriftedResources"]
    [difference] = resource["PropertyDifferences"]
    assert (difference["ExpectedValue"], difference["ActualValue"]) == ("****", "****")
    [note] = run.notifications
    assert "hunter2" not in note.message and "correct-horse" not in note.message
    assert "****" in note.message


NO_ECHO_TEMPLATE = """
Parameters:
  UpstreamCredential: {Type: String, NoEcho: true}
Resources:
  Upstream:
    Type: AWS::SSM::Parameter
    Properties: {Name: /app/upstream, Type: String, Value: !Ref UpstreamCredential}
  Mode:
    Type: AWS::SSM::Parameter
    Properties: {Name: /app/mode, Type: String, Value: blue}
"""
TEMPLATE_SECRET = "Zq7t-Upstream-Credential-9f3K"
LIVE_SECRET = "AKIA" + "QX7ZL2M4N6P8R3T5"  # an access key id, pasted by hand


@pytest.mark.fault(
    "A secret in the drift: a NoEcho parameter's value, an access key pasted out of band",
    "never in the result, a checkpoint, a log line or the message (by provenance, name and shape)",
)
def test_no_secret_reaches_the_result_a_checkpoint_a_log_or_the_message(
    harness: Harness, capfd: pytest.CaptureFixture[str]
) -> None:
    harness.sandbox.client("cloudformation").create_stack(
        StackName="noecho",
        TemplateBody=NO_ECHO_TEMPLATE,
        Parameters=[{"ParameterKey": "UpstreamCredential", "ParameterValue": TEMPLATE_SECRET}],
    )
    ssm = harness.sandbox.client("ssm")
    ssm.put_parameter(Name="/app/upstream", Value=LIVE_SECRET, Type="String", Overwrite=True)
    ssm.put_parameter(Name="/app/mode", Value="green", Type="String", Overwrite=True)
    capfd.readouterr()

    run = harness.run({"StackName": "noecho"})

    assert run.outcome == "HEALED"
    places = {
        "result": json.dumps(run.result),
        "checkpoints": "\n".join(p.result or "" for p in run.local.phases),
        "message": "\n".join(n.message for n in run.notifications),
        "logs": capfd.readouterr().out,
    }
    for where, text in places.items():
        for secret in (TEMPLATE_SECRET, LIVE_SECRET):
            assert secret not in text, f"{secret} leaked into the {where}"
    assert 'expected "blue", actual "green"' in places["message"]  # the rest stays visible


def test_hide_values_shows_only_paths(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    run = harness.run({"StackName": "app", "DryRun": True}, hide_values=True)
    [difference] = run.result["DriftedResources"][0]["PropertyDifferences"]
    assert difference["PropertyPath"] == "/Value"
    assert (difference["ExpectedValue"], difference["ActualValue"]) == ("****", "****")


def test_replays_never_repeat_a_change(harness: Harness) -> None:
    """The handler is replayed after every durable wait; the changes happen once each."""
    harness.stack()
    harness.drift()
    run = harness.run({"StackName": "app"})
    assert run.outcome == "HEALED"
    calls = harness.sandbox.calls
    assert calls[("cloudformation", "CreateChangeSet")] == 1
    assert calls[("cloudformation", "ExecuteChangeSet")] == 1
    assert harness.executions() == 1
    assert calls[("cloudformation", "DetectStackDrift")] == 2  # detect, verify
    assert calls[("sns", "Publish")] == 1
    assert calls[("cloudformation", "DescribeStackDriftDetectionStatus")] >= 2


def test_the_deployments_heal_mode_is_a_ceiling_the_event_cannot_raise(harness: Harness) -> None:
    """HealMode=propose: an event that asks to heal a LOW risk drift gets a proposal, and the
    result says why; nothing is executed."""
    harness.stack()
    harness.drift()
    run = harness.run({"StackName": "app"}, heal_mode="propose")
    assert run.outcome == "CHANGE_SET_CREATED"
    assert (
        "lowered from heal to propose: the deployment's HealMode is propose"
        in (run.result["Reason"])
    )
    assert harness.executions() == 0 and harness.param_value() == "off"


def test_a_stacks_mode_tag_caps_an_on_demand_heal(harness: Harness) -> None:
    """The stack's owner tagged it dry-run: a heal invoked by hand only reports."""
    harness.stack(Tags=[{"Key": "drift-healer", "Value": "dry-run"}])
    harness.drift()
    run = harness.run({"StackName": "app"}, opt_in_tag_key="drift-healer")
    assert run.outcome == "DRIFT_REPORTED"
    assert (
        "lowered from heal to dry-run: the stack is tagged drift-healer=dry-run"
        in (run.result["Reason"])
    )
    assert harness.change_sets() == []


def test_an_event_may_ask_for_less_than_the_ceiling(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    run = harness.run({"StackName": "app", "DryRun": True}, heal_mode="propose")
    assert run.outcome == "DRIFT_REPORTED" and "lowered" not in run.result["Reason"]


def test_a_member_stacks_health_gate_reads_the_member_accounts_alarms(harness: Harness) -> None:
    """The alarms watch the stack's own application, in its account: read through its role. The
    healer's account has an alarm of the same name in ALARM, which must not matter."""
    member_stack(harness)
    harness.alarm("orders-lag", "ALARM")  # the healer's own account
    member = member_session(harness)
    put_alarm(member.client("cloudwatch"), "orders-lag", "OK")
    member.client("cloudformation").update_stack(
        StackName="member-app",
        UsePreviousTemplate=True,
        Tags=[{"Key": "drift-healer:alarms", "Value": "orders-lag"}],
    )

    run = harness.run({"StackName": "member-app", "RoleArn": MEMBER_ROLE})

    assert run.outcome == "HEALED", run.result["Reason"]
    assert run.result["Policy"]["HealthBefore"] == {"orders-lag": "OK"}
