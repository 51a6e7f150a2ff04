"""The demo stack: several resource types, and the out-of-band changes someone makes to it."""

from __future__ import annotations

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


def create_demo_stack(sandbox: Any, name: str) -> dict[str, str]:
    """Create the demo stack; returns physical ids by logical id."""
    cfn = sandbox.client("cloudformation")
    cfn.create_stack(StackName=name, TemplateBody=DEMO_TEMPLATE)
    resources = cfn.describe_stack_resources(StackName=name)["StackResources"]
    return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}


def drift_demo_stack(sandbox: Any, resources: dict[str, str]) -> list[str]:
    """Make the out-of-band changes an on-call engineer makes at 3 a.m.; returns what was done."""
    sandbox.client("ssm").put_parameter(
        Name=resources["FeatureFlag"], Value="on", Type="String", Overwrite=True
    )
    sandbox.client("sqs").set_queue_attributes(
        QueueUrl=resources["Orders"], Attributes={"VisibilityTimeout": "5"}
    )
    sandbox.client("sns").set_topic_attributes(
        TopicArn=resources["Alerts"], AttributeName="DisplayName", AttributeValue="tmp"
    )
    return [
        f"ssm put-parameter {resources['FeatureFlag']} = on (template: off)",
        "sqs set-queue-attributes Orders VisibilityTimeout = 5 (template: 60)",
        "sns set-topic-attributes Alerts DisplayName = tmp (template: Checkout alerts)",
    ]
