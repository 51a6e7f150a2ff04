"""A change set's life after creation: found, described, listed, deleted.

REVERT_DRIFT change sets are the sandbox's own; moto's template-diff change sets live in moto's
backend. Lookups answer None for a name that is not ours (the request handler then hands it to
moto), and ListChangeSets lists both kinds, in pages.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation.exceptions import ValidationError

from . import stacks
from .paging import page
from .records import ChangeSetNotFound, DriftChangeSet, InvalidChangeSetStatus, State


class Lifecycle:
    """DescribeChangeSet, ListChangeSets and DeleteChangeSet, and the lookup they share."""

    def __init__(self, state: State) -> None:
        self.state = state

    def find_change_set(
        self, account_id: str, region: str, name_or_arn: str, stack_name: str | None
    ) -> DriftChangeSet | None:
        """A REVERT_DRIFT change set by ARN, or by name within its stack. None when the name is
        not one of ours (it may be one of moto's own change sets)."""
        if name_or_arn.startswith("arn:"):
            return self.state.change_sets.get(name_or_arn)
        if not stack_name:
            raise ValidationError(
                message="StackName must be specified if ChangeSetName is not specified as an ARN."
            )
        stack_ids = {
            s.stack_id
            for s in stacks.backend(account_id, region).stacks.values()
            if stack_name in (s.name, s.stack_id)
        }
        for change_set in self.state.change_sets.values():
            if change_set.stack_id in stack_ids and change_set.name == name_or_arn:
                if change_set.executed:
                    raise ChangeSetNotFound(f"ChangeSet [{name_or_arn}] does not exist")
                return change_set
        return None

    def describe_change_set(
        self, change_set: DriftChangeSet, token: str | None, include_values: bool = False
    ) -> dict[str, Any]:
        """One page of the change set: every field, and as many changes as a page holds.
        Property values (Before/After, Drift) only with IncludePropertyValues, as AWS does."""
        self.state.refresh(change_set)
        changes, next_token = page(change_set.changes, token, self.state.timing.page_size)
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
            "Changes": [
                c["ResourceChange"] if include_values else _without_values(c["ResourceChange"])
                for c in changes
            ],
            "DeploymentMode": "REVERT_DRIFT",
            "IncludeNestedStacks": False,
        }
        if change_set.description:
            out["Description"] = change_set.description
        if change_set.status_reason:
            out["StatusReason"] = change_set.status_reason
        if change_set.stack_drift_status:
            out["StackDriftStatus"] = change_set.stack_drift_status
        if next_token:
            out["NextToken"] = next_token
        return out

    def list_change_sets(
        self, account_id: str, region: str, stack_name: str, token: str | None
    ) -> dict[str, Any]:
        """One page of the stack's change sets: REVERT_DRIFT ones first, then moto's own."""
        stack = stacks.operable(account_id, region, stack_name)
        summaries = [self.summary(c) for c in self.state.change_sets_of(stack.stack_id)]
        summaries += [
            {
                "StackId": c.stack_id,
                "StackName": c.stack_name,
                "ChangeSetId": c.change_set_id,
                "ChangeSetName": c.change_set_name,
                "ExecutionStatus": c.execution_status,
                "Status": c.status,
                "CreationTime": c.creation_time,
            }
            for c in stacks.backend(account_id, region).change_sets.values()
            if c.stack_id == stack.stack_id
        ]
        items, next_token = page(summaries, token, self.state.timing.page_size)
        out: dict[str, Any] = {"Summaries": items}
        if next_token:
            out["NextToken"] = next_token
        return out

    def summary(self, change_set: DriftChangeSet) -> dict[str, Any]:
        self.state.refresh(change_set)
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

    def delete_change_set(self, change_set: DriftChangeSet) -> None:
        if change_set.execution_status == "EXECUTE_IN_PROGRESS":
            raise InvalidChangeSetStatus(
                f"Cannot delete ChangeSet [{change_set.arn}] while it is being executed."
            )
        if change_set.executed:
            raise InvalidChangeSetStatus(
                f"Cannot delete ChangeSet [{change_set.arn}]: it was executed."
            )
        del self.state.change_sets[change_set.arn]


_VALUE_KEYS = ("BeforeValue", "AfterValue", "BeforeValueFrom", "AfterValueFrom", "Drift")


def _without_values(change: dict[str, Any]) -> dict[str, Any]:
    """A resource change as DescribeChangeSet shows it without IncludePropertyValues."""
    return {
        **change,
        "Details": [
            {
                **detail,
                "Target": {
                    k: v for k, v in detail.get("Target", {}).items() if k not in _VALUE_KEYS
                },
            }
            for detail in change.get("Details", [])
        ],
    }
