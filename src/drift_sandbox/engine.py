"""The CloudFormation drift extension: detections, REVERT_DRIFT change sets and their execution.

State lives here, in plain objects (moto's ``BaseModel`` subclasses cannot live outside moto). Every
operation takes modeled time on an injectable clock: it is IN_PROGRESS until its ``ready_at``, and
:meth:`DriftEngine.settle` (called before every CloudFormation request) moves due operations on.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.cloudformation.exceptions import AlreadyExistsException, ValidationError
from moto.cloudformation.models import CloudFormationBackend, Stack, cloudformation_backends
from moto.cloudformation.parsing import clean_json
from moto.core.exceptions import ServiceException

from .diff import property_differences, render, same
from .faults import Faults
from .resources import LIVE_RESOURCES, Location, Properties

Clock = Callable[[], datetime]

NO_CHANGES_REASON = (
    "The submitted information didn't contain changes. "
    "Submit different information to create a change set."
)
_NAME = re.compile(r"^[a-zA-Z][-a-zA-Z0-9]*$")
_UNUPDATABLE = {"UPDATE_ROLLBACK_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED"}
_DETECTABLE = {
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "UPDATE_ROLLBACK_FAILED",
}


def wall_clock() -> datetime:
    """The default clock: real UTC time."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Timing:
    """How long CloudFormation takes, in seconds. Detection grows with the stack."""

    detection_base: float = 4.0
    detection_per_resource: float = 1.5
    change_set_creation: float = 8.0
    execution_base: float = 15.0
    execution_per_change: float = 5.0
    #: Changes per DescribeChangeSet page (AWS pages them; the healer must read every page).
    change_page_size: int = 100

    def detection(self, resources: int) -> timedelta:
        return timedelta(seconds=self.detection_base + self.detection_per_resource * resources)

    def execution(self, changes: int) -> timedelta:
        return timedelta(seconds=self.execution_base + self.execution_per_change * changes)


class ChangeSetNotFound(ServiceException):
    code = "ChangeSetNotFound"


class InvalidChangeSetStatus(ServiceException):
    code = "InvalidChangeSetStatus"


@dataclass
class Detection:
    id: str
    stack_id: str
    stack_name: str
    logical_ids: list[str] | None
    started: datetime
    ready_at: datetime
    status: str = "DETECTION_IN_PROGRESS"
    reason: str | None = None
    stack_drift_status: str | None = None
    drifts: list[dict[str, Any]] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "StackId": self.stack_id,
            "StackDriftDetectionId": self.id,
            "DetectionStatus": self.status,
            "Timestamp": self.started,
        }
        if self.status != "DETECTION_IN_PROGRESS":
            out["StackDriftStatus"] = self.stack_drift_status
            out["DriftedStackResourceCount"] = sum(
                d["StackResourceDriftStatus"] in ("MODIFIED", "DELETED") for d in self.drifts
            )
        if self.reason:
            out["DetectionStatusReason"] = self.reason
        return out


@dataclass
class DriftChangeSet:
    arn: str
    name: str
    stack_id: str
    stack_name: str
    created: datetime
    ready_at: datetime
    parameters: dict[str, str]
    capabilities: list[str]
    description: str | None
    client_token: str | None
    generation: int
    status: str = "CREATE_IN_PROGRESS"
    execution_status: str = "UNAVAILABLE"
    status_reason: str | None = None
    changes: list[dict[str, Any]] = field(default_factory=list)
    stack_drift_status: str | None = None
    execution_token: str | None = None
    execution_ready_at: datetime | None = None
    failing_resource: str | None = None
    executed: bool = False


@dataclass
class _Busy:
    stack_id: str
    until: datetime
    then: str


