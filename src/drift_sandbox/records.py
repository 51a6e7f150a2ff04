"""What the drift extension remembers: detections, REVERT_DRIFT change sets, stack generations.

State lives here, in plain objects (moto's ``BaseModel`` subclasses cannot live outside moto).
One :class:`State` is shared by every executor, so the clock, the timing and the fault switchboard
a test swaps in are seen by all of them at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from moto.core.exceptions import ServiceException

from .faults import Faults
from .timing import Clock, Timing


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
    #: The stack's generation when the change set was made: any later update makes it OBSOLETE.
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
class State:
    """What every executor shares: how time passes, which faults are on, and the records."""

    clock: Clock
    timing: Timing
    faults: Faults
    detections: dict[str, Detection] = field(default_factory=dict)
    change_sets: dict[str, DriftChangeSet] = field(default_factory=dict)
    #: stack id -> how often the stack was updated (by anyone) since it was created
    generations: dict[str, int] = field(default_factory=dict)

    def stack_created(self, stack_id: str) -> None:
        self.generations[stack_id] = 0

    def stack_updated(self, stack_id: str) -> None:
        self.generations[stack_id] = self.generations.get(stack_id, 0) + 1

    def generation(self, stack_id: str) -> int:
        return self.generations.get(stack_id, 0)

    def refresh(self, change_set: DriftChangeSet) -> DriftChangeSet:
        """Mark a change set OBSOLETE once its stack was updated by something else."""
        if (
            change_set.execution_status == "AVAILABLE"
            and self.generation(change_set.stack_id) != change_set.generation
        ):
            change_set.execution_status = "OBSOLETE"
        return change_set

    def change_sets_of(self, stack_id: str) -> list[DriftChangeSet]:
        """The stack's REVERT_DRIFT change sets still listed (an executed one no longer is)."""
        return [c for c in self.change_sets.values() if c.stack_id == stack_id and not c.executed]
