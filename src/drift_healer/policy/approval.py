"""Approval: what a person approves, and whether it is still that when the answer arrives.

A change set can change meaning between review and execution (CloudFormation re-reads live
state, someone updates the stack or adds a change set), so an approval is bound to a fingerprint
of the Changes as they were read, and to the stack's last update; anything different, and the
approved change is not executed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from ..records import Change, Recheck, Review
from ..redact import redact_text
from . import limits


def fingerprint(changes: Sequence[Change]) -> str:
    """A short, stable hash of the Changes: what the reviewer saw, in the order AWS lists it."""
    canonical = json.dumps(list(changes), sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()[:32]


def still_approved(review: Review, now: Recheck) -> str | None:
    """Why the approved change must not run, or None when it is exactly what was reviewed."""
    return unchanged(review["Fingerprint"], review["LastUpdated"], now, "reviewed")


def unchanged(fingerprint: str, last_updated: str, now: Recheck, as_: str) -> str | None:
    """Why a change set must not run after a wait (a person's review, a change window), or None
    when it is exactly what was ``as_`` (reviewed, decided on): still available, the same
    changes, the stack not updated since, and no other change set on it."""
    if now["Status"] != "CREATE_COMPLETE" or now["ExecutionStatus"] != "AVAILABLE":
        return f"the change set is no longer available ({now['Status']}/{now['ExecutionStatus']})"
    if now["Fingerprint"] != fingerprint:
        return (
            f"its changes are not the ones {as_} (fingerprint {now['Fingerprint']}, {as_} "
            f"{fingerprint})"
        )
    if now["LastUpdated"] != last_updated:
        return f"the stack was updated since it was {as_} (at {now['LastUpdated']})"
    if now["Others"]:
        return f"other change sets appeared on the stack: {', '.join(now['Others'][:10])}"
    return None


#: The most of each field an answer keeps, and the review page asks for: a name, a change
#: ticket's id, a few sentences. More is cut with a marker saying so, never silently.
FIELD_LIMITS = {"Approver": 200, "Ticket": 100, "Comment": 1000}


def decision(payload: Any, message: str = "") -> dict[str, str]:
    """The approver's document, redacted and bounded (FIELD_LIMITS): Approver, Ticket and Comment (a
    rejection's ErrorMessage is its comment unless the document has one). Anything else is
    ignored. Whoever answers writes into the result, the email and a change record kept for
    years: a secret pasted into a comment is masked like any other."""
    if isinstance(payload, (str, bytes)):
        try:
            payload = json.loads(payload or "{}")
        except ValueError:
            payload = {"Comment": payload if isinstance(payload, str) else payload.decode()}
    if not isinstance(payload, dict):
        payload = {}
    if message and not str(payload.get("Comment") or "").strip():
        payload = {**payload, "Comment": message}
    said = {
        key: " ".join(str(payload[key]).split())
        for key in FIELD_LIMITS
        if payload.get(key) is not None
    }
    out = {
        key: limits.cut(redact_text(text), FIELD_LIMITS[key]) or ""
        for key, text in said.items()
        if text
    }
    out.setdefault("Approver", "unknown (the answer named no Approver)")
    return out
