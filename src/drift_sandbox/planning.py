"""Planning REVERT_DRIFT change sets: CreateChangeSet, and what the change set holds once created.

The changes are computed when creation settles, from the live state at that moment, per property:
what the template says (with the change set's parameter values) against what is there now. A
property that differs only because a parameter value changed is a change, but not drift (the
classic trap of leaving parameters out).
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from moto.cloudformation.exceptions import AlreadyExistsException, ValidationError
from moto.cloudformation.models import Stack

from . import stacks
from .diff import property_differences, render, same
from .records import DriftChangeSet, State
from .resources import LIVE_RESOURCES, LiveResource, Properties

NO_CHANGES_REASON = (
    "The submitted information didn't contain changes. "
    "Submit different information to create a change set."
)
_NAME = re.compile(r"^[a-zA-Z][-a-zA-Z0-9]*$")
_UNUPDATABLE = {"UPDATE_ROLLBACK_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED"}
_DRIFTED = ("MODIFIED", "DELETED")


class Planner:
    """CreateChangeSet with DeploymentMode=REVERT_DRIFT, and its completion on modeled time."""

    def __init__(self, state: State) -> None:
        self.state = state

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
        stack = stacks.operable(account_id, region, stack_name)
        for existing in self.state.change_sets_of(stack.stack_id):
            if existing.name == name:
                if client_token and existing.client_token == client_token:
                    return existing
                raise AlreadyExistsException(f"ChangeSet [{name}] already exists")
        if stack.status.endswith("_IN_PROGRESS") or stack.status in _UNUPDATABLE:
            raise ValidationError(
                message=f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated."
            )
        now = self.state.clock()
        change_set = DriftChangeSet(
            arn=f"arn:aws:cloudformation:{region}:{account_id}:changeSet/{name}/{uuid.uuid4()}",
            name=name,
            stack_id=stack.stack_id,
            stack_name=stack.name,
            created=now,
            ready_at=now
            + self.state.timing.for_stack(stack.name, stacks.resource_count(stack)).creation(),
            parameters=_resolve_parameters(stack, params),
            capabilities=capabilities,
            description=description,
            client_token=client_token,
            generation=self.state.generation(stack.stack_id),
        )
        self.state.change_sets[change_set.arn] = change_set
        return change_set

    def settle(self, now: datetime) -> None:
        """Finish creating every change set whose modeled time has passed, as of that time."""
        for change_set in self.state.change_sets.values():
            if change_set.status == "CREATE_IN_PROGRESS" and change_set.ready_at <= now:
                self._finish(change_set, change_set.ready_at)

    def _finish(self, change_set: DriftChangeSet, now: datetime) -> None:
        stack = stacks.live_stack(change_set.stack_id)
        if stack is None:
            change_set.status = "FAILED"
            change_set.status_reason = "Stack was deleted while the change set was created."
            return
        failure = self.state.faults.change_set_failures.pop(stack.name, None)
        if failure is not None:
            change_set.status = "FAILED"
            change_set.status_reason = failure
            return
        changes = self._revert_changes(stack, change_set, now)
        change_set.changes = changes
        change_set.stack_drift_status = (
            "DRIFTED"
            if any(c["ResourceChange"].get("ResourceDriftStatus") in _DRIFTED for c in changes)
            else "IN_SYNC"
        )
        if not changes:
            change_set.status = "FAILED"
            change_set.status_reason = NO_CHANGES_REASON
            return
        change_set.status = "CREATE_COMPLETE"
        change_set.execution_status = "AVAILABLE"

    def _revert_changes(
        self, stack: Stack, change_set: DriftChangeSet, now: datetime
    ) -> list[dict[str, Any]]:
        """What a REVERT_DRIFT change set holds: live state back to the template, per resource,
        then the phantom changes a fault asks for."""
        changes: list[dict[str, Any]] = []
        for logical_id, rtype, physical in stacks.resources(stack):
            live = LIVE_RESOURCES.get(rtype)
            if live is None:
                continue
            change = _revert_change(stack, change_set, logical_id, rtype, physical, live, now)
            if change is not None:
                changes.append({"Type": "Resource", "ResourceChange": change})
        for phantom in self.state.faults.phantom_changes.get(stack.name, []):
            changes.append(_phantom(stack, change_set, phantom.logical_id, phantom.replacement))
        unknown = self.state.faults.unknown_values.get(stack.name, set())
        for resource_change in (c["ResourceChange"] for c in changes):
            if resource_change["LogicalResourceId"] in unknown:
                for detail in resource_change.get("Details", []):
                    detail["Target"]["AfterValue"] = KNOWN_AFTER_APPLY
        return changes


def _resolve_parameters(stack: Stack, params: list[dict[str, Any]]) -> dict[str, str]:
    """Parameter values as CloudFormation resolves them: previous values where asked for, the
    template default for every parameter left out (the classic trap)."""
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


def _revert_change(
    stack: Stack,
    change_set: DriftChangeSet,
    logical_id: str,
    rtype: str,
    physical: str,
    live: LiveResource,
    now: datetime,
) -> dict[str, Any] | None:
    """One resource's ResourceChange, or None when it already matches its target."""
    previous = stacks.expected(stack, logical_id)
    target = stacks.expected(stack, logical_id, change_set.parameters)
    actual = live.read(stacks.location(stack, physical))
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
        return change
    details = [
        _detail(name, previous, target, actual, live, now)
        for name in sorted(target)
        if name not in actual or not same(target[name], actual[name])
    ]
    if not details:
        return None
    replacement = any(d["Target"]["RequiresRecreation"] == "Always" for d in details)
    change = {
        **base,
        "Action": "Modify",
        "Replacement": "True" if replacement else "False",
        "Scope": sorted({d["Target"]["Attribute"] for d in details}),
        "ResourceDriftStatus": "MODIFIED" if property_differences(previous, actual) else "IN_SYNC",
        "Details": details,
    }
    if replacement:
        change["PolicyAction"] = "ReplaceAndDelete"
    return change


def _detail(
    name: str,
    previous: Properties,
    target: Properties,
    actual: Properties,
    live: LiveResource,
    now: datetime,
) -> dict[str, Any]:
    """One property's ResourceChangeDetail: back to the template, and the drift, if it drifted
    (rather than changing because a parameter value did)."""
    drifted = name not in actual or not same(previous.get(name), actual[name])
    target_def: dict[str, Any] = {
        "Attribute": "Tags" if name == "Tags" else "Properties",
        "Name": name,
        "Path": f"/Properties/{name}",
        "RequiresRecreation": "Always" if name in live.replacement_properties else "Never",
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
    return {
        "Target": target_def,
        "Evaluation": "Static",
        "ChangeSource": "DirectModification" if drifted else "ParameterReference",
    }


#: What CloudFormation shows for a value it resolves only while applying the change set.
KNOWN_AFTER_APPLY = "{{changeSet:KNOWN_AFTER_APPLY}}"


def _phantom(
    stack: Stack, change_set: DriftChangeSet, logical_id: str, replacement: str
) -> dict[str, Any]:
    """A Modify change on a resource that did not drift (the fault that mimics a known bug)."""
    rtype = stack.template_dict["Resources"][logical_id]["Type"]
    physical = next((r[2] for r in stacks.resources(stack) if r[0] == logical_id), logical_id)
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
