"""Executing a REVERT_DRIFT change set: the stack updates, and live resources go back to the
template when the modeled time is up.

Nothing is written at ExecuteChangeSet: until the execution settles the stack is
UPDATE_IN_PROGRESS and the resources keep their drifted values, as a caller polling AWS would see.
"""

from __future__ import annotations

from datetime import datetime

from . import stacks
from .records import DriftChangeSet, InvalidChangeSetStatus, State
from .resources import LIVE_RESOURCES


class Executor:
    """ExecuteChangeSet for REVERT_DRIFT change sets, and its end on modeled time."""

    def __init__(self, state: State) -> None:
        self.state = state

    def execute_change_set(self, change_set: DriftChangeSet, token: str | None) -> None:
        if token and change_set.execution_token == token:
            return  # a retry of the same request: idempotent
        self.state.refresh(change_set)
        if change_set.status != "CREATE_COMPLETE" or change_set.execution_status != "AVAILABLE":
            raise InvalidChangeSetStatus(
                f"ChangeSet [{change_set.arn}] cannot be executed in its current status of "
                f"[{change_set.status}] and execution status [{change_set.execution_status}]"
            )
        stack = stacks.stack_by_id(change_set.stack_id)
        if stack.status.endswith("_IN_PROGRESS"):
            raise InvalidChangeSetStatus(
                f"ChangeSet [{change_set.arn}] cannot be executed: stack [{stack.name}] is in "
                f"{stack.status} state."
            )
        now = self.state.clock()
        change_set.execution_token = token
        change_set.execution_status = "EXECUTE_IN_PROGRESS"
        timing = self.state.timing.for_stack(stack.name, stacks.resource_count(stack))
        change_set.execution_ready_at = now + timing.execution(len(change_set.changes))
        change_set.failing_resource = self.state.faults.execution_failures.pop(stack.name, None)
        stack.status = "UPDATE_IN_PROGRESS"
        stack._add_stack_event("UPDATE_IN_PROGRESS", resource_status_reason="User Initiated")
        # executing one change set deletes the stack's others, moto's own included, as in AWS
        for other in self.state.change_sets_of(stack.stack_id):
            if other is not change_set:
                del self.state.change_sets[other.arn]
        moto_sets = stacks.backend(stack.account_id, stack.region_name).change_sets
        for arn in [arn for arn, c in moto_sets.items() if c.stack_id == stack.stack_id]:
            del moto_sets[arn]

    def settle(self, now: datetime) -> None:
        """Finish every execution whose modeled time has passed, as of that time."""
        for change_set in self.state.change_sets.values():
            if (
                change_set.execution_status == "EXECUTE_IN_PROGRESS"
                and change_set.execution_ready_at is not None
                and change_set.execution_ready_at <= now
            ):
                self._finish(change_set, change_set.execution_ready_at)

    def _finish(self, change_set: DriftChangeSet, now: datetime) -> None:
        change_set.executed = True
        stack = stacks.live_stack(change_set.stack_id)
        if stack is None:
            change_set.execution_status = "EXECUTE_FAILED"
            return
        self.state.stack_updated(stack.stack_id)
        if change_set.failing_resource is not None:
            change_set.execution_status = "EXECUTE_FAILED"
            stack.status = "UPDATE_ROLLBACK_COMPLETE"
            stack.stack_status_reason = (  # type: ignore[attr-defined]  # serialised by moto
                f"The following resource(s) failed to update: [{change_set.failing_resource}]. "
            )
            stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")
            return
        resources = {r[0]: r for r in stacks.resources(stack)}
        for change in change_set.changes:
            rc = change["ResourceChange"]
            logical_id = rc["LogicalResourceId"]
            live = LIVE_RESOURCES.get(rc["ResourceType"])
            if live is None or logical_id not in resources:
                continue
            target = stacks.expected(stack, logical_id, change_set.parameters)
            names = [d["Target"].get("Name") for d in rc.get("Details", [])]
            props = target if rc["Action"] == "Add" else {n: target[n] for n in names if n}
            live.write(stacks.location(stack, resources[logical_id][2]), props)
        stack.status = "UPDATE_COMPLETE"
        stack.stack_status_reason = None  # type: ignore[attr-defined]
        stack.last_updated_time = now  # type: ignore[attr-defined]
        stack._add_stack_event("UPDATE_COMPLETE")
        change_set.execution_status = "EXECUTE_COMPLETE"
