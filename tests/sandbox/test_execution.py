"""Executing REVERT_DRIFT change sets: the live resources go back to the template."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from drift_sandbox import Sandbox
from tests.support import (
    ManualClock,
    colleague_change_set,
    create_change_set,
    detect,
    drift_param,
    drifts,
)


def ready_change_set(sandbox: Sandbox, cfn: Any, clock: ManualClock, name: str = "heal-1") -> str:
    drift_param(sandbox)
    arn: str = create_change_set(cfn, name=name)["Id"]
    clock.advance(60)
    return arn


def status(cfn: Any, stack: str = "app") -> str:
    return cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]  # type: ignore[no-any-return]


def test_execution_writes_template_values_back(
    sandbox: Sandbox, cfn: Any, clock: ManualClock, stack: Any
) -> None:
    arn = ready_change_set(sandbox, cfn, clock)

    cfn.execute_change_set(ChangeSetName=arn, ClientRequestToken="exec-1")
    assert status(cfn) == "UPDATE_IN_PROGRESS"
    assert cfn.describe_change_set(ChangeSetName=arn)["ExecutionStatus"] == "EXECUTE_IN_PROGRESS"
    # nothing is written before the modeled time has passed
    value = sandbox.client("ssm").get_parameter(Name="/app/prod/feature")["Parameter"]["Value"]
    assert value == "off"

    clock.advance(600)
    assert status(cfn) == "UPDATE_COMPLETE"
    assert cfn.describe_change_set(ChangeSetName=arn)["ExecutionStatus"] == "EXECUTE_COMPLETE"
    value = sandbox.client("ssm").get_parameter(Name="/app/prod/feature")["Parameter"]["Value"]
    assert value == "on"
    assert detect(cfn, clock)["StackDriftStatus"] == "IN_SYNC"


def test_after_execution_name_lookup_fails_and_arn_lookup_works(
    sandbox: Sandbox, cfn: Any, clock: ManualClock, stack: Any
) -> None:
    arn = ready_change_set(sandbox, cfn, clock)
    cfn.execute_change_set(ChangeSetName=arn)
    clock.advance(600)

    with pytest.raises(ClientError) as error:
        cfn.describe_change_set(ChangeSetName="heal-1", StackName="app")
    assert error.value.response["Error"]["Code"] == "ChangeSetNotFound"
    assert cfn.describe_change_set(ChangeSetName=arn)["ExecutionStatus"] == "EXECUTE_COMPLETE"


def test_executed_or_failed_change_sets_are_refused(
    sandbox: Sandbox, cfn: Any, clock: ManualClock, stack: Any
) -> None:
    empty = create_change_set(cfn, name="empty")["Id"]
    clock.advance(60)
    with pytest.raises(ClientError) as error:
        cfn.execute_change_set(ChangeSetName=empty)
    assert error.value.response["Error"]["Code"] == "InvalidChangeSetStatus"

    arn = ready_change_set(sandbox, cfn, clock, name="heal-2")
    cfn.execute_change_set(ChangeSetName=arn, ClientRequestToken="t1")
    clock.advance(600)
    with pytest.raises(ClientError) as error:
        cfn.execute_change_set(ChangeSetName=arn, ClientRequestToken="t2")
    assert error.value.response["Error"]["Code"] == "InvalidChangeSetStatus"


def test_client_request_token_makes_execute_idempotent(
    sandbox: Sandbox, cfn: Any, clock: ManualClock, stack: Any
) -> None:
    arn = ready_change_set(sandbox, cfn, clock)
    cfn.execute_change_set(ChangeSetName=arn, ClientRequestToken="exec-1")
    cfn.execute_change_set(ChangeSetName=arn, ClientRequestToken="exec-1")  # a retry: fine
    clock.advance(600)
    cfn.execute_change_set(ChangeSetName=arn, ClientRequestToken="exec-1")  # still fine
    assert status(cfn) == "UPDATE_COMPLETE"


def test_executing_one_change_set_deletes_the_others(
    sandbox: Sandbox, cfn: Any, clock: ManualClock, stack: Any
) -> None:
    arn = ready_change_set(sandbox, cfn, clock, name="heal-1")
    other = create_change_set(cfn, name="heal-2")["Id"]
    clock.advance(60)
    cfn.execute_change_set(ChangeSetName=arn)
    clock.advance(600)
    assert cfn.list_change_sets(StackName="app")["Summaries"] == []
    with pytest.raises(ClientError):
        cfn.describe_change_set(ChangeSetName=other)


def test_change_set_is_obsolete_after_its_stack_was_updated(
    sandbox: Sandbox, cfn: Any, clock: ManualClock, stack: Any
) -> None:
    arn = ready_change_set(sandbox, cfn, clock)
    cfn.update_stack(
        StackName="app",
        UsePreviousTemplate=True,
        Parameters=[{"ParameterKey": "Env", "ParameterValue": "staging"}],
    )
    assert cfn.describe_change_set(ChangeSetName=arn)["ExecutionStatus"] == "OBSOLETE"
    with pytest.raises(ClientError) as error:
        cfn.execute_change_set(ChangeSetName=arn)
    assert error.value.response["Error"]["Code"] == "InvalidChangeSetStatus"


def test_delete_change_set_by_name_and_by_arn(
    sandbox: Sandbox, cfn: Any, clock: ManualClock, stack: Any
) -> None:
    first = create_change_set(cfn, name="one")["Id"]
    create_change_set(cfn, name="two")
    cfn.delete_change_set(ChangeSetName=first)
    cfn.delete_change_set(ChangeSetName="two", StackName="app")
    assert cfn.list_change_sets(StackName="app")["Summaries"] == []
    with pytest.raises(ClientError) as error:
        cfn.delete_change_set(ChangeSetName="two", StackName="app")
    assert error.value.response["Error"]["Code"] == "ChangeSetNotFound"


def test_list_change_sets_is_per_stack(sandbox: Sandbox, cfn: Any, stack: Any) -> None:
    arn = create_change_set(cfn)["Id"]
    [summary] = cfn.list_change_sets(StackName="app")["Summaries"]
    assert (summary["ChangeSetId"], summary["Status"]) == (arn, "CREATE_IN_PROGRESS")


def test_execute_rolls_back_when_a_resource_fails(
    sandbox: Sandbox, cfn: Any, clock: ManualClock, stack: Any
) -> None:
    arn = ready_change_set(sandbox, cfn, clock)
    sandbox.faults.fail_execution("app", "Param")

    cfn.execute_change_set(ChangeSetName=arn)
    clock.advance(600)

    described = cfn.describe_stacks(StackName="app")["Stacks"][0]
    assert described["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert "Param" in described["StackStatusReason"]
    assert cfn.describe_change_set(ChangeSetName=arn)["ExecutionStatus"] == "EXECUTE_FAILED"
    # resources restored to what they were: still drifted
    detect(cfn, clock)
    assert drifts(cfn)["Param"]["StackResourceDriftStatus"] == "MODIFIED"


def test_execution_restores_every_checked_type(
    sandbox: Sandbox, cfn: Any, clock: ManualClock, stack: dict[str, str]
) -> None:
    drift_param(sandbox)
    sqs = sandbox.client("sqs")
    sqs.set_queue_attributes(QueueUrl=stack["Queue"], Attributes={"VisibilityTimeout": "99"})
    sqs.tag_queue(QueueUrl=stack["Queue"], Tags={"tier": "bronze"})
    sandbox.client("sns").set_topic_attributes(
        TopicArn=stack["Topic"], AttributeName="DisplayName", AttributeValue="Hacked"
    )
    s3 = sandbox.client("s3")
    s3.put_bucket_versioning(
        Bucket=stack["Bucket"], VersioningConfiguration={"Status": "Suspended"}
    )
    s3.put_bucket_tagging(
        Bucket=stack["Bucket"], Tagging={"TagSet": [{"Key": "team", "Value": "x"}]}
    )
    arn = create_change_set(cfn)["Id"]
    clock.advance(60)
    assert len(cfn.describe_change_set(ChangeSetName=arn)["Changes"]) == 4

    cfn.execute_change_set(ChangeSetName=arn)
    clock.advance(600)

    assert detect(cfn, clock)["StackDriftStatus"] == "IN_SYNC"
    attributes = sqs.get_queue_attributes(QueueUrl=stack["Queue"], AttributeNames=["All"])
    assert attributes["Attributes"]["VisibilityTimeout"] == "30"
    topic = sandbox.client("sns").get_topic_attributes(TopicArn=stack["Topic"])["Attributes"]
    assert topic["DisplayName"] == "Alerts"
    assert s3.get_bucket_versioning(Bucket=stack["Bucket"])["Status"] == "Enabled"


def test_stack_deleted_during_execution_fails_it_and_writes_nothing(
    sandbox: Sandbox, cfn: Any, clock: ManualClock, stack: Any
) -> None:
    arn = ready_change_set(sandbox, cfn, clock)
    cfn.execute_change_set(ChangeSetName=arn)
    sandbox.delete_stack("app")
    sandbox.client("ssm").put_parameter(  # moto deletes the resources; recreate one by hand
        Name="/app/prod/feature", Value="mine", Type="String"
    )
    clock.advance(600)
    with pytest.raises(ClientError, match="ChangeSetNotFound"):  # gone with its stack
        cfn.describe_change_set(ChangeSetName=arn)
    value = sandbox.client("ssm").get_parameter(Name="/app/prod/feature")["Parameter"]["Value"]
    assert value == "mine"


def test_deleting_a_stack_deletes_its_change_sets_and_nothing_acts_on_it_after(
    sandbox: Sandbox, cfn: Any, clock: ManualClock, stack: Any
) -> None:
    arn = ready_change_set(sandbox, cfn, clock)
    stack_id = cfn.describe_stacks(StackName="app")["Stacks"][0]["StackId"]
    cfn.delete_stack(StackName="app")
    with pytest.raises(ClientError, match="ChangeSetNotFound"):
        cfn.describe_change_set(ChangeSetName=arn)
    for call in (
        lambda: create_change_set(cfn, name="heal-2", stack=stack_id),
        lambda: cfn.detect_stack_drift(StackName=stack_id),
        lambda: cfn.describe_stack_resource_drifts(StackName=stack_id),
    ):
        with pytest.raises(ClientError, match="does not exist"):
            call()
    assert cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == (
        "DELETE_COMPLETE"
    )


def test_executing_deletes_moto_s_own_change_sets_too(
    sandbox: Sandbox, cfn: Any, clock: ManualClock, stack: Any
) -> None:
    arn = ready_change_set(sandbox, cfn, clock)
    colleague_change_set(cfn, "colleague")
    cfn.execute_change_set(ChangeSetName=arn)
    listed = [s["ChangeSetName"] for s in cfn.list_change_sets(StackName="app")["Summaries"]]
    assert listed == ["heal-1"]  # the one executing
