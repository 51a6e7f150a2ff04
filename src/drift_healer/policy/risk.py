"""Is a REVERT_DRIFT change set safe to execute unattended?

LOW only when every change is a Modify (or SyncWithActual) without replacement, without a
destructive policy action, and on a resource the drift report named. Anything else is HIGH, with
every reason listed: a known service bug produces phantom changes, even replacements, on resources
that never drifted, so a change set is never trusted on its own word.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..models import Risk

SAFE_ACTIONS = frozenset({"Modify", "SyncWithActual"})


def assess(changes: Iterable[Mapping[str, Any]], drifted: Iterable[str]) -> tuple[Risk, list[str]]:
    """The risk of executing ``changes`` when the drift report named ``drifted`` logical ids."""
    named = set(drifted)
    reasons: list[str] = []
    for change in changes:
        if change.get("Type", "Resource") != "Resource":
            reasons.append(f"a change of type {change.get('Type')} is not a resource change")
            continue
        rc = change.get("ResourceChange", {})
        who = f"{rc.get('LogicalResourceId', '?')} ({rc.get('ResourceType', '?')})"
        action = rc.get("Action", "?")
        if action not in SAFE_ACTIONS:
            verb = {"Add": "adds", "Remove": "removes", "Import": "imports"}.get(action, "changes")
            reasons.append(f"{who}: action {action} {verb} a resource")
        replacement = rc.get("Replacement")
        if action in SAFE_ACTIONS and replacement not in (None, "False"):
            reasons.append(f"{who}: Replacement is {replacement} (the resource may be replaced)")
        if rc.get("PolicyAction"):
            reasons.append(f"{who}: destructive policy action {rc['PolicyAction']}")
        recreate = sorted(
            {
                str(d.get("Target", {}).get("Name") or d.get("Target", {}).get("Attribute"))
                for d in rc.get("Details", [])
                if d.get("Target", {}).get("RequiresRecreation") in ("Always", "Conditionally")
            }
        )
        if recreate and replacement in (None, "False"):
            reasons.append(f"{who}: {', '.join(recreate)} may require recreation")
        if rc.get("LogicalResourceId") not in named:
            reasons.append(f"{who}: not named in the drift report")
    return (Risk.HIGH if reasons else Risk.LOW), reasons
