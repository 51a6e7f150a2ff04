"""Every outcome of DESIGN §3.2, end to end (local durable runner + sandbox)."""

from __future__ import annotations

import json

import pytest

from drift_sandbox import ACCOUNT_ID, Timing
from tests.support import Harness, colleague_change_set, create_change_set


def test_heals_low_risk_drift_and_verifies(harness: Harness) -> None:
    harness.stack()
    harness.drift()

    run = harness.run({"StackName": "app"})

    assert run.outcome == "HEALED"
    assert harness.param_value() == "on"
    result = run.result
    assert result["Verification"] == {"StackDriftStatus": "IN_SYNC"}
    assert result["ChangeSet"]["Risk"] == "LOW"
    assert result["StackId"].startswith(f"arn:aws:cloudformation:us-east-1:{ACCOUNT_ID}:stack/app/")
    [resource] = result["DriftedResources"]
    assert resource["LogicalResourceId"] == "Param"
    assert resource["PropertyDifferences"] == [
        {
            "PropertyPath": "/Value",
            "ExpectedValue": "on",
            "ActualValue": "off",
            "DifferenceType": "NOT_EQUAL",
        }
    ]
    [note] = run.notifications
    assert note.attributes == {"stack_name": "app", "outcome": "HEALED"}
    assert 'expected "on", actual "off"' in note.message
    assert note.subject is not None and len(note.subject) < 100


def test_in_sync_ends_quietly_by_default(harness: Harness) -> None:
    harness.stack()
    run = harness.run({"StackName": "app"})
    assert run.outcome == "IN_SYNC"
    assert run.result["ChangeSet"] is None
    assert run.notifications == []
    assert harness.change_sets() == []


def test_in_sync_notifies_when_asked(harness: Harness) -> None:
    harness.stack()
    run = harness.run({"StackName": "app"}, notify_in_sync=True)
    [note] = run.notifications
    assert note.attributes["outcome"] == "IN_SYNC"


