"""A typed adapter over the boto3 CloudFormation client. No durable code here: the workflow calls
these inside its steps. Answers are the plain JSON records of ``records``, ready to checkpoint."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from .aws import error_code, error_message
from .errors import StackNotFound
from .models import DriftedResource, PropertyDifference
from .provenance import no_echo_parameters
from .records import (
    Change,
    ChangeSetDescription,
    ChangeSetStatus,
    ChangeSetSummary,
    DetectionStatus,
    DriftRecord,
    StackInfo,
)
from .redact import Redactor, ResourceRef, drift_path, redact_text

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudformation.type_defs import (
        ChangeTypeDef,
        CreateChangeSetInputTypeDef,
        DescribeStackResourceDriftsInputTypeDef,
    )

#: What CloudFormation shows for a value it will know only while applying the change set.
KNOWN_AFTER_APPLY = "{{changeSet:KNOWN_AFTER_APPLY}}"
#: The most DescribeStackResourceDrifts returns per page (it has no botocore paginator).
_DRIFTS_PER_PAGE = 100


def describe_stack(cfn: CloudFormationClient, stack_name: str) -> StackInfo | None:
    """The stack's identity, status, tags, parameter keys and capabilities; None if missing."""
    try:
        stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        if error_code(error) == "ValidationError" and "does not exist" in error_message(error):
            return None
        raise
    stack = stacks[0]
    if stack["StackStatus"] == "DELETE_COMPLETE":
        return None
    return {
        "StackId": stack["StackId"],
        "StackName": stack["StackName"],
        "StackStatus": stack["StackStatus"],
        "StackStatusReason": redact_text(stack.get("StackStatusReason", "")),
        "Tags": {t["Key"]: t["Value"] for t in stack.get("Tags", [])},
        "ParameterKeys": [p["ParameterKey"] for p in stack.get("Parameters", [])],
        "NoEchoParameterKeys": sorted(no_echo_parameters(stack.get("Parameters", []))),
        "Capabilities": list(stack.get("Capabilities", [])),
        "LastUpdated": stack.get("LastUpdatedTime", stack["CreationTime"]).isoformat(),
    }


def list_change_sets(cfn: CloudFormationClient, stack_id: str) -> list[ChangeSetSummary]:
    """Name and statuses of every change set of the stack (all pages)."""
    return [
        {
            "ChangeSetName": summary.get("ChangeSetName", ""),
            "Status": summary.get("Status", ""),
            "ExecutionStatus": summary.get("ExecutionStatus", ""),
        }
        for page in cfn.get_paginator("list_change_sets").paginate(StackName=stack_id)
        for summary in page.get("Summaries", [])
    ]


def start_drift_detection(cfn: CloudFormationClient, stack_id: str) -> str:
    """Start a detection and return its id; "" while another one runs on the stack (only one
    may: "Drift detection is already in progress")."""
    try:
        return cfn.detect_stack_drift(StackName=stack_id)["StackDriftDetectionId"]
    except ClientError as error:
        if error_code(error) == "ValidationError" and "in progress" in error_message(error):
            return ""
        raise


def drift_detection_status(cfn: CloudFormationClient, detection_id: str) -> DetectionStatus:
    status = cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection_id)
    return {
        "DetectionStatus": status["DetectionStatus"],
        "StackDriftStatus": status.get("StackDriftStatus"),
        "DetectionStatusReason": redact_text(status.get("DetectionStatusReason", "")),
        "DriftedStackResourceCount": status.get("DriftedStackResourceCount", 0),
    }


def stack_template(cfn: CloudFormationClient, stack_id: str) -> dict[str, Any] | str:
    """The stack's template as deployed (after transforms): a dict for a JSON template (boto3
    decodes it), the text for YAML. Read to locate secrets and count resources; never
    checkpointed."""
    body: dict[str, Any] | str = cfn.get_template(StackName=stack_id, TemplateStage="Processed")[
        "TemplateBody"
    ]
    return body


def resource_count(body: dict[str, Any] | str) -> int | None:
    """How many resources a template (as ``stack_template`` returns it) declares; None when it
    does not say plainly. Used only to estimate how long CloudFormation takes."""
    if isinstance(body, str) and body.lstrip().startswith("{"):
        try:
            body = json.loads(body)
        except ValueError:
            return None
    if isinstance(body, dict):
        resources = body.get("Resources")
        return len(resources) if isinstance(resources, dict) else None
    return _yaml_resource_count(body)


#: A YAML template's line ``Resources:`` (a block mapping follows) and a key of that mapping.
_RESOURCES = re.compile(r"Resources\s*:\s*(#.*)?")
_KEY = re.compile(r"""["']?[A-Za-z0-9]+["']?\s*:""")


def _yaml_resource_count(body: str) -> int | None:
    """The keys of the top-level ``Resources`` block mapping of a YAML template, read from its
    indentation (the Lambda has no YAML parser; see provenance). None for any other layout."""
    inside, indent, count = False, 0, 0
    for line in body.splitlines():
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        depth = len(line) - len(line.lstrip(" "))
        if depth == 0:
            if inside:
                break
            inside = _RESOURCES.fullmatch(text) is not None
            continue
        if inside:
            indent = indent or depth
            count += depth == indent and _KEY.match(text) is not None
    return count or None


