"""The sandbox out of process (a server on 127.0.0.1) and reading SNS messages back."""

from __future__ import annotations

import json
from typing import Any

import boto3

from drift_sandbox import Sandbox
from tests.support import TEMPLATE, ManualClock


def test_server_mode_serves_the_drift_apis_to_any_client(clock: ManualClock) -> None:
    with Sandbox(clock=clock, server=True) as sandbox:
        assert sandbox.endpoint_url is not None
        assert sandbox.endpoint_url.startswith("http://127.0.0.1:")
        env = sandbox.environment()
        # a plain client built only from what the environment says, as an outside tool would be
        cfn = boto3.client(
            "cloudformation",
            endpoint_url=env["AWS_ENDPOINT_URL"],
            region_name=env["AWS_DEFAULT_REGION"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )
        cfn.create_stack(StackName="srv", TemplateBody=TEMPLATE)
        sandbox.client("ssm").put_parameter(
            Name="/app/dev/feature", Value="off", Type="String", Overwrite=True
        )
        detection_id = cfn.detect_stack_drift(StackName="srv")["StackDriftDetectionId"]
        clock.advance(3600)
        status = cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection_id)
        assert status["StackDriftStatus"] == "DRIFTED"


def test_a_fresh_sandbox_starts_empty(clock: ManualClock) -> None:
    for _ in range(2):
        with Sandbox(clock=clock, server=True) as sandbox:
            cfn = sandbox.client("cloudformation")
            assert cfn.describe_stacks()["Stacks"] == []
            cfn.create_stack(StackName="once", TemplateBody=TEMPLATE)


def test_inbox_reads_what_was_published(sandbox: Sandbox) -> None:
    sns: Any = sandbox.client("sns")
    arn = sns.create_topic(Name="drift")["TopicArn"]
    inbox = sandbox.inbox(arn)
    sns.publish(
        TopicArn=arn,
        Subject="Drift healed: app",
        Message=json.dumps({"hello": 1}),
        MessageAttributes={"outcome": {"DataType": "String", "StringValue": "HEALED"}},
    )
    [note] = inbox.messages()
    assert note.subject == "Drift healed: app"
    assert json.loads(note.message) == {"hello": 1}
    assert note.attributes == {"outcome": "HEALED"}
    assert inbox.messages() == []
