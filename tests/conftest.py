"""Shared fixtures: a manual clock and a sandbox account with a demo-like stack template."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from drift_healer.sandbox import Sandbox

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


class ManualClock:
    """A clock a test moves by hand."""

    def __init__(self) -> None:
        self.now_value = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now_value

    def advance(self, seconds: float) -> None:
        self.now_value += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sandbox(clock: ManualClock) -> Iterator[Sandbox]:
    with Sandbox(clock=clock) as sb:
        yield sb
