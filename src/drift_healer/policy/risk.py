"""Is a REVERT_DRIFT change set safe to execute unattended?

LOW only when every change is a Modify (or SyncWithActual) without replacement, without a
destructive policy action, of a resource the drift report named, touching only property paths
the drift report named for that resource, with every new value known before applying. Anything
else is HIGH, with every reason listed: a known service bug produces phantom changes (even
replacements) on resources that never drifted, so a change set is never trusted on its own word.
Nested stacks are never LOW: drift detection does not look inside them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from ..models import Risk
from ..records import Change, ChangeDetail

SAFE_ACTIONS = frozenset({"Modify", "SyncWithActual"})
#: CloudFormation's placeholder for a value it will know only while applying.
KNOWN_AFTER_APPLY = "{{changeSet:KNOWN_AFTER_APPLY}}"
NESTED_STACK = "AWS::CloudFormation::Stack"


def assess(
    changes: Iterable[Change], drifted: Mapping[str, Collection[str]]
) -> tuple[Risk, list[str]]:
    """The risk of executing ``changes`` when the drift report named, per logical id, the
    property paths in ``drifted`` (``/Value``, ``/Tags/1/Value``; empty for a DELETED one)."""
    reasons: list[str] = []
    for change in changes:
        if change.get("Type", "Resource") != "Resource":
            reasons.append(f"a change of type {change.get('Type')} is not a resource change")
            continue
        rc = change.get("ResourceChange", {})
        logical_id = rc.get("LogicalResourceId", "?")
        who = f"{logical_id} ({rc.get('ResourceType', '?')})"
        action = rc.get("Action", "?")
        if action not in SAFE_ACTIONS:
            verb = {"Add": "adds", "Remove": "removes", "Import": "imports"}.get(action, "changes")
            reasons.append(f"{who}: action {action} {verb} a resource")
        if rc.get("ResourceType") == NESTED_STACK:
            reasons.append(f"{who}: a nested stack, whose own drift this report does not show")
        replacement = rc.get("Replacement")
        if action in SAFE_ACTIONS and replacement not in (None, "False"):
            reasons.append(f"{who}: Replacement is {replacement} (the resource may be replaced)")
        if rc.get("PolicyAction"):
            reasons.append(f"{who}: destructive policy action {rc['PolicyAction']}")
        details = rc.get("Details", [])
        recreate = sorted(
            {
                _where(d)
                for d in details
                if d.get("Target", {}).get("RequiresRecreation") in ("Always", "Conditionally")
            }
        )
        if recreate and replacement in (None, "False"):
            reasons.append(f"{who}: {', '.join(recreate)} may require recreation")
        if logical_id not in drifted:
            reasons.append(f"{who}: not named in the drift report")
        elif action in SAFE_ACTIONS:
            reasons += _unexplained(who, details, drifted[logical_id])
    return (Risk.HIGH if reasons else Risk.LOW), reasons


def _unexplained(who: str, details: list[ChangeDetail], drift_paths: Collection[str]) -> list[str]:
    """Why the property changes of a Modify go beyond what drifted."""
    if not details:
        return [f"{who}: a Modify that names no property"]
    out: list[str] = []
    for detail in details:
        target = detail.get("Target", {})
        path = target.get("Path")
        if not path:
            out.append(f"{who}: changes {target.get('Attribute', 'something')} at no named path")
        elif not _explained(_property_path(path), drift_paths):
            out.append(f"{who}: {_property_path(path)} did not drift")
        if KNOWN_AFTER_APPLY in (target.get("AfterValue") or ""):
            out.append(f"{who}: {_where(detail)} is known only after applying")
    return out


def _property_path(path: str) -> str:
    """A change's ``/Properties/Tags`` as the drift report writes it: ``/Tags``."""
    return path.removeprefix("/Properties") or "/"


def _explained(path: str, drift_paths: Collection[str]) -> bool:
    """The path drifted: the drift report names it, a part of it, or a whole it is part of."""
    return any(
        d == path or d.startswith(path + "/") or path.startswith(d + "/") for d in drift_paths
    )


def _where(detail: ChangeDetail) -> str:
    target = detail.get("Target", {})
    return str(target.get("Path") or target.get("Name") or target.get("Attribute") or "?")
