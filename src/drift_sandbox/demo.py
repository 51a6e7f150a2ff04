"""The demo stack: several resource types, and the out-of-band changes someone makes to it."""

from __future__ import annotations

import logging
from typing import Any

DEMO_TEMPLATE = """
Description: drift-healer demo application
Parameters:
  Env: {Type: String, Default: demo}
Resources:
  FeatureFlag:
    Type: AWS::SSM::Parameter
    Properties:
      Name: !Sub /checkout/${Env}/new-payment-flow
      Type: String
      Value: "off"
      Description: Rollout switch, changed only through the pipeline
  Orders:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 60
      MessageRetentionPeriod: 345600
      Tags: [{Key: team, Value: checkout}]
  Alerts:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: Checkout alerts
      Tags: [{Key: team, Value: checkout}]
  Receipts:
    Type: AWS::S3::Bucket
    Properties:
      VersioningConfiguration: {Status: Enabled}
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault: {SSEAlgorithm: AES256}
      Tags: [{Key: team, Value: checkout}]
"""


def create_demo_stack(
    sandbox: Any, name: str, tags: dict[str, str] | None = None
) -> dict[str, str]:
    """Create the demo stack (with these stack tags); returns physical ids by logical id."""
    quiet_server_log()
    cfn = sandbox.client("cloudformation")
    cfn.create_stack(
        StackName=name,
        TemplateBody=DEMO_TEMPLATE,
        Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()],
    )
    resources = cfn.describe_stack_resources(StackName=name)["StackResources"]
    return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}


def drift_demo_stack(sandbox: Any, resources: dict[str, str]) -> list[str]:
    """Make the out-of-band changes an on-call engineer makes at 3 a.m.; returns them as the
    AWS CLI commands that make them, each with what the template says."""
    flag, queue, topic = resources["FeatureFlag"], resources["Orders"], resources["Alerts"]
    sandbox.client("ssm").put_parameter(Name=flag, Value="on", Type="String", Overwrite=True)
    sandbox.client("sqs").set_queue_attributes(
        QueueUrl=queue, Attributes={"VisibilityTimeout": "5"}
    )
    sandbox.client("sns").set_topic_attributes(
        TopicArn=topic, AttributeName="DisplayName", AttributeValue="tmp"
    )
    return [
        f"aws ssm put-parameter --name {flag} --value on --type String --overwrite"
        "   # template: off",
        f"aws sqs set-queue-attributes --queue-url {queue} --attributes VisibilityTimeout=5"
        "   # template: 60",
        f"aws sns set-topic-attributes --topic-arn {topic} --attribute-name DisplayName "
        "--attribute-value tmp   # template: Checkout alerts",
    ]


def quiet_server_log() -> None:
    """The sandbox server (moto's, on werkzeug) logs every request at INFO on stderr, whatever
    the process configured, unless its logger has a level: give it the process's (the root
    logger's). A demo then shows no access log, and one that logs at DEBUG (drift-healer
    --debug) shows it. A level someone set on the werkzeug logger is kept."""
    server_log = logging.getLogger("werkzeug")
    if server_log.level == logging.NOTSET:
        server_log.setLevel(logging.getLogger().getEffectiveLevel())