def drifted_resources(
    cfn: CloudFormationClient, stack_id: str, redactor: Redactor
) -> list[DriftRecord]:
    """Every MODIFIED or DELETED resource of the latest detection, all pages, values redacted.
    (No botocore paginator exists for this call: follow NextToken by hand.)"""
    out: list[DriftRecord] = []
    request: DescribeStackResourceDriftsInputTypeDef = {
        "StackName": stack_id,
        "StackResourceDriftStatusFilters": ["MODIFIED", "DELETED"],
        "MaxResults": _DRIFTS_PER_PAGE,
    }
    while True:
        page = cfn.describe_stack_resource_drifts(**request)
        for drift in page["StackResourceDrifts"]:
            resource = ResourceRef.from_drift(drift)
            differences = [
                PropertyDifference(
                    property_path=d["PropertyPath"],
                    expected_value=redactor.value(
                        d.get("ExpectedValue"), drift_path(d["PropertyPath"]), resource
                    ),
                    actual_value=redactor.value(
                        d.get("ActualValue"), drift_path(d["PropertyPath"]), resource
                    ),
                    difference_type=d["DifferenceType"],
                )
                for d in drift.get("PropertyDifferences", [])
            ]
            out.append(
                DriftedResource(
                    logical_resource_id=drift["LogicalResourceId"],
                    physical_resource_id=drift.get("PhysicalResourceId"),
                    resource_type=drift["ResourceType"],
                    stack_resource_drift_status=drift["StackResourceDriftStatus"],
                    property_differences=differences,
                ).dump()
            )
        token = page.get("NextToken")
        if not token:
            return out
        request["NextToken"] = token


def create_revert_change_set(
    cfn: CloudFormationClient, stack: StackInfo, name: str, description: str
) -> str:
    """Create the REVERT_DRIFT change set (idempotent by ClientToken = name). Every parameter
    keeps its previous value; the stack's capabilities are passed on."""
    request: CreateChangeSetInputTypeDef = {
        "StackName": stack["StackId"],
        "ChangeSetName": name,
        "ChangeSetType": "UPDATE",
        "DeploymentMode": "REVERT_DRIFT",
        "UsePreviousTemplate": True,
        "Parameters": [
            {"ParameterKey": key, "UsePreviousValue": True} for key in stack["ParameterKeys"]
        ],
        "ClientToken": name,
        "Description": description[:1024],
    }
    if stack["Capabilities"]:
        request["Capabilities"] = stack["Capabilities"]
    return cfn.create_change_set(**request)["Id"]


def describe_change_set(
    cfn: CloudFormationClient, change_set_arn: str, redactor: Redactor
) -> ChangeSetDescription:
    """Status and every change (all pages) of a change set, by ARN (names fail after execution)."""
    # Without IncludePropertyValues AWS returns no Before/After values: neither the risk policy
    # nor the redaction would see what changes.
    pages = list(
        cfn.get_paginator("describe_change_set").paginate(
            ChangeSetName=change_set_arn, IncludePropertyValues=True
        )
    )
    first = pages[0]
    return {
        "ChangeSetId": first.get("ChangeSetId", ""),
        "ChangeSetName": first.get("ChangeSetName", ""),
        "Status": first.get("Status", ""),
        "ExecutionStatus": first.get("ExecutionStatus", ""),
        "StatusReason": redact_text(first.get("StatusReason", "")),
        "Changes": [
            _plain(change, redactor) for page in pages for change in page.get("Changes", [])
        ],
    }


def change_set_status(
    cfn: CloudFormationClient, change_set_arn: str, stack_id: str
) -> ChangeSetStatus:
    """Just the status of a change set (first page only: for polling). A change set that is gone
    because its stack is gone is reported as the stack's absence, which is what happened."""
    try:
        described = cfn.describe_change_set(ChangeSetName=change_set_arn)
    except ClientError as error:
        if error_code(error) == "ChangeSetNotFound" and describe_stack(cfn, stack_id) is None:
            raise StackNotFound(
                f"the stack {stack_id} no longer exists: it was deleted while it was being "
                "healed, its change sets with it; nothing more was done"
            ) from error
        raise
    return {
        "Status": described.get("Status", ""),
        "ExecutionStatus": described.get("ExecutionStatus", ""),
        "StatusReason": redact_text(described.get("StatusReason", "")),
    }


def execute_change_set(cfn: CloudFormationClient, change_set_arn: str, token: str) -> None:
    cfn.execute_change_set(ChangeSetName=change_set_arn, ClientRequestToken=token)


def delete_change_set(cfn: CloudFormationClient, change_set_arn: str) -> None:
    try:
        cfn.delete_change_set(ChangeSetName=change_set_arn)
    except ClientError as error:
        if error_code(error) != "ChangeSetNotFound":
            raise


def _plain(change: ChangeTypeDef, redactor: Redactor) -> Change:
    """A Change as JSON (no datetimes), values redacted by the property's Path."""
    rc: dict[str, Any] = dict(change.get("ResourceChange", {}))
    resource = ResourceRef.from_change(rc)
    details = []
    for detail in rc.get("Details", []):
        plain = redactor.change_detail(detail, resource)
        target = dict(plain.get("Target", {}))
        if KNOWN_AFTER_APPLY in str(detail.get("Target", {}).get("AfterValue", "")):
            # CloudFormation's placeholder, not a value: the risk policy must see it, whatever
            # redaction hides (HIDE_VALUES, a secret-looking name).
            target["AfterValue"] = KNOWN_AFTER_APPLY
        if isinstance(target.get("Drift"), dict):
            target["Drift"] = {
                k: v for k, v in target["Drift"].items() if k != "DriftDetectionTimestamp"
            }
        details.append({**plain, "Target": target})
    rc["Details"] = details
    return cast(Change, {"Type": change.get("Type", "Resource"), "ResourceChange": rc})
