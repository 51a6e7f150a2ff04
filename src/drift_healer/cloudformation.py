"""A typed adapter over the boto3 CloudFormation client. No durable code here: the workflow calls
these inside its steps. Answers are plain JSON dicts, ready to checkpoint."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from .models import DriftedResource, PropertyDifference
from .redact import redact

#: Stack states in which a heal may start (change sets cannot be made in *_IN_PROGRESS,
#: UPDATE_ROLLBACK_FAILED, ROLLBACK_COMPLETE; drift detection needs a settled stack).
HEALABLE_STATES = frozenset(
    {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE"}
)
NO_CHANGES_MARKERS = ("didn't contain changes", "No updates are to be performed")


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def error_message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))


def describe_stack(cfn: Any, stack_name: str) -> dict[str, Any] | None:
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
        "StackStatusReason": stack.get("StackStatusReason", ""),
        "Tags": {t["Key"]: t["Value"] for t in stack.get("Tags", [])},
        "ParameterKeys": [p["ParameterKey"] for p in stack.get("Parameters", [])],
        "Capabilities": list(stack.get("Capabilities", [])),
    }


def list_change_sets(cfn: Any, stack_id: str) -> list[dict[str, str]]:
    """Name and statuses of every change set of the stack (all pages)."""
    out: list[dict[str, str]] = []
    kwargs: dict[str, Any] = {"StackName": stack_id}
    while True:
        page = cfn.list_change_sets(**kwargs)
        out += [
            {k: str(s.get(k, "")) for k in ("ChangeSetName", "Status", "ExecutionStatus")}
            for s in page.get("Summaries", [])
        ]
        if not page.get("NextToken"):
            return out
        kwargs["NextToken"] = page["NextToken"]


def start_drift_detection(cfn: Any, stack_id: str) -> str | None:
    """Start a detection; None when one is already running on the stack (another heal)."""
    try:
        return str(cfn.detect_stack_drift(StackName=stack_id)["StackDriftDetectionId"])
    except ClientError as error:
        if error_code(error) == "ValidationError" and "in progress" in error_message(error):
            return None
        raise


def drift_detection_status(cfn: Any, detection_id: str) -> dict[str, Any]:
    status = cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection_id)
    return {
        "DetectionStatus": status["DetectionStatus"],
        "StackDriftStatus": status.get("StackDriftStatus"),
        "DetectionStatusReason": status.get("DetectionStatusReason", ""),
        "DriftedStackResourceCount": status.get("DriftedStackResourceCount", 0),
    }


def drifted_resources(cfn: Any, stack_id: str) -> list[dict[str, Any]]:
    """Every MODIFIED or DELETED resource of the latest detection, all pages, values redacted.
    (No botocore paginator exists for this call.)"""
    out: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "StackName": stack_id,
        "StackResourceDriftStatusFilters": ["MODIFIED", "DELETED"],
        "MaxResults": 100,
    }
    while True:
        page = cfn.describe_stack_resource_drifts(**kwargs)
        for drift in page["StackResourceDrifts"]:
            name = f"{drift['LogicalResourceId']} {drift.get('PhysicalResourceId', '')}"
            differences = [
                PropertyDifference(
                    property_path=d["PropertyPath"],
                    expected_value=redact(d.get("ExpectedValue"), d["PropertyPath"], name),
                    actual_value=redact(d.get("ActualValue"), d["PropertyPath"], name),
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
        if not page.get("NextToken"):
            return out
        kwargs["NextToken"] = page["NextToken"]


def create_revert_change_set(cfn: Any, stack: dict[str, Any], name: str, description: str) -> str:
    """Create the REVERT_DRIFT change set (idempotent by ClientToken = name). Every parameter
    keeps its previous value; the stack's capabilities are passed on."""
    kwargs: dict[str, Any] = {
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
        kwargs["Capabilities"] = stack["Capabilities"]
    return str(cfn.create_change_set(**kwargs)["Id"])


def describe_change_set(cfn: Any, change_set_arn: str) -> dict[str, Any]:
    """Status and every change (all pages) of a change set, by ARN (names fail after execution)."""
    first = cfn.describe_change_set(ChangeSetName=change_set_arn)
    changes = list(first.get("Changes", []))
    token = first.get("NextToken")
    while token:
        page = cfn.describe_change_set(ChangeSetName=change_set_arn, NextToken=token)
        changes += page.get("Changes", [])
        token = page.get("NextToken")
    return {
        "ChangeSetId": first["ChangeSetId"],
        "ChangeSetName": first["ChangeSetName"],
        "Status": first["Status"],
        "ExecutionStatus": first.get("ExecutionStatus", ""),
        "StatusReason": first.get("StatusReason", ""),
        "Changes": [_plain(c) for c in changes],
    }


def change_set_status(cfn: Any, change_set_arn: str) -> dict[str, Any]:
    """Just the status of a change set (first page only: for polling)."""
    described = cfn.describe_change_set(ChangeSetName=change_set_arn)
    return {
        "Status": described["Status"],
        "ExecutionStatus": described.get("ExecutionStatus", ""),
        "StatusReason": described.get("StatusReason", ""),
    }


def is_empty_change_set(status: dict[str, Any]) -> bool:
    """A FAILED change set that only says there was nothing to change."""
    reason = str(status.get("StatusReason", ""))
    return status["Status"] == "FAILED" and any(m in reason for m in NO_CHANGES_MARKERS)


def execute_change_set(cfn: Any, change_set_arn: str, token: str) -> None:
    cfn.execute_change_set(ChangeSetName=change_set_arn, ClientRequestToken=token)


def delete_change_set(cfn: Any, change_set_arn: str) -> None:
    try:
        cfn.delete_change_set(ChangeSetName=change_set_arn)
    except ClientError as error:
        if error_code(error) != "ChangeSetNotFound":
            raise


def _plain(change: dict[str, Any]) -> dict[str, Any]:
    """A Change as JSON (no datetimes), sensitive values redacted: it is checkpointed."""
    rc = dict(change.get("ResourceChange", {}))
    name = f"{rc.get('LogicalResourceId', '')} {rc.get('PhysicalResourceId', '')}"
    details = []
    for detail in rc.get("Details", []):
        target = dict(detail.get("Target", {}))
        path = "/" + str(target.get("Name") or target.get("Path", "")).split("/")[-1]
        for key in ("BeforeValue", "AfterValue"):
            if key in target:
                target[key] = redact(target[key], path, name)
        if "Drift" in target:
            target["Drift"] = {
                k: redact(v, path, name)
                for k, v in target["Drift"].items()
                if k != "DriftDetectionTimestamp"
            }
        details.append({**detail, "Target": target})
    rc["Details"] = details
    return {"Type": change.get("Type", "Resource"), "ResourceChange": rc}
