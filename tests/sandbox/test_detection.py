"""Drift detection APIs, driven through a real boto3 client (botocore parses every answer)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from drift_sandbox import Sandbox
from tests.support import ManualClock, detect, drifts


def test_new_stack_starts_not_checked_then_in_sync(
    cfn: Any, clock: ManualClock, stack: Any
) -> None:
    info = cfn.describe_stacks(StackName="app")["Stacks"][0]["DriftInformation"]
    assert info == {"StackDriftStatus": "NOT_CHECKED"}

    status = detect(cfn, clock)

    assert status["DetectionStatus"] == "DETECTION_COMPLETE"
    assert status["StackDriftStatus"] == "IN_SYNC"
    assert status["DriftedStackResourceCount"] == 0
    info = cfn.describe_stacks(StackName="app")["Stacks"][0]["DriftInformation"]
    assert info["StackDriftStatus"] == "IN_SYNC"
    assert "LastCheckTimestamp" in info


def test_detection_stays_in_progress_for_its_modeled_time(
    cfn: Any, clock: ManualClock, stack: Any, sandbox: Sandbox
) -> None:
    detection_id = cfn.detect_stack_drift(StackName="app")["StackDriftDetectionId"]
    needed = sandbox.engine.timing.detection(5).total_seconds()

    clock.advance(needed - 1)
    status = cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection_id)
    assert status["DetectionStatus"] == "DETECTION_IN_PROGRESS"
    assert "StackDriftStatus" not in status

    clock.advance(1)
    status = cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection_id)
    assert status["DetectionStatus"] == "DETECTION_COMPLETE"


def test_detection_time_grows_with_the_number_of_resources(sandbox: Sandbox) -> None:
    timing = sandbox.engine.timing
    assert timing.detection(200) > timing.detection(5) > timing.detection(1)


def test_out_of_band_changes_of_every_checked_type_are_modified(
    sandbox: Sandbox, cfn: Any, clock: ManualClock, stack: dict[str, str]
) -> None:
    sandbox.client("ssm").put_parameter(
        Name="/app/prod/feature", Value="off", Type="String", Overwrite=True
    )
    sqs = sandbox.client("sqs")
    sqs.set_queue_attributes(QueueUrl=stack["Queue"], Attributes={"VisibilityTimeout": "99"})
    sqs.tag_queue(QueueUrl=stack["Queue"], Tags={"tier": "bronze", "owner": "mallory"})
    sandbox.client("sns").set_topic_attributes(
        TopicArn=stack["Topic"], AttributeName="DisplayName", AttributeValue="Hacked"
    )
    s3 = sandbox.client("s3")
    s3.put_bucket_versioning(
        Bucket=stack["Bucket"], VersioningConfiguration={"Status": "Suspended"}
    )
    s3.put_bucket_encryption(
        Bucket=stack["Bucket"],
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
        },
    )

    status = detect(cfn, clock)

    assert status["StackDriftStatus"] == "DRIFTED"
    assert status["DriftedStackResourceCount"] == 4
    found = drifts(cfn)
    assert {k: v["StackResourceDriftStatus"] for k, v in found.items()} == {
        "Param": "MODIFIED",
        "Queue": "MODIFIED",
        "Topic": "MODIFIED",
        "Bucket": "MODIFIED",
        "Logs": "NOT_CHECKED",
    }
    assert found["Param"]["PropertyDifferences"] == [
        {
            "PropertyPath": "/Value",
            "ExpectedValue": "on",
            "ActualValue": "off",
            "DifferenceType": "NOT_EQUAL",
        }
    ]
    queue = {
        (d["PropertyPath"], d["DifferenceType"]): d for d in found["Queue"]["PropertyDifferences"]
    }
    assert queue[("/VisibilityTimeout", "NOT_EQUAL")]["ActualValue"] == "99"
    assert queue[("/Tags/1/Value", "NOT_EQUAL")]["ExpectedValue"] == "gold"
    assert json.loads(queue[("/Tags/0", "ADD")]["ActualValue"]) == {
        "Key": "owner",
        "Value": "mallory",
    }
    assert found["Topic"]["PropertyDifferences"][0]["PropertyPath"] == "/DisplayName"
    bucket_paths = {d["PropertyPath"] for d in found["Bucket"]["PropertyDifferences"]}
    assert bucket_paths == {
        "/VersioningConfiguration/Status",
        "/BucketEncryption/ServerSideEncryptionConfiguration/0/ServerSideEncryptionByDefault/SSEAlgorithm",
    }
    expected = json.loads(found["Param"]["ExpectedProperties"])
    actual = json.loads(found["Param"]["ActualProperties"])
    assert (expected["Value"], actual["Value"]) == ("on", "off")
    assert expected["Name"] == "/app/prod/feature"  # Fn::Sub resolved with the deployed parameter


def test_resource_deleted_out_of_band_is_deleted(
    sandbox: Sandbox, cfn: Any, clock: ManualClock, stack: dict[str, str]
) -> None:
    sandbox.client("sqs").delete_queue(QueueUrl=stack["Queue"])

    detect(cfn, clock)

    queue = drifts(cfn)["Queue"]
    assert queue["StackResourceDriftStatus"] == "DELETED"
    assert "ActualProperties" not in queue
    assert queue["PropertyDifferences"] == []


def test_resource_drifts_paginate_and_filter(
    sandbox: Sandbox, cfn: Any, clock: ManualClock, stack: dict[str, str]
) -> None:
    sandbox.client("sns").set_topic_attributes(
        TopicArn=stack["Topic"], AttributeName="DisplayName", AttributeValue="x"
    )
    detect(cfn, clock)

    seen, token = [], None
    while True:
        kwargs = {"StackName": "app", "MaxResults": 2}
        if token:
            kwargs["NextToken"] = token
        page = cfn.describe_stack_resource_drifts(**kwargs)
        assert len(page["StackResourceDrifts"]) <= 2
        seen += [d["LogicalResourceId"] for d in page["StackResourceDrifts"]]
        token = page.get("NextToken")
        if not token:
            break
    assert sorted(seen) == ["Bucket", "Logs", "Param", "Queue", "Topic"]

    only = cfn.describe_stack_resource_drifts(
        StackName="app", StackResourceDriftStatusFilters=["MODIFIED", "DELETED"]
    )["StackResourceDrifts"]
    assert [d["LogicalResourceId"] for d in only] == ["Topic"]

    with pytest.raises(ClientError, match="maxResults"):
        cfn.describe_stack_resource_drifts(StackName="app", MaxResults=101)


def test_detect_stack_resource_drift_checks_one_resource(
    sandbox: Sandbox, cfn: Any, stack: dict[str, str]
) -> None:
    sandbox.client("ssm").put_parameter(
        Name="/app/prod/feature", Value="off", Type="String", Overwrite=True
    )
    drift = cfn.detect_stack_resource_drift(StackName="app", LogicalResourceId="Param")
    assert drift["StackResourceDrift"]["StackResourceDriftStatus"] == "MODIFIED"
    drift = cfn.detect_stack_resource_drift(StackName="app", LogicalResourceId="Topic")
    assert drift["StackResourceDrift"]["StackResourceDriftStatus"] == "IN_SYNC"
    with pytest.raises(ClientError, match="does not exist"):
        cfn.detect_stack_resource_drift(StackName="app", LogicalResourceId="Nope")


def test_only_one_detection_per_stack_at_a_time(cfn: Any, clock: ManualClock, stack: Any) -> None:
    cfn.detect_stack_drift(StackName="app")
    with pytest.raises(ClientError, match="already in progress"):
        cfn.detect_stack_drift(StackName="app")
    clock.advance(3600)
    cfn.detect_stack_drift(StackName="app")  # the first one has finished


def test_missing_stack_is_a_validation_error(cfn: Any) -> None:
    with pytest.raises(ClientError) as error:
        cfn.detect_stack_drift(StackName="ghost")
    assert error.value.response["Error"]["Code"] == "ValidationError"
    assert "does not exist" in error.value.response["Error"]["Message"]
