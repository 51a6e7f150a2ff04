"""Drift detection: DetectStackDrift and what reads its results, on modeled time.

A detection reads the live resources when it settles, not when it starts: an out-of-band change
made while it runs is seen, as in AWS. Faults decide whether it fails part-way.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import Stack

from . import stacks
from .diff import property_differences
from .paging import page
from .records import Detection, State
from .resources import LIVE_RESOURCES

_DETECTABLE = {
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "UPDATE_ROLLBACK_FAILED",
}
_DRIFTED = ("MODIFIED", "DELETED")


class Detector:
    """DetectStackDrift, DescribeStackDriftDetectionStatus, DescribeStackResourceDrifts and
    DetectStackResourceDrift."""

    def __init__(self, state: State) -> None:
        self.state = state

    def detect_stack_drift(
        self, account_id: str, region: str, stack_name: str, logical_ids: list[str] | None
    ) -> str:
        stack = stacks.operable(account_id, region, stack_name)
        if stack.status not in _DETECTABLE:
            raise ValidationError(
                message=f"Stack [{stack.stack_id}] is in {stack.status} state and drift "
                "detection cannot be performed on it."
            )
        for detection in self.state.detections.values():
            if detection.stack_id == stack.stack_id and detection.status == (
                "DETECTION_IN_PROGRESS"
            ):
                raise ValidationError(
                    message=f"Drift detection is already in progress for stack "
                    f"[{stack.stack_id}]. Only one drift detection can run at a time."
                )
        now = self.state.clock()
        checked = [r for r in stacks.resources(stack) if logical_ids is None or r[0] in logical_ids]
        timing = self.state.timing.for_stack(stack.name, stacks.resource_count(stack))
        detection = Detection(
            id=str(uuid.uuid4()),
            stack_id=stack.stack_id,
            stack_name=stack.name,
            logical_ids=logical_ids,
            started=now,
            ready_at=now + timing.detection(len(checked)),
        )
        self.state.detections[detection.id] = detection
        return detection.id

    def settle(self, now: datetime) -> None:
        """Finish every detection whose modeled time has passed, stamped with the time it
        ended (not the later moment a request made it settle)."""
        for detection in self.state.detections.values():
            if detection.status == "DETECTION_IN_PROGRESS" and detection.ready_at <= now:
                self._finish(detection, detection.ready_at)

    def _finish(self, detection: Detection, now: datetime) -> None:
        stack = stacks.live_stack(detection.stack_id)
        if stack is None:
            detection.status = "DETECTION_FAILED"
            detection.reason = "Stack was deleted during drift detection."
            detection.stack_drift_status = "UNKNOWN"
            return
        resources = [
            r
            for r in stacks.resources(stack)
            if detection.logical_ids is None or r[0] in detection.logical_ids
        ]
        failure = self.state.faults.detection_failures.pop(stack.name, None)
        if failure is not None:
            reason, checked = failure
            resources, failed = resources[:checked], resources[checked:]
            detection.status = "DETECTION_FAILED"
            # A JSON document with a summary and the per-resource failures, as the healer's
            # issue observed it; AWS documents the field only as a string, so the healer reads
            # both forms.
            detection.reason = json.dumps(
                {
                    "Summary": f"Drift detection failed for {len(failed)} of "
                    f"{len(failed) + len(resources)} resources: {reason}",
                    "FailedResources": [
                        {"LogicalResourceId": r[0], "ResourceType": r[1], "Reason": reason}
                        for r in failed
                    ],
                }
            )
        else:
            detection.status = "DETECTION_COMPLETE"
        detection.drifts = [_resource_drift(stack, *r, now) for r in resources]
        if any(d["StackResourceDriftStatus"] in _DRIFTED for d in detection.drifts):
            detection.stack_drift_status = "DRIFTED"
        elif failure is not None:
            detection.stack_drift_status = "UNKNOWN"
        else:
            detection.stack_drift_status = "IN_SYNC"
        # LastCheckTimestamp: "most recent time when a drift detection operation was initiated
        # on the stack" (StackDriftInformation, CloudFormation API reference)
        stacks.set_drift_information(
            stack,
            {
                "StackDriftStatus": detection.stack_drift_status,
                "LastCheckTimestamp": detection.started,
            },
        )

    def describe_detection(self, detection_id: str) -> dict[str, Any]:
        detection = self.state.detections.get(detection_id)
        if detection is None:
            raise ValidationError(message=f"Drift detection [{detection_id}] does not exist.")
        return detection.describe()

    def resource_drifts(
        self,
        account_id: str,
        region: str,
        stack_name: str,
        statuses: list[str] | None,
        max_results: int,
        token: str | None,
    ) -> dict[str, Any]:
        """One page of the latest finished detection's resource drifts: at most ``max_results``
        and at most the sandbox's page size."""
        stack = stacks.operable(account_id, region, stack_name)
        done = [
            d
            for d in self.state.detections.values()
            if d.stack_id == stack.stack_id and d.status != "DETECTION_IN_PROGRESS"
        ]
        drifts: list[dict[str, Any]] = []
        if done:
            latest = max(done, key=lambda d: d.started)
            drifts = [
                d
                for d in latest.drifts
                if not statuses or d["StackResourceDriftStatus"] in statuses
            ]
        size = min(max_results, self.state.timing.page_size)
        items, next_token = page(drifts, token, size)
        out: dict[str, Any] = {"StackResourceDrifts": items}
        if next_token:
            out["NextToken"] = next_token
        return out

    def detect_resource_drift(
        self, account_id: str, region: str, stack_name: str, logical_id: str
    ) -> dict[str, Any]:
        stack = stacks.operable(account_id, region, stack_name)
        for resource in stacks.resources(stack):
            if resource[0] == logical_id:
                return _resource_drift(stack, *resource, self.state.clock())
        raise ValidationError(
            message=f"Resource {logical_id} does not exist for stack {stack_name}"
        )


def _resource_drift(
    stack: Stack, logical_id: str, rtype: str, physical: str, now: datetime
) -> dict[str, Any]:
    """One resource's drift as DescribeStackResourceDrifts shows it, read from its live state."""
    drift: dict[str, Any] = {
        "StackId": stack.stack_id,
        "LogicalResourceId": logical_id,
        "PhysicalResourceId": physical,
        "ResourceType": rtype,
        "Timestamp": now,
    }
    live = LIVE_RESOURCES.get(rtype)
    if live is None:
        drift["StackResourceDriftStatus"] = "NOT_CHECKED"
        return drift
    expected = stacks.expected(stack, logical_id)
    actual = live.read(stacks.location(stack, physical))
    drift["ExpectedProperties"] = json.dumps(expected, sort_keys=True)
    if actual is None:
        drift["StackResourceDriftStatus"] = "DELETED"
        drift["PropertyDifferences"] = []
        return drift
    shown = {k: actual[k] for k in expected if k in actual}
    drift["ActualProperties"] = json.dumps(shown, sort_keys=True)
    differences = property_differences(expected, actual)
    drift["PropertyDifferences"] = differences
    drift["StackResourceDriftStatus"] = "MODIFIED" if differences else "IN_SYNC"
    return drift
