"""What to do, decided from plain data: execute or leave for review, and whether another heal
already owns the stack."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..models import HealRequest, Risk
from ..records import ChangeSetSummary
from .states import in_flight


@dataclass(frozen=True)
class Decision:
    """What to do with a change set, and why."""

    execute: bool
    reason: str


def decide(request: HealRequest, level: Risk, reasons: list[str]) -> Decision:
    """Execute only a LOW risk change set, and only when not asked to stop before."""
    if request.create_change_set_only:
        return Decision(False, "change set created for review, as requested (CreateChangeSetOnly)")
    if level is not Risk.LOW:
        return Decision(
            False,
            "not executed: the change set is HIGH risk and is left for review ("
            + "; ".join(reasons)
            + ")",
        )
    return Decision(True, "LOW risk change set executed")


def other_heal(summaries: Iterable[ChangeSetSummary], prefix: str, mine: str) -> str | None:
    """Why another heal owns the stack (its change set is being made, executed, or awaits
    review), or None. Nightly runs must not pile up proposals nobody has reviewed yet."""
    for summary in summaries:
        name = summary["ChangeSetName"]
        if name.startswith(prefix + "-") and name != mine and in_flight(summary):
            return (
                f"another heal is in flight or awaits review: change set "
                f"{name} ({summary['Status']}/{summary['ExecutionStatus']}); execute or "
                "delete it first"
            )
    return None
