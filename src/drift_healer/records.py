"""What CloudFormation said, as the healer keeps it: plain JSON-ready TypedDicts.

The adapters return these, steps checkpoint them as they are (JSON, no datetimes), and the pure
policies read them. Typed once here so every layer agrees on one shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

if TYPE_CHECKING:
    from mypy_boto3_cloudformation.literals import CapabilityType

#: One ``Change`` of ``DescribeChangeSet`` as JSON (datetimes dropped, values redacted).
Change = dict[str, Any]
#: One drifted resource as ``DriftedResource.dump()`` gives it (the result contract's shape).
DriftRecord = dict[str, Any]


class StackInfo(TypedDict):
    """A stack's identity, status, tags, parameter keys and capabilities (DescribeStacks)."""

    StackId: str
    StackName: str
    StackStatus: str
    StackStatusReason: str
    Tags: dict[str, str]
    ParameterKeys: list[str]
    Capabilities: list[CapabilityType]


class ChangeSetSummary(TypedDict):
    """One entry of ListChangeSets."""

    ChangeSetName: str
    Status: str
    ExecutionStatus: str


class DetectionStatus(TypedDict):
    """DescribeStackDriftDetectionStatus."""

    DetectionStatus: str
    #: DRIFTED, IN_SYNC, UNKNOWN or NOT_CHECKED once the detection ended; None while it runs.
    StackDriftStatus: str | None
    DetectionStatusReason: str
    DriftedStackResourceCount: int


class ChangeSetStatus(TypedDict):
    """The statuses of a change set (the first page of DescribeChangeSet)."""

    Status: str
    ExecutionStatus: str
    StatusReason: str


class ChangeSetDescription(ChangeSetStatus):
    """A change set with every change (all pages of DescribeChangeSet)."""

    ChangeSetId: str
    ChangeSetName: str
    Changes: list[Change]


class ExecutionProgress(ChangeSetStatus):
    """A change set's statuses with its stack's: an execution is over when both settled."""

    StackStatus: str
    StackStatusReason: str