class DriftEngine:
    """Drift detection and drift-aware change sets over moto's stacks and backends."""

    def __init__(self, clock: Clock, timing: Timing, faults: Faults) -> None:
        self.clock = clock
        self.timing = timing
        self.faults = faults
        self.detections: dict[str, Detection] = {}
        self.change_sets: dict[str, DriftChangeSet] = {}
        self.generations: dict[str, int] = {}
        self.busy: list[_Busy] = []

    # ----------------------------------------------------------------------------- helpers
    @staticmethod
    def backend(account_id: str, region: str) -> CloudFormationBackend:
        return cloudformation_backends[account_id][region]

    def stack(self, account_id: str, region: str, name_or_id: str) -> Stack:
        """A live stack by name or ARN; a deleted one only by ARN, as AWS does."""
        stack = self.backend(account_id, region).get_stack(name_or_id)
        return stack

    def _stack_by_id(self, stack_id: str) -> Stack:
        account_id, region = stack_id.split(":")[4], stack_id.split(":")[3]
        return self.backend(account_id, region).get_stack(stack_id)

    def _live_stack(self, stack_id: str) -> Stack | None:
        """The stack, or None once it was deleted (operations on it then fail)."""
        try:
            stack = self._stack_by_id(stack_id)
        except ValidationError:
            return None
        return None if stack.status == "DELETE_COMPLETE" else stack

    @staticmethod
    def _resources(stack: Stack) -> list[tuple[str, str, str]]:
        """(logical id, type, physical id) of every resource the stack created."""
        out = []
        for logical_id, spec in stack.template_dict.get("Resources", {}).items():
            resource = stack.resource_map._parsed_resources.get(logical_id)
            if resource is None or isinstance(resource, str | dict):
                continue
            physical = getattr(resource, "physical_resource_id", None) or logical_id
            out.append((logical_id, spec["Type"], str(physical)))
        return out

    @staticmethod
    def _expected(
        stack: Stack, logical_id: str, parameters: Mapping[str, str] | None = None
    ) -> Properties:
        """Template properties of a resource with intrinsics resolved as deployed (or as the
        given parameter values would resolve them)."""
        props = stack.template_dict["Resources"][logical_id].get("Properties", {})
        resolver: Any = stack.resource_map
        if parameters is not None and dict(parameters) != dict(
            stack.resource_map.resolved_parameters
        ):
            resolver = _ParameterOverlay(stack.resource_map, parameters)
        resolved = clean_json(json.loads(json.dumps(props)), resolver)
        return dict(resolved) if isinstance(resolved, dict) else {}

    @staticmethod
    def _location(stack: Stack, physical_id: str) -> Location:
        return Location(stack.account_id, stack.region_name, physical_id)

    def _resource_drift(
        self, stack: Stack, logical_id: str, rtype: str, physical: str, now: datetime
    ) -> dict[str, Any]:
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
        expected = self._expected(stack, logical_id)
        actual = live.read(self._location(stack, physical))
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

    # ----------------------------------------------------------------------------- time
    def settle(self) -> None:
        """Move every operation whose modeled time has passed to its end state."""
        now = self.clock()
        for busy in [b for b in self.busy if b.until <= now]:
            self.busy.remove(busy)
            stack = self._stack_by_id(busy.stack_id)
            if stack.status == "UPDATE_IN_PROGRESS":
                stack.status = busy.then
        for detection in self.detections.values():
            if detection.status == "DETECTION_IN_PROGRESS" and detection.ready_at <= now:
                self._finish_detection(detection, now)
        for change_set in self.change_sets.values():
            if change_set.status == "CREATE_IN_PROGRESS" and change_set.ready_at <= now:
                self._finish_change_set(change_set)
            if (
                change_set.execution_status == "EXECUTE_IN_PROGRESS"
                and change_set.execution_ready_at is not None
                and change_set.execution_ready_at <= now
            ):
                self._finish_execution(change_set, now)

    def make_busy(self, stack: Stack, seconds: float) -> None:
        """Put the stack in UPDATE_IN_PROGRESS for a while (someone else is deploying)."""
        self.busy.append(
            _Busy(stack.stack_id, self.clock() + timedelta(seconds=seconds), stack.status)
        )
        stack.status = "UPDATE_IN_PROGRESS"

    # ----------------------------------------------------------------------------- stacks
    def on_stack_created(self, stack: Stack) -> None:
        """Complete moto's create: write every checked property to the live resources, so a new
        stack starts in sync, and give it drift information."""
        for logical_id, rtype, physical in self._resources(stack):
            live = LIVE_RESOURCES.get(rtype)
            if live is not None:
                live.write(self._location(stack, physical), self._expected(stack, logical_id))
        set_drift_information(stack, {"StackDriftStatus": "NOT_CHECKED"})
        self.generations[stack.stack_id] = 0

    def on_stack_updated(self, stack: Stack) -> None:
        self.generations[stack.stack_id] = self.generations.get(stack.stack_id, 0) + 1

    # ----------------------------------------------------------------------------- detection
    def detect_stack_drift(
        self, account_id: str, region: str, stack_name: str, logical_ids: list[str] | None
    ) -> str:
        stack = self.stack(account_id, region, stack_name)
        if stack.status not in _DETECTABLE:
            raise ValidationError(
                message=f"Stack [{stack.stack_id}] is in {stack.status} state and drift "
                "detection cannot be performed on it."
            )
        for detection in self.detections.values():
            if detection.stack_id == stack.stack_id and detection.status == (
                "DETECTION_IN_PROGRESS"
            ):
                raise ValidationError(
                    message=f"Drift detection is already in progress for stack "
                    f"[{stack.stack_id}]. Only one drift detection can run at a time."
                )
        now = self.clock()
        resources = self._resources(stack)
        checked = [r for r in resources if logical_ids is None or r[0] in logical_ids]
        detection = Detection(
            id=str(uuid.uuid4()),
            stack_id=stack.stack_id,
            stack_name=stack.name,
            logical_ids=logical_ids,
            started=now,
            ready_at=now + self.timing.detection(len(checked)),
        )
        self.detections[detection.id] = detection
        return detection.id

    def _finish_detection(self, detection: Detection, now: datetime) -> None:
        stack = self._live_stack(detection.stack_id)
        if stack is None:
            detection.status = "DETECTION_FAILED"
            detection.reason = "Stack was deleted during drift detection."
            detection.stack_drift_status = "UNKNOWN"
            return
        resources = [
            r
            for r in self._resources(stack)
            if detection.logical_ids is None or r[0] in detection.logical_ids
        ]
        failure = self.faults.detection_failures.pop(stack.name, None)
        if failure is not None:
            reason, checked = failure
            resources, failed = resources[:checked], resources[checked:]
            names = ", ".join(r[0] for r in failed)
            detection.status = "DETECTION_FAILED"
            detection.reason = f"Failed to detect drift on resources [{names}]: {reason}"
        else:
            detection.status = "DETECTION_COMPLETE"
        detection.drifts = [self._resource_drift(stack, *r, now) for r in resources]
        drifted = any(
            d["StackResourceDriftStatus"] in ("MODIFIED", "DELETED") for d in detection.drifts
        )
        if drifted:
            detection.stack_drift_status = "DRIFTED"
        elif failure is not None:
            detection.stack_drift_status = "UNKNOWN"
        else:
            detection.stack_drift_status = "IN_SYNC"
        set_drift_information(
            stack, {"StackDriftStatus": detection.stack_drift_status, "LastCheckTimestamp": now}
        )

    def describe_detection(self, detection_id: str) -> dict[str, Any]:
        detection = self.detections.get(detection_id)
        if detection is None:
            raise ValidationError(message=f"Drift detection [{detection_id}] does not exist.")
        return detection.describe()

    def resource_drifts(
        self, account_id: str, region: str, stack_name: str, statuses: list[str] | None
    ) -> list[dict[str, Any]]:
        stack = self.stack(account_id, region, stack_name)
        done = [
            d
            for d in self.detections.values()
            if d.stack_id == stack.stack_id and d.status != "DETECTION_IN_PROGRESS"
        ]
        if not done:
            return []
        latest = max(done, key=lambda d: d.started)
        return [
            d for d in latest.drifts if not statuses or d["StackResourceDriftStatus"] in statuses
        ]

    def detect_resource_drift(
        self, account_id: str, region: str, stack_name: str, logical_id: str
    ) -> dict[str, Any]:
        stack = self.stack(account_id, region, stack_name)
        for resource in self._resources(stack):
            if resource[0] == logical_id:
                return self._resource_drift(stack, *resource, self.clock())
        raise ValidationError(
            message=f"Resource {logical_id} does not exist for stack {stack_name}"
        )

    # ----------------------------------------------------------------------------- change sets
    def create_change_set(
        self,
        account_id: str,
        region: str,
        stack_name: str,
        name: str,
        params: list[dict[str, Any]],
        capabilities: list[str],
        description: str | None,
        client_token: str | None,
        use_previous_template: bool,
    ) -> DriftChangeSet:
        if not name or len(name) > 128 or not _NAME.match(name):
            raise ValidationError(
                message=f"1 validation error detected: Value '{name}' at 'changeSetName' failed "
                "to satisfy constraint: Member must satisfy regular expression pattern: "
                "[a-zA-Z][-a-zA-Z0-9]*"
            )
        if not use_previous_template:
            raise ValidationError(
                message="The sandbox supports REVERT_DRIFT change sets with "
                "UsePreviousTemplate=true only."
            )
        stack = self.stack(account_id, region, stack_name)
        for existing in self.change_sets.values():
            if (
                existing.stack_id == stack.stack_id
                and existing.name == name
                and not (existing.executed)
            ):
                if client_token and existing.client_token == client_token:
                    return existing
                raise AlreadyExistsException(f"ChangeSet [{name}] already exists")
        if stack.status.endswith("_IN_PROGRESS") or stack.status in _UNUPDATABLE:
            raise ValidationError(
                message=f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated."
            )
        now = self.clock()
        change_set = DriftChangeSet(
            arn=f"arn:aws:cloudformation:{region}:{account_id}:changeSet/{name}/{uuid.uuid4()}",
            name=name,
            stack_id=stack.stack_id,
            stack_name=stack.name,
            created=now,
            ready_at=now + timedelta(seconds=self.timing.change_set_creation),
            parameters=self._resolve_parameters(stack, params),
            capabilities=capabilities,
            description=description,
            client_token=client_token,
            generation=self.generations.get(stack.stack_id, 0),
        )
        self.change_sets[change_set.arn] = change_set
        return change_set

    @staticmethod
    def _resolve_parameters(stack: Stack, params: list[dict[str, Any]]) -> dict[str, str]:
        """Parameter values as CloudFormation resolves them: previous values where asked for,
        the template default for every parameter left out (the classic trap)."""
        declared = stack.template_dict.get("Parameters", {})
        given = {p["ParameterKey"]: p for p in params}
        unknown = sorted(set(given) - set(declared))
        if unknown:
            raise ValidationError(
                message=f"Parameters: [{', '.join(unknown)}] do not exist in the template"
            )
        resolved: dict[str, str] = {}
        missing = []
        for key, spec in declared.items():
            param = given.get(key)
            if param is not None and str(param.get("UsePreviousValue", "")).lower() == "true":
                resolved[key] = str(stack.resource_map.resolved_parameters[key])
            elif param is not None and "ParameterValue" in param:
                resolved[key] = str(param["ParameterValue"])
            elif "Default" in spec:
                resolved[key] = str(spec["Default"])
            else:
                missing.append(key)
        if missing:
            raise ValidationError(message=f"Parameters: [{', '.join(missing)}] must have values")
        return resolved

    def _finish_change_set(self, change_set: DriftChangeSet) -> None:
        stack = self._live_stack(change_set.stack_id)
        if stack is None:
            change_set.status = "FAILED"
            change_set.status_reason = "Stack was deleted while the change set was created."
            return
        failure = self.faults.change_set_failures.pop(stack.name, None)
        if failure is not None:
            change_set.status = "FAILED"
            change_set.status_reason = failure
            return
        changes = self._revert_changes(stack, change_set)
        change_set.changes = changes
        change_set.stack_drift_status = (
            "DRIFTED"
            if any(
                c["ResourceChange"].get("ResourceDriftStatus") in ("MODIFIED", "DELETED")
                for c in changes
            )
            else "IN_SYNC"
        )
        if not changes:
            change_set.status = "FAILED"
            change_set.status_reason = NO_CHANGES_REASON
            return
        change_set.status = "CREATE_COMPLETE"
        change_set.execution_status = "AVAILABLE"

    def _revert_changes(self, stack: Stack, change_set: DriftChangeSet) -> list[dict[str, Any]]:
        """What a REVERT_DRIFT change set holds: live state back to the template, per property."""
        now = self.clock()
        changes = []
        for logical_id, rtype, physical in self._resources(stack):
            live = LIVE_RESOURCES.get(rtype)
            if live is None:
                continue
            previous = self._expected(stack, logical_id)
            target = self._expected(stack, logical_id, change_set.parameters)
            actual = live.read(self._location(stack, physical))
            base: dict[str, Any] = {
                "LogicalResourceId": logical_id,
                "PhysicalResourceId": physical,
                "ResourceType": rtype,
                "ChangeSetId": change_set.arn,
            }
            if actual is None:
                change: dict[str, Any] = {**base, "Action": "Add", "ResourceDriftStatus": "DELETED"}
                change.pop("PhysicalResourceId")
                change["Scope"] = []
                change["Details"] = []
                changes.append({"Type": "Resource", "ResourceChange": change})
                continue
            details: list[dict[str, Any]] = []
            for name in sorted(target):
                if name in actual and same(target[name], actual[name]):
                    continue
                drifted = name not in actual or not same(previous.get(name), actual[name])
                target_def: dict[str, Any] = {
                    "Attribute": "Tags" if name == "Tags" else "Properties",
                    "Name": name,
                    "Path": f"/Properties/{name}",
                    "RequiresRecreation": (
                        "Always" if name in live.replacement_properties else "Never"
                    ),
                    "AfterValue": render(target[name]),
                    "AfterValueFrom": "TEMPLATE",
                    "AttributeChangeType": "Modify" if name in actual else "Add",
                }
                if name in actual:
                    target_def["BeforeValue"] = render(actual[name])
                    target_def["BeforeValueFrom"] = "ACTUAL_STATE"
                if drifted:
                    target_def["Drift"] = {
                        "PreviousValue": render(previous.get(name, "")),
                        "ActualValue": render(actual.get(name, "")),
                        "DriftDetectionTimestamp": now,
                    }
                details.append(
                    {
                        "Target": target_def,
                        "Evaluation": "Static",
                        "ChangeSource": "DirectModification" if drifted else "ParameterReference",
                    }
                )
            if not details:
                continue
            resource_drifted = bool(property_differences(previous, actual))
            replacement = any(d["Target"]["RequiresRecreation"] == "Always" for d in details)
            change = {
                **base,
                "Action": "Modify",
                "Replacement": "True" if replacement else "False",
                "Scope": sorted({d["Target"]["Attribute"] for d in details}),
                "ResourceDriftStatus": "MODIFIED" if resource_drifted else "IN_SYNC",
                "Details": details,
            }
            if replacement:
                change["PolicyAction"] = "ReplaceAndDelete"
            changes.append({"Type": "Resource", "ResourceChange": change})
        for phantom in self.faults.phantom_changes.get(stack.name, []):
            changes.append(
                self._phantom(stack, change_set, phantom.logical_id, phantom.replacement)
            )
        return changes

    def _phantom(
        self, stack: Stack, change_set: DriftChangeSet, logical_id: str, replacement: str
    ) -> dict[str, Any]:
        rtype = stack.template_dict["Resources"][logical_id]["Type"]
        physical = next((r[2] for r in self._resources(stack) if r[0] == logical_id), logical_id)
        change: dict[str, Any] = {
            "Action": "Modify",
            "LogicalResourceId": logical_id,
            "PhysicalResourceId": physical,
            "ResourceType": rtype,
            "Replacement": replacement,
            "Scope": ["Properties"],
            "ResourceDriftStatus": "IN_SYNC",
            "ChangeSetId": change_set.arn,
            "Details": [
                {
                    "Target": {
                        "Attribute": "Properties",
                        "RequiresRecreation": "Always" if replacement == "True" else "Never",
                    },
                    "Evaluation": "Dynamic",
                    "ChangeSource": "ResourceReference",
                }
            ],
        }
        if replacement == "True":
            change["PolicyAction"] = "ReplaceAndDelete"
        return {"Type": "Resource", "ResourceChange": change}

    def find_change_set(
        self, account_id: str, region: str, name_or_arn: str, stack_name: str | None
    ) -> DriftChangeSet | None:
        """A REVERT_DRIFT change set by ARN, or by name within its stack. None when the name is
        not one of ours (it may be one of moto's own change sets)."""
        if name_or_arn.startswith("arn:"):
            return self.change_sets.get(name_or_arn)
        if not stack_name:
            raise ValidationError(
                message="StackName must be specified if ChangeSetName is not specified as an ARN."
            )
        stack_ids = {
            s.stack_id
            for s in self.backend(account_id, region).stacks.values()
            if stack_name in (s.name, s.stack_id)
        }
        for change_set in self.change_sets.values():
            if change_set.stack_id in stack_ids and change_set.name == name_or_arn:
                if change_set.executed:
                    raise ChangeSetNotFound(f"ChangeSet [{name_or_arn}] does not exist")
                return change_set
        return None

    def refresh(self, change_set: DriftChangeSet) -> DriftChangeSet:
        """Mark a change set OBSOLETE once its stack was updated by something else."""
        if (
            change_set.execution_status == "AVAILABLE"
            and self.generations.get(change_set.stack_id, 0) != change_set.generation
        ):
            change_set.execution_status = "OBSOLETE"
        return change_set

    def describe_change_set(self, change_set: DriftChangeSet, token: str | None) -> dict[str, Any]:
        self.refresh(change_set)
        start = int(token) if token else 0
        size = self.timing.change_page_size
        out: dict[str, Any] = {
            "ChangeSetName": change_set.name,
            "ChangeSetId": change_set.arn,
            "StackId": change_set.stack_id,
            "StackName": change_set.stack_name,
            "CreationTime": change_set.created,
            "ExecutionStatus": change_set.execution_status,
            "Status": change_set.status,
            # moto's serializer turns this dict into ParameterKey/ParameterValue pairs and wraps
            # each ResourceChange into a {"Type": "Resource"} Change.
            "Parameters": dict(sorted(change_set.parameters.items())),
            "Capabilities": change_set.capabilities,
            "Changes": [c["ResourceChange"] for c in change_set.changes[start : start + size]],
            "DeploymentMode": "REVERT_DRIFT",
            "IncludeNestedStacks": False,
        }
        if change_set.description:
            out["Description"] = change_set.description
        if change_set.status_reason:
            out["StatusReason"] = change_set.status_reason
        if change_set.stack_drift_status:
            out["StackDriftStatus"] = change_set.stack_drift_status
        if start + size < len(change_set.changes):
            out["NextToken"] = str(start + size)
        return out

    def summary(self, change_set: DriftChangeSet) -> dict[str, Any]:
        self.refresh(change_set)
        out = {
            "StackId": change_set.stack_id,
            "StackName": change_set.stack_name,
            "ChangeSetId": change_set.arn,
            "ChangeSetName": change_set.name,
            "ExecutionStatus": change_set.execution_status,
            "Status": change_set.status,
            "CreationTime": change_set.created,
        }
        if change_set.status_reason:
            out["StatusReason"] = change_set.status_reason
        return out

    def list_change_sets(self, stack: Stack) -> list[DriftChangeSet]:
        return [
            c for c in self.change_sets.values() if c.stack_id == stack.stack_id and not c.executed
        ]

    def delete_change_set(self, change_set: DriftChangeSet) -> None:
        if change_set.execution_status == "EXECUTE_IN_PROGRESS":
            raise InvalidChangeSetStatus(
                f"Cannot delete ChangeSet [{change_set.arn}] while it is being executed."
            )
        if change_set.executed:
            raise InvalidChangeSetStatus(
                f"Cannot delete ChangeSet [{change_set.arn}]: it was executed."
            )
        del self.change_sets[change_set.arn]

    def execute_change_set(self, change_set: DriftChangeSet, token: str | None) -> None:
        if token and change_set.execution_token == token:
            return  # a retry of the same request: idempotent
        self.refresh(change_set)
        if change_set.status != "CREATE_COMPLETE" or change_set.execution_status != "AVAILABLE":
            raise InvalidChangeSetStatus(
                f"ChangeSet [{change_set.arn}] cannot be executed in its current status of "
                f"[{change_set.status}] and execution status [{change_set.execution_status}]"
            )
        stack = self._stack_by_id(change_set.stack_id)
        if stack.status.endswith("_IN_PROGRESS"):
            raise InvalidChangeSetStatus(
                f"ChangeSet [{change_set.arn}] cannot be executed: stack [{stack.name}] is in "
                f"{stack.status} state."
            )
        now = self.clock()
        change_set.execution_token = token
        change_set.execution_status = "EXECUTE_IN_PROGRESS"
        change_set.execution_ready_at = now + self.timing.execution(len(change_set.changes))
        change_set.failing_resource = self.faults.execution_failures.pop(stack.name, None)
        stack.status = "UPDATE_IN_PROGRESS"
        stack._add_stack_event("UPDATE_IN_PROGRESS", resource_status_reason="User Initiated")
        for other in self.list_change_sets(stack):
            if other is not change_set:
                del self.change_sets[other.arn]

    def _finish_execution(self, change_set: DriftChangeSet, now: datetime) -> None:
        change_set.executed = True
        stack = self._live_stack(change_set.stack_id)
        if stack is None:
            change_set.execution_status = "EXECUTE_FAILED"
            return
        self.on_stack_updated(stack)
        if change_set.failing_resource is not None:
            change_set.execution_status = "EXECUTE_FAILED"
            stack.status = "UPDATE_ROLLBACK_COMPLETE"
            stack.stack_status_reason = (  # type: ignore[attr-defined]  # serialised by moto
                f"The following resource(s) failed to update: [{change_set.failing_resource}]. "
            )
            stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")
            return
        resources = {r[0]: r for r in self._resources(stack)}
        for change in change_set.changes:
            rc = change["ResourceChange"]
            logical_id = rc["LogicalResourceId"]
            live = LIVE_RESOURCES.get(rc["ResourceType"])
            if live is None or logical_id not in resources:
                continue
            target = self._expected(stack, logical_id, change_set.parameters)
            names = [d["Target"].get("Name") for d in rc.get("Details", [])]
            props = target if rc["Action"] == "Add" else {n: target[n] for n in names if n}
            live.write(self._location(stack, resources[logical_id][2]), props)
        stack.status = "UPDATE_COMPLETE"
        stack.stack_status_reason = None  # type: ignore[attr-defined]
        stack.last_updated_time = now  # type: ignore[attr-defined]
        stack._add_stack_event("UPDATE_COMPLETE")
        change_set.execution_status = "EXECUTE_COMPLETE"


def set_drift_information(stack: Stack, info: dict[str, Any]) -> None:
    """Give a moto stack the DriftInformation DescribeStacks serialises from it."""
    stack.drift_information = info  # type: ignore[attr-defined]


class _ParameterOverlay:
    """The stack's resource map as seen with other parameter values (for change sets whose
    parameters differ from the deployed ones)."""

    def __init__(self, resource_map: Any, parameters: Mapping[str, str]) -> None:
        self._map = resource_map
        self._parameters = parameters

    def __getitem__(self, key: str) -> Any:
        if key in self._parameters:
            return self._parameters[key]
        return self._map[key]

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __getattr__(self, name: str) -> Any:
        return getattr(self._map, name)
