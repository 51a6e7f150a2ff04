"""Every fault the sandbox can inject, seen through a real boto3 client."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from drift_sandbox import Sandbox
from tests.support import ManualClock, create_change_set, detect, drift_param, drifts


def test_throttling_for_n_calls(sandbox: Sandbox, cfn: Any, stack: Any) -> None:
    sandbox.faults.throttle("DescribeStacks", times=2)
    for _ in range(2):
        with pytest.raises(ClientError) as error:
            cfn.describe_stacks(StackName="app")
        assert error.value.response["Error"]["Code"] == "Throttling"
        assert error.value.response["Error"]["Message"] == "Rate exceeded"
        assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert cfn.describe_stacks(StackName="app")["Stacks"]


def test_boto3_retries_hide_a_short_throttle(sandbox: Sandbox, stack: Any) -> None:
    sandbox.faults.throttle("DescribeStacks", times=2)
    patient = sandbox.client("cloudformation", retries=5)
    response = patient.describe_stacks(StackName="app")
    assert response["ResponseMetadata"]["RetryAttempts"] == 2


def test_throttling_other_services(sandbox: Sandbox) -> None:
    sns = sandbox.client("sns")
    arn = sns.create_topic(Name="t")["TopicArn"]
    sandbox.faults.throttle("Publish", times=1, service="sns")
    with pytest.raises(ClientError) as error:
        sns.publish(TopicArn=arn, Message="m")
    assert error.value.response["Error"]["Code"] == "Throttling"
    sns.publish(TopicArn=arn, Message="m")


def test_transient_server_error(sandbox: Sandbox, cfn: Any, stack: Any) -> None:
    sandbox.faults.server_error("DetectStackDrift", times=1)
    with pytest.raises(ClientError) as error:
        cfn.detect_stack_drift(StackName="app")
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert cfn.detect_stack_drift(StackName="app")["StackDriftDetectionId"]


def test_detection_failed_keeps_partial_results(
    sandbox: Sandbox, cfn: Any, clock: ManualClock, stack: Any
) -> None:
    drift_param(sandbox)
    sandbox.faults.fail_detection("app", reason="Rate exceeded", checked=1)

    status = detect(cfn, clock)

    assert status["DetectionStatus"] == "DETECTION_FAILED"
    assert "Rate exceeded" in status["DetectionStatusReason"]
    assert status["StackDriftStatus"] == "DRIFTED"  # the part it checked drifted
    assert list(drifts(cfn)) == ["Param"]


def test_change_set_failed_for_another_reason(
    sandbox: Sandbox, cfn: Any, clock: ManualClock, stack: Any
) -> None:
    drift_param(sandbox)
    sandbox.faults.fail_change_set("app", "Requires capabilities : [CAPABILITY_IAM]")
    arn = create_change_set(cfn)["Id"]
    clock.advance(60)
    described = cfn.describe_change_set(ChangeSetName=arn)
    assert described["Status"] == "FAILED"
    assert described["StatusReason"] == "Requires capabilities : [CAPABILITY_IAM]"


def test_busy_stack_refuses_change_sets_and_detection_until_it_settles(
    sandbox: Sandbox, cfn: Any, clock: ManualClock, stack: Any
) -> None:
    sandbox.make_busy("app", seconds=120)
    assert cfn.describe_stacks(StackName="app")["Stacks"][0]["StackStatus"] == "UPDATE_IN_PROGRESS"
    with pytest.raises(ClientError, match="UPDATE_IN_PROGRESS"):
        create_change_set(cfn)
    with pytest.raises(ClientError, match="UPDATE_IN_PROGRESS"):
        cfn.detect_stack_drift(StackName="app")
    clock.advance(120)
    assert cfn.describe_stacks(StackName="app")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    create_change_set(cfn)


def test_stack_deleted_mid_run(sandbox: Sandbox, cfn: Any, clock: ManualClock, stack: Any) -> None:
    stack_id = cfn.describe_stacks(StackName="app")["Stacks"][0]["StackId"]
    detection_id = cfn.detect_stack_drift(StackName="app")["StackDriftDetectionId"]
    sandbox.faults.before_call(
        "DescribeStackDriftDetectionStatus", lambda: sandbox.delete_stack("app")
    )
    clock.advance(3600)

    status = cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection_id)

    assert status["DetectionStatus"] == "DETECTION_FAILED"
    with pytest.raises(ClientError, match="does not exist"):
        cfn.describe_stacks(StackName="app")
    deleted = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
    assert deleted["StackStatus"] == "DELETE_COMPLETE"


def test_phantom_change_on_an_in_sync_resource(
    sandbox: Sandbox, cfn: Any, clock: ManualClock, stack: Any
) -> None:
    drift_param(sandbox)
    sandbox.faults.phantom_change("app", "Bucket", replacement="True")
    arn = create_change_set(cfn)["Id"]
    clock.advance(60)
    changes = {
        c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"]
        for c in cfn.describe_change_set(ChangeSetName=arn)["Changes"]
    }
    assert changes["Bucket"]["Replacement"] == "True"
    assert changes["Bucket"]["ResourceDriftStatus"] == "IN_SYNC"
    assert changes["Bucket"]["PolicyAction"] == "ReplaceAndDelete"


def test_clear_switches_every_fault_off(sandbox: Sandbox, cfn: Any, stack: Any) -> None:
    sandbox.faults.throttle("DescribeStacks", times=5).fail_execution("app", "Param")
    sandbox.faults.clear()
    assert cfn.describe_stacks(StackName="app")["Stacks"]
    assert sandbox.faults.execution_failures == {}


def test_calls_are_counted_per_action(sandbox: Sandbox, cfn: Any, stack: Any) -> None:
    sandbox.faults.throttle("DescribeStacks", times=1)
    with pytest.raises(ClientError):
        cfn.describe_stacks(StackName="app")
    cfn.describe_stacks(StackName="app")
    assert sandbox.calls[("cloudformation", "DescribeStacks")] == 2
    assert sandbox.calls[("cloudformation", "CreateStack")] == 1


def test_lost_response_takes_effect_but_answers_an_error(
    sandbox: Sandbox, cfn: Any, clock: ManualClock, stack: Any
) -> None:
    sandbox.faults.lose_response("CreateChangeSet")
    with pytest.raises(ClientError) as error:
        create_change_set(cfn, ClientToken="t1")
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    [summary] = cfn.list_change_sets(StackName="app")["Summaries"]  # it was created all the same
    assert (
        create_change_set(cfn, ClientToken="t1")["Id"] == summary["ChangeSetId"]
    )  # a retry finds it
    with pytest.raises(ClientError, match="AlreadyExists"):
        create_change_set(cfn)  # without the token, the same name is a duplicate, as in AWS


def test_s3_calls_are_counted_and_faulted_as_s3_spells_them(sandbox: Sandbox) -> None:
    """S3 answers outside the other services' dispatch; the same switchboard stands in front of
    it, with S3's own codes: SlowDown (503), InternalError (500), AccessDenied (403); and names
    each request as botocore's S3 model names its operation."""
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="records")
    s3.put_object(Bucket="records", Key="k", Body=b"one")
    answers = []
    sandbox.faults.throttle("PutObject", service="s3").deny("GetObject", service="s3")
    sandbox.faults.lose_response("PutObject", service="s3")
    for call in (
        lambda: s3.put_object(Bucket="records", Key="k", Body=b"two"),
        lambda: s3.put_object(Bucket="records", Key="k", Body=b"three"),
        lambda: s3.get_object(Bucket="records", Key="k"),
    ):
        with pytest.raises(ClientError) as error:
            call()
        response = error.value.response
        answers.append((response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]))
    assert answers == [("SlowDown", 503), ("InternalError", 500), ("AccessDenied", 403)]
    assert s3.get_object(Bucket="records", Key="k")["Body"].read() == b"three"  # lost, not undone
    sandbox.faults.deny("HeadObject", service="s3")
    with pytest.raises(ClientError) as error:
        s3.head_object(Bucket="records", Key="k")
    assert error.value.response["Error"]["Code"] == "403"  # a HEAD answer has no body to say more
    s3.head_object(Bucket="records", Key="k")
    s3.list_buckets()
    s3.list_objects_v2(Bucket="records")
    s3.get_object(Bucket="records", Key="k", ResponseContentType="text/plain")
    s3.copy_object(Bucket="records", Key="copy", CopySource={"Bucket": "records", "Key": "k"})
    s3.put_object_tagging(
        Bucket="records", Key="k", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]}
    )
    s3.delete_objects(Bucket="records", Delete={"Objects": [{"Key": "copy"}]})
    assert {action: n for (service, action), n in sandbox.calls.items() if service == "s3"} == {
        "CreateBucket": 1,
        "PutObject": 3,
        "GetObject": 3,  # the denied one, the one after, and one overriding its content type
        "HeadObject": 2,
        "ListBuckets": 1,
        "ListObjectsV2": 1,
        "CopyObject": 1,
        "PutObjectTagging": 1,
        "DeleteObjects": 1,
    }


def test_an_s3_error_answer_can_be_lost_like_any_other(sandbox: Sandbox) -> None:
    """NoSuchKey is an answer: a lost-response fault replaces it with a 500 and is used up."""
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="records")
    sandbox.faults.lose_response("GetObject", service="s3")
    with pytest.raises(ClientError) as lost:
        s3.get_object(Bucket="records", Key="missing")
    assert lost.value.response["Error"]["Code"] == "InternalError"
    with pytest.raises(ClientError) as missing:
        s3.get_object(Bucket="records", Key="missing")
    assert missing.value.response["Error"]["Code"] == "NoSuchKey"
