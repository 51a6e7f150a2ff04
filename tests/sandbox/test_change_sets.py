"""REVERT_DRIFT change sets and their execution, through a real boto3 client."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from drift_sandbox import NO_CHANGES_REASON, Sandbox, Timing
from tests.support import TEMPLATE, ManualClock, create_change_set, detect, drift_param, drifts


def test_revert_change_set_is_shaped_as_aws_shapes_it(
    sandbox: Sandbox, cfn: Any, clock: ManualClock, stack: dict[str, str]
) -> None:
    drift_param(sandbox)
    arn = create_change_set(cfn)["Id"]

    pending = cfn.describe_change_set(ChangeSetName=arn)
    assert (pending["Status"], pending["ExecutionStatus"]) == ("CREATE_IN_PROGRESS", "UNAVAILABLE")

    clock.advance(sandbox.engine.timing.change_set_creation)
    described = cfn.describe_change_set(
        ChangeSetName="heal-1", StackName="app", IncludePropertyValues=True
    )

    assert described["Status"] == "CREATE_COMPLETE"
    assert described["ExecutionStatus"] == "AVAILABLE"
    assert described["DeploymentMode"] == "REVERT_DRIFT"
    assert described["StackDriftStatus"] == "DRIFTED"
    assert described["Parameters"] == [{"ParameterKey": "Env", "ParameterValue": "prod"}]
    [change] = described["Changes"]
    rc = change["ResourceChange"]
    assert change["Type"] == "Resource"
    assert (rc["Action"], rc["Replacement"], rc["ResourceDriftStatus"]) == (
        "Modify",
        "False",
        "MODIFIED",
    )
    assert (rc["LogicalResourceId"], rc["PhysicalResourceId"]) == ("Param", "/app/prod/feature")
    assert rc["Scope"] == ["Properties"]
    [detail] = rc["Details"]
    target = detail["Target"]
    assert target["Attribute"] == "Properties"
    assert target["Name"] == "Value"
    assert target["Path"] == "/Properties/Value"
    assert (target["BeforeValue"], target["AfterValue"]) == ("off", "on")
    assert (target["BeforeValueFrom"], target["AfterValueFrom"]) == ("ACTUAL_STATE", "TEMPLATE")
    assert target["AttributeChangeType"] == "Modify"
    assert target["RequiresRecreation"] == "Never"
    assert (target["Drift"]["PreviousValue"], target["Drift"]["ActualValue"]) == ("on", "off")
    assert detail["ChangeSource"] == "DirectModification"
    # without IncludePropertyValues, AWS shows where a value changes, not the values
    [bare] = cfn.describe_change_set(ChangeSetName=arn)["Changes"]
    bare_target = bare["ResourceChange"]["Details"][0]["Target"]
    assert bare_target["Path"] == "/Properties/Value"
    assert not {"BeforeValue", "AfterValue", "Drift"} & set(bare_target)


def test_nothing_to_revert_fails_with_the_aws_reason(
    sandbox: Sandbox, cfn: Any, clock: ManualClock, stack: Any
) -> None:
    arn = create_change_set(cfn)["Id"]
    clock.advance(60)
    described = cfn.describe_change_set(ChangeSetName=arn)
    assert described["Status"] == "FAILED"
    assert described["StatusReason"] == NO_CHANGES_REASON
    assert "didn't contain changes" in described["StatusReason"]
    assert described["Changes"] == []


def test_deleted_resource_is_re_added(
    sandbox: Sandbox, cfn: Any, clock: ManualClock, stack: dict[str, str]
) -> None:
    sandbox.client("sqs").delete_queue(QueueUrl=stack["Queue"])
    arn = create_change_set(cfn)["Id"]
    clock.advance(60)
    [change] = cfn.describe_change_set(ChangeSetName=arn)["Changes"]
    assert change["ResourceChange"]["Action"] == "Add"
    assert change["ResourceChange"]["ResourceDriftStatus"] == "DELETED"

    cfn.execute_change_set(ChangeSetName=arn)
    clock.advance(600)
    detect(cfn, clock)
    assert drifts(cfn)["Queue"]["StackResourceDriftStatus"] == "IN_SYNC"


def test_names_are_scoped_to_their_stack_and_duplicates_refused(
    sandbox: Sandbox, cfn: Any, stack: Any
) -> None:
    cfn.create_stack(StackName="other", TemplateBody=TEMPLATE)
    create_change_set(cfn, stack="app")
    create_change_set(cfn, stack="other")  # same name, other stack: fine
    with pytest.raises(ClientError) as error:
        create_change_set(cfn, stack="app")
    assert error.value.response["Error"]["Code"] == "AlreadyExistsException"


def test_client_token_makes_create_idempotent(cfn: Any, stack: Any) -> None:
    first = create_change_set(cfn, ClientToken="token-1")
    again = create_change_set(cfn, ClientToken="token-1")
    assert again["Id"] == first["Id"]
    assert len(cfn.list_change_sets(StackName="app")["Summaries"]) == 1


@pytest.mark.parametrize("name", ["1starts-with-digit", "has_underscore", "x" * 129, "has space"])
def test_invalid_names_are_refused(cfn: Any, stack: Any, name: str) -> None:
    with pytest.raises(ClientError, match="changeSetName"):
        create_change_set(cfn, name=name)


def test_left_out_parameters_fall_back_to_template_defaults(
    cfn: Any, clock: ManualClock, stack: Any
) -> None:
    """The classic trap: without UsePreviousValue, Env goes back to 'dev' and the change set
    touches a resource that never drifted."""
    arn = cfn.create_change_set(
        StackName="app",
        ChangeSetName="no-params",
        DeploymentMode="REVERT_DRIFT",
        UsePreviousTemplate=True,
        ChangeSetType="UPDATE",
    )["Id"]
    clock.advance(60)
    described = cfn.describe_change_set(ChangeSetName=arn)
    assert described["Parameters"] == [{"ParameterKey": "Env", "ParameterValue": "dev"}]
    [change] = described["Changes"]
    rc = change["ResourceChange"]
    assert rc["LogicalResourceId"] == "Param"
    assert rc["ResourceDriftStatus"] == "IN_SYNC"
    assert rc["Replacement"] == "True"  # the parameter's Name changes: replacement
    assert rc["Details"][0]["ChangeSource"] == "ParameterReference"


def test_changes_are_paginated(
    sandbox: Sandbox, cfn: Any, clock: ManualClock, stack: dict[str, str]
) -> None:
    sandbox.engine.timing = Timing(page_size=1)
    drift_param(sandbox)
    sandbox.client("sns").set_topic_attributes(
        TopicArn=stack["Topic"], AttributeName="DisplayName", AttributeValue="x"
    )
    arn = create_change_set(cfn)["Id"]
    clock.advance(60)

    first = cfn.describe_change_set(ChangeSetName=arn)
    assert len(first["Changes"]) == 1
    second = cfn.describe_change_set(ChangeSetName=arn, NextToken=first["NextToken"])
    assert "NextToken" not in second
    ids = {c["ResourceChange"]["LogicalResourceId"] for c in first["Changes"] + second["Changes"]}
    assert ids == {"Param", "Topic"}
