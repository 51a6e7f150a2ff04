"""What CloudFormation said, as the healer keeps it: plain JSON-ready TypedDicts.

The adapters return these, steps checkpoint them as they are (JSON, no datetimes), and the pure
policies read them. Typed once here so every layer agrees on one shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

if TYPE_CHECKING:
    from mypy_boto3_cloudformation.literals import CapabilityType

#: One drifted resource as ``DriftedResource.dump()`` gives it (the result contract's shape).
DriftRecord = dict[str, Any]


class ChangeTarget(TypedDict, total=False):
    """What a change detail changes (``ResourceChange.Details[].Target``)."""

    Attribute: str
    Name: str
    #: The property's path, e.g. ``/Properties/Tags``; the only field that locates it.
    Path: str
    RequiresRecreation: str
    AttributeChangeType: str
    BeforeValue: str
    AfterValue: str
    BeforeValueFrom: str
    AfterValueFrom: str
    Drift: dict[str, str]


class ChangeDetail(TypedDict, total=False):
    Target: ChangeTarget
    Evaluation: str
    ChangeSource: str
    CausingEntity: str


class ResourceChange(TypedDict, total=False):
    Action: str
    LogicalResourceId: str
    PhysicalResourceId: str
    ResourceType: str
    Replacement: str
    Scope: list[str]
    PolicyAction: str
    ResourceDriftStatus: str
    Details: list[ChangeDetail]


class Change(TypedDict, total=False):
    """One ``Change`` of ``DescribeChangeSet`` as JSON (datetimes dropped, values redacted)."""

    Type: str
    ResourceChange: ResourceChange


class DriftReport(TypedDict):
    """The drifted resources as checkpointed: bounded in size, with the total found."""

    Resources: list[DriftRecord]
    Total: int


class Assessment(TypedDict):
    """The risk of a change set, judged inside the step that read it (its changes are not
    checkpointed: only the verdict is)."""

    Risk: str
    RiskReasons: list[str]
    Changes: int
    #: What a reviewer approves: a hash of the Changes as read (policy.approval.fingerprint).
    Fingerprint: str
    #: What it changes, values aside (policy.timings.changed).
    Touches: NotRequired[str]


class ExecutionStart(TypedDict):
    """What the execute step saw: the change set's statuses, and the change sets of others
    that kept it from executing (executing would have deleted them)."""

    Status: str
    ExecutionStatus: str
    StatusReason: str
    Others: list[str]


class StackInfo(TypedDict):
    """A stack's identity, status, tags, parameter keys and capabilities (DescribeStacks)."""

    StackId: str
    StackName: str
    StackStatus: str
    StackStatusReason: str
    Tags: dict[str, str]
    ParameterKeys: list[str]
    #: The parameters whose values CloudFormation hides (``NoEcho``): keys only, never values.
    NoEchoParameterKeys: list[str]
    Capabilities: list[CapabilityType]
    #: When the stack last changed (LastUpdatedTime, else CreationTime), ISO 8601: an approval
    #: holds only while it is unchanged.
    LastUpdated: str


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


class StackProgress(TypedDict):
    """A stack's status while a change set executes (DescribeStacks): the execution is over when
    the stack stops moving, and its reason tells why it rolled back."""

    StackStatus: str
    StackStatusReason: str


class TemplateFacts(TypedDict):
    """What the heal keeps of the stack's template: how many resources it declares (None when it
    does not say plainly) and where its secrets are (``provenance.SecretPaths.to_json``)."""

    Resources: int | None
    Secrets: dict[str, Any]
    #: The stack's timings from its last heal (policy.timings, the document's JSON); None: none
    #: kept, or no HISTORY_BUCKET.
    Timings: NotRequired[str | None]


class Expectation(TypedDict):
    """When a wait expects CloudFormation to be done, fixed by its first check and checkpointed
    with it: a replay decides the same delays from it (policy.polling)."""

    #: Seconds after the wait began of its first poll after the check at once; None: no
    #: estimate (the geometric schedule alone).
    FirstLook: int | None
    #: The stack's resources, when the estimate was made from them.
    Resources: int | None
    #: The first look is what the stack itself took before (its last heal, or this heal's
    #: first detection), not the model's quickest stacks (policy.timings.Look.measured).
    Informed: NotRequired[bool]


class HealthRead(TypedDict):
    """A health gate's reading as checkpointed: at most policy.health.SHOWN alarms (those not OK
    first), how many it watched, and what it found (the alarms that block, before the change;
    those that went off, after it), bounded."""

    States: dict[str, str]
    Watched: int
    Findings: list[str]


class ScheduleSummary(TypedDict):
    """A schedule as ListSchedules shows it."""

    Name: str
    State: str


class ScheduleWindow(TypedDict, total=False):
    Mode: str
    MaximumWindowInMinutes: int


class ScheduleTarget(TypedDict):
    Arn: str
    RoleArn: str
    Input: str
    RetryPolicy: dict[str, int]
    DeadLetterConfig: dict[str, str]


class ScheduleDefinition(TypedDict):
    """Everything CreateSchedule and UpdateSchedule take for one schedule (bar its group)."""

    Name: str
    Description: str
    ScheduleExpression: str
    ScheduleExpressionTimezone: str
    State: str
    FlexibleTimeWindow: ScheduleWindow
    Target: ScheduleTarget


class Review(TypedDict):
    """What an approval is bound to, recorded when it is requested."""

    Fingerprint: str
    LastUpdated: str
    #: ISO 8601: after this, the request times out and the change set is deleted.
    Deadline: str
    #: The heal as the reviewer is asked to approve it (models.HealResult's JSON, redacted and
    #: bounded like the result): the email and the review page show it.
    Plan: dict[str, Any]


class Recheck(TypedDict):
    """The change set and its stack when the approval arrived."""

    Status: str
    ExecutionStatus: str
    Fingerprint: str
    LastUpdated: str
    Others: list[str]
