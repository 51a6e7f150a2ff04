"""The change record: one JSON document per execution that changes or proposes a change, kept
in S3 for the change-management trail (what was found, the change set and its risk, the decision
and every rule that shaped it, approvals, windows, health before and after, verification, time).

Pure: built from the heal's result, which is redacted already (values from NoEcho parameters and
secret references, and anything shaped like a secret), so the record holds nothing secret.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..models import HealRequest, HealResult, Outcome

#: The record's shape; a reader tells versions apart by it.
VERSION = 1
#: Outcomes that change a stack or propose a change (a change set was made and not discarded as
#: empty), or that failed after a change set was made.
_RECORDED = {
    Outcome.CHANGE_SET_CREATED,
    Outcome.HEALED,
    Outcome.RESIDUAL_DRIFT,
    Outcome.REJECTED,
}


def wanted(result: HealResult) -> bool:
    """Whether this execution leaves a change record."""
    if result.outcome is Outcome.FAILED:
        return result.change_set is not None
    return result.outcome in _RECORDED


def key(stack_name: str, execution: str, written: datetime) -> str:
    """Where the record goes: by stack, then by day, then by execution (unique, and stable
    across retries of the write)."""
    stack = stack_name.split("/")[1] if stack_name.startswith("arn:") else stack_name
    execution_id = execution.rsplit("/", 1)[-1] or "execution"
    return f"change-records/{stack}/{written:%Y/%m/%d}/{execution_id}.json"


def document(
    result: HealResult,
    request: HealRequest,
    execution: str,
    approval_for: str,
    lowered: str | None,
    written: datetime,
) -> dict[str, Any]:
    """The record: the result as the contract has it, and the rules that shaped the decision."""
    return {
        "Version": VERSION,
        "Execution": execution,
        "Written": written.isoformat(timespec="seconds"),
        "Request": request.event(),
        "Rules": {
            "HealMode": request.heal_mode.value,
            "LoweredBy": lowered,
            "ApprovalFor": approval_for,
            "Policy": result.policy.dump() if result.policy else None,
        },
        "Result": result.dump(),
    }