def test_dry_run_reports_and_creates_nothing(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    run = harness.run({"StackName": "app", "DryRun": True})
    assert run.outcome == "DRIFT_REPORTED"
    assert run.result["ChangeSet"] is None
    assert [r["LogicalResourceId"] for r in run.result["DriftedResources"]] == ["Param"]
    assert harness.change_sets() == []
    assert harness.param_value() == "off"
    [note] = run.notifications
    assert note.attributes["outcome"] == "DRIFT_REPORTED"
    assert "CreateChangeSetOnly" in note.message


def test_create_change_set_only_leaves_it_for_review(harness: Harness) -> None:
    harness.stack()
    harness.drift()

    run = harness.run({"StackName": "app", "CreateChangeSetOnly": True})

    assert run.outcome == "CHANGE_SET_CREATED"
    assert "requested" in run.result["Reason"]
    assert harness.param_value() == "off"
    [summary] = harness.change_sets()
    cs = run.result["ChangeSet"]
    assert summary["ChangeSetId"] == cs["Id"]
    assert summary["ExecutionStatus"] == "AVAILABLE"
    assert cs["Url"].startswith("https://us-east-1.console.aws.amazon.com/cloudformation/home")
    assert "changeSetId=arn%3Aaws%3Acloudformation" in cs["Url"]
    [note] = run.notifications
    assert cs["Url"] in note.message
    assert (
        f"aws cloudformation execute-change-set --region us-east-1 --change-set-name '{cs['Id']}'"
        in note.message
    )
    assert "delete-change-set" in note.message


@pytest.mark.fault(
    "A phantom replacement in the change set (a known service bug)",
    "HIGH risk with the reasons; proposed, never executed",
)
def test_high_risk_change_set_is_never_executed_unattended(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    harness.sandbox.faults.phantom_change("app", "Bucket", replacement="True")

    run = harness.run({"StackName": "app"})

    assert run.outcome == "CHANGE_SET_CREATED"
    cs = run.result["ChangeSet"]
    assert cs["Risk"] == "HIGH"
    assert any("Bucket" in r and "Replacement is True" in r for r in cs["RiskReasons"])
    assert any("Bucket" in r and "not named in the drift report" in r for r in cs["RiskReasons"])
    assert "HIGH risk" in run.result["Reason"]
    assert harness.param_value() == "off"  # nothing executed
    [note] = run.notifications
    assert "Risk:       HIGH" in note.message


def test_re_adding_a_deleted_resource_is_high_risk(harness: Harness) -> None:
    resources = harness.stack()
    harness.sandbox.client("sqs").delete_queue(QueueUrl=resources["Queue"])
    run = harness.run({"StackName": "app"})
    assert run.outcome == "CHANGE_SET_CREATED"
    assert any("action Add adds a resource" in r for r in run.result["ChangeSet"]["RiskReasons"])


def test_residual_drift_is_reported_with_what_remains(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    harness.drift_again_after_execution()

    run = harness.run({"StackName": "app"})

    assert run.outcome == "RESIDUAL_DRIFT"
    assert run.result["Verification"] == {"StackDriftStatus": "DRIFTED"}
    assert "Param" in run.result["Reason"]


def test_nothing_to_revert_deletes_the_empty_change_set(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    # the drift is undone by hand between detection and the change set
    harness.sandbox.faults.before_call("CreateChangeSet", lambda: harness.drift("on"))

    run = harness.run({"StackName": "app"})

    assert run.outcome == "NOTHING_TO_REVERT"
    assert harness.change_sets() == []
    [note] = run.notifications
    assert note.attributes["outcome"] == "NOTHING_TO_REVERT"


def test_every_page_of_drift_is_read(harness: Harness) -> None:
    """Two drifted resources, one per page: both are reported, so both changes are explained."""
    harness.sandbox.engine.timing = Timing(page_size=1)
    resources = harness.stack()
    harness.drift()
    harness.sandbox.client("sns").set_topic_attributes(
        TopicArn=resources["Topic"], AttributeName="DisplayName", AttributeValue="x"
    )
    run = harness.run({"StackName": "app"})
    assert run.outcome == "HEALED"
    assert {r["LogicalResourceId"] for r in run.result["DriftedResources"]} == {"Param", "Topic"}


@pytest.mark.fault(
    "The risky change is on a later page of `DescribeChangeSet`",
    "every page is read; HIGH risk, not executed",
)
def test_a_risky_change_on_a_later_page_is_seen(harness: Harness) -> None:
    """The first page holds the LOW change of the drifted parameter; the replacement is on the
    second. Reading one page would execute it."""
    harness.sandbox.engine.timing = Timing(page_size=1)
    harness.stack()
    harness.drift()
    harness.sandbox.faults.phantom_change("app", "Bucket", replacement="True")
    run = harness.run({"StackName": "app"})
    assert run.outcome == "CHANGE_SET_CREATED"
    assert run.result["ChangeSet"]["Risk"] == "HIGH"
    assert harness.param_value() == "off"


def test_another_heal_on_a_later_page_of_change_sets_is_seen(harness: Harness) -> None:
    harness.sandbox.engine.timing = Timing(page_size=1)
    harness.stack()
    harness.drift()
    cfn = harness.sandbox.client("cloudformation")
    for name in ("review-1", "review-2", "drift-heal-0123456789abcdef"):
        create_change_set(cfn, name=name)
    run = harness.run({"StackName": "app"})
    assert run.outcome == "SKIPPED"
    assert "drift-heal-0123456789abcdef" in run.result["Reason"]
    assert harness.executions() == 0


def test_seed_payloads_keep_working(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    assert harness.run({"StackName": "app", "CreateChangeSetOnly": True}).outcome == (
        "CHANGE_SET_CREATED"
    )
    # the first run's change set awaits review: the nightly payload does not pile up another
    run = harness.run({"StackName": "app"})
    assert run.outcome == "SKIPPED"
    assert "awaits review" in run.result["Reason"]


@pytest.mark.fault(
    "Someone else's change set is on the stack",
    "proposed, naming it, never executed (executing would delete it)",
)
def test_a_colleague_s_change_set_is_never_destroyed(harness: Harness) -> None:
    """Executing a change set makes CloudFormation delete every other change set of the stack:
    with someone else's on it, a LOW risk heal is proposed, naming it, not executed."""
    harness.stack()
    harness.drift()
    colleague_change_set(harness.sandbox.client("cloudformation"), "release-42")
    run = harness.run({"StackName": "app"})
    assert run.outcome == "CHANGE_SET_CREATED"
    assert run.result["ChangeSet"]["Risk"] == "LOW"
    assert "release-42" in run.result["Reason"]
    assert "release-42" in {s["ChangeSetName"] for s in harness.change_sets()}
    assert harness.param_value() == "off"
    assert harness.executions() == 0


@pytest.mark.fault(
    "A new value is `{{changeSet:KNOWN_AFTER_APPLY}}`",
    "HIGH risk; not executed",
)
@pytest.mark.parametrize("hide_values", [False, True])
def test_a_value_known_only_after_applying_is_high(harness: Harness, hide_values: bool) -> None:
    """Seen only with IncludePropertyValues (without it, AWS shows no values at all), and seen
    whatever redaction hides: the placeholder is not a value."""
    harness.stack()
    harness.drift()
    harness.sandbox.faults.known_after_apply("app", "Param")
    run = harness.run({"StackName": "app"}, hide_values=hide_values)
    assert run.outcome == "CHANGE_SET_CREATED"
    assert any("known only after applying" in r for r in run.result["ChangeSet"]["RiskReasons"])
    assert harness.param_value() == "off"


def big_template(resources: int) -> str:
    lines = ["Resources:"]
    for i in range(resources):
        lines += [
            f"  P{i}:",
            "    Type: AWS::SSM::Parameter",
            f"    Properties: {{Name: /big/p{i}, Type: String, Value: v{i}}}",
        ]
    return "\n".join(lines) + "\n"


@pytest.mark.fault(
    "500 drifted resources with 4 KB values",
    "every checkpoint, the result and the email stay well under AWS's limits; "
    "counts kept, values cut with a marker",
)
def test_500_drifted_resources_with_large_values_stay_within_aws_limits(harness: Harness) -> None:
    """Every checkpoint, the result and the message stay well under AWS's limits (256 KB a
    checkpoint, 256 KB an SNS message), keeping the counts and the first values."""
    cfn = harness.sandbox.client("cloudformation")
    stack_id = cfn.create_stack(StackName="big", TemplateBody=big_template(500))["StackId"]
    ssm = harness.sandbox.client("ssm")
    for i in range(500):
        ssm.put_parameter(Name=f"/big/p{i}", Value=f"{i}:" + "x" * 4000, Overwrite=True)

    run = harness.run({"StackName": stack_id, "CreateChangeSetOnly": True})

    assert run.outcome == "CHANGE_SET_CREATED"
    result = run.result
    assert result["DriftedResourceCount"] == 500
    assert 0 < len(result["DriftedResources"]) < 500
    first = result["DriftedResources"][0]["PropertyDifferences"][0]
    assert first["ActualValue"].startswith("0:xxx") and "more characters]" in first["ActualValue"]
    largest = max(run.local.phases, key=lambda p: p.size)
    assert largest.size < 128 * 1024, largest
    assert len(json.dumps(result).encode()) < 128 * 1024
    [note] = run.notifications
    assert len(note.message.encode()) < 256 * 1024
    assert "more resources" in note.message
    assert note.subject is not None and len(note.subject) < 100
