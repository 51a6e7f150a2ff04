"""Deterministic names: the same execution always asks for the same change set, so a replay or a
retry finds the one it made instead of making another."""

from __future__ import annotations

import hashlib
import re

_EXECUTION_ID = re.compile(r"/durable-execution/[^/]+/([^/]+)$")


def change_set_name(prefix: str, execution_arn: str) -> str:
    """``{prefix}-{16 hex}``: valid ([a-zA-Z][-a-zA-Z0-9]*), ≤ 128 chars, one per execution."""
    digest = hashlib.sha256(execution_arn.encode()).hexdigest()[:16]
    return f"{prefix}-{digest}"


def execute_token(change_set: str) -> str:
    """The ClientRequestToken of the one execution of a change set."""
    return f"{change_set}-execute"


def execution_id(execution_arn: str) -> str:
    """What names this execution in an STS session name: the ID of an ARN of the form
    ``…/durable-execution/NAME/ID``; for any other form (the local runner's), a digest of the
    whole ARN. Unique per execution either way, and short."""
    match = _EXECUTION_ID.search(execution_arn)
    if match:
        return match.group(1)
    return hashlib.sha256(execution_arn.encode()).hexdigest()[:16]
