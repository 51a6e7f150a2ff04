"""CloudFormation's status vocabulary, in one place: which states mean what to a healer.

Pure data and predicates over the statuses CloudFormation reports; the adapters, the workflow and
the pre-flight all read them from here.
"""

from __future__ import annotations

from ..records import ChangeSetStatus, ChangeSetSummary

#: Stack states in which CloudFormation runs drift detection: "You can perform drift detection on
#: stacks with the following statuses: CREATE_COMPLETE, UPDATE_COMPLETE, UPDATE_ROLLBACK_COMPLETE,
#: and UPDATE_ROLLBACK_FAILED" (AWS CloudFormation User Guide, "Considerations when detecting
#: drift", https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/drift-considerations.html).
#: IMPORT_COMPLETE is not one of them.
DETECTABLE_STATES = frozenset(
    {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED"}
)
#: Stack states in which a heal may start: drift can be detected, and a change set made and
#: executed (not in UPDATE_ROLLBACK_FAILED, which needs ContinueUpdateRollback first).
HEALABLE_STATES = DETECTABLE_STATES - {"UPDATE_ROLLBACK_FAILED"}
DETECTION_IN_PROGRESS = "DETECTION_IN_PROGRESS"
DETECTION_FAILED = "DETECTION_FAILED"
DETECTION_COMPLETE = "DETECTION_COMPLETE"
IN_SYNC = "IN_SYNC"
DRIFTED = "DRIFTED"
#: A change set still being made.
CREATING = frozenset({"CREATE_PENDING", "CREATE_IN_PROGRESS"})
#: Execution statuses of a change set that is ready to run or running.
PENDING_EXECUTION = frozenset({"AVAILABLE", "EXECUTE_IN_PROGRESS"})
#: Execution statuses after which nothing more happens to a change set.
DONE_EXECUTING = frozenset({"EXECUTE_COMPLETE", "EXECUTE_FAILED", "OBSOLETE"})
#: What CloudFormation says when a change set would change nothing ("No updates are to be
#: performed." with transforms).
NO_CHANGES_MARKERS = ("didn't contain changes", "No updates are to be performed")


def is_busy(stack_status: str) -> bool:
    """Someone (CloudFormation or a person) is changing the stack right now."""
    return stack_status.endswith("_IN_PROGRESS")


def is_empty_change_set(status: ChangeSetStatus) -> bool:
    """A FAILED change set that only says there was nothing to change: not an error."""
    return status["Status"] == "FAILED" and any(
        marker in status["StatusReason"] for marker in NO_CHANGES_MARKERS
    )


def change_set_settled(status: ChangeSetStatus) -> bool:
    """Creation is over (CREATE_COMPLETE or FAILED)."""
    return status["Status"] not in CREATING


def in_flight(summary: ChangeSetSummary) -> bool:
    """A change set being made, ready to execute, or executing."""
    return summary["Status"] in CREATING or summary["ExecutionStatus"] in PENDING_EXECUTION
