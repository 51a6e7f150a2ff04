"""Deterministic names: the same execution always asks for the same change set, so a replay or a
retry finds the one it made instead of making another."""

from __future__ import annotations

import hashlib
import re


def change_set_name(prefix: str, execution_arn: str) -> str:
    """``{prefix}-{16 hex}``: valid ([a-zA-Z][-a-zA-Z0-9]*), ≤ 128 chars, one per execution."""
    digest = hashlib.sha256(execution_arn.encode()).hexdigest()[:16]
    return f"{prefix}-{digest}"


def execute_token(change_set: str) -> str:
    """The ClientRequestToken of the one execution of a change set."""
    return f"{change_set}-execute"


def execution_id(execution_arn: str) -> str:
    """The unique last part of a durable execution ARN (``…/durable-execution/NAME/ID``; the
    local runner separates with ``:``): short enough for an STS session name."""
    return re.split(r"[/:]", execution_arn)[-1]
