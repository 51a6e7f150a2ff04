"""What to do, decided from plain data: execute or leave for review, and whether another heal
already owns the stack."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..models import HealMode, HealRequest, Risk
from ..records import ChangeSetSummary
from .states import in_flight


@dataclass(frozen=True)
class Decision:
    """What to do with a change set, and why."""

    execute: bool
    reason: str


def decide(
    request: HealRequest,
    level: Risk,
    reasons: list[str],
    unchecked: str | None = None,
    lowered: str | None = None,
    accepted: str | None = None,
) -> Decision:
    """Execute only a LOW risk change set, only after a complete drift detection, only when it
    reverts no accepted drift (``accepted`` says which: REVERT_DRIFT reverts all of a stack's
    drift), and only when not asked (or capped: ``lowered`` says by what) to stop before."""
    if request.create_change_set_only:
        if lowered is not None:
            return Decision(False, f"change set created for review: {lowered}")
        return Decision(False, "change set created for review, as requested (CreateChangeSetOnly)")
    if unchecked is not None:
        return Decision(
            False,
            "not executed: drift detection was partial, so the change set may revert more than "
            f"the report shows; it is left for review ({unchecked})",
        )
    if accepted is not None:
        return Decision(
            False,
            "not executed: the change set would also revert drift the change policy accepts "
            f"({accepted}); it is left for review",
        )
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


def others(summaries: Iterable[ChangeSetSummary], mine: str) -> list[str]:
    """The change sets on the stack besides this heal's own. Executing a change set makes
    CloudFormation delete every other one, so while any is there the healer does not execute."""
    return [s["ChangeSetName"] for s in summaries if s["ChangeSetName"] != mine]


def kept_for(other_change_sets: list[str]) -> str:
    """Why a LOW risk change set was left for review: it would have destroyed other work."""
    shown = ", ".join(other_change_sets[:10])
    more = len(other_change_sets) - 10
    return (
        f"not executed: the stack has change sets the healer did not make ({shown}"
        + (f" and {more} more" if more > 0 else "")
        + "); executing would make CloudFormation delete them. Execute or delete them first, "
        "or execute this one by hand after review"
    )


def asks_a_person(
    request: HealRequest,
    approval_for: str,
    level: Risk,
    unchecked: str | None,
    accepted: str | None = None,
) -> bool:
    """Whether this heal waits for an approval: asked by the event, or by the deployment (or
    the stack's tier) for every change set (``all``) or for those it would not execute alone
    (``high``). A request capped below heal (propose, dry run) never asks: it executes nothing
    anyway."""
    if request.require_approval:
        return True
    if request.heal_mode is not HealMode.HEAL:
        return False
    alone = level is Risk.LOW and unchecked is None and accepted is None
    return approval_for == "all" or (approval_for == "high" and not alone)


#: How much each approval setting asks, least first (APPROVAL_FOR and a tier's Approval).
_ASKS = {"none": 0, "never": 0, "high": 1, "all": 2, "always": 2}


def stricter_approval(deployment: str, tier: str) -> str:
    """The approval setting that asks more: the deployment's APPROVAL_FOR (none/high/all) or
    the stack's tier (never/high/always), as none/high/all."""
    asks = max(_ASKS[deployment], _ASKS[tier])
    return ("none", "high", "all")[asks]
