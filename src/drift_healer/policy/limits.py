"""What fits: AWS's size limits, respected before a value is checkpointed or sent.

A durable checkpoint holds at most 256 KB, an SNS message 256 KB, a subject fewer than 100
characters. A stack with hundreds of drifted resources with large values (policies, state
machine definitions) would exceed them, so what is kept is what people need: every count, the
first differences of each resource, values cut with a marker, and the console link for the rest.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..records import DriftRecord

#: Characters kept of one property value.
VALUE_CHARS = 256
#: Property differences kept per resource (the rest are counted).
DIFFERENCES_PER_RESOURCE = 10
#: Bytes (as JSON) the drifted resources may take in a checkpoint and in the result: with the
#: rest of the result, well under the 256 KB a checkpoint may hold.
DRIFT_BYTES = 96 * 1024
#: Risk reasons kept (the rest are counted).
REASONS = 25
#: Names listed in a sentence (the rest are counted).
NAMES = 10


def cut(value: str | None, limit: int = VALUE_CHARS) -> str | None:
    """The value, or its first ``limit`` characters and a marker saying how much was cut."""
    if value is None or len(value) <= limit:
        return value
    return f"{value[:limit]}… [{len(value) - limit} more characters]"


def bound_drift(resources: Sequence[DriftRecord]) -> list[DriftRecord]:
    """The drifted resources as they may be checkpointed: values cut, at most
    DIFFERENCES_PER_RESOURCE differences each (``OmittedDifferences`` counts the rest), and
    resources beyond DRIFT_BYTES kept without differences, then left out (the total is kept
    beside them)."""
    out: list[DriftRecord] = []
    used = 0
    for resource in resources:
        differences = resource.get("PropertyDifferences", [])
        kept = [
            {
                **d,
                "ExpectedValue": cut(d.get("ExpectedValue")),
                "ActualValue": cut(d.get("ActualValue")),
            }
            for d in differences[:DIFFERENCES_PER_RESOURCE]
        ]
        entry = {
            **resource,
            "PropertyDifferences": kept,
            "OmittedDifferences": resource.get("OmittedDifferences", 0)
            + len(differences)
            - len(kept),
        }
        size = _size(entry)
        if used + size > DRIFT_BYTES:
            entry = {
                **entry,
                "PropertyDifferences": [],
                "OmittedDifferences": entry["OmittedDifferences"] + len(kept),
            }
            size = _size(entry)
            if used + size > DRIFT_BYTES:
                break
        out.append(entry)
        used += size
    return out


def bound_list(items: Sequence[str], limit: int = REASONS) -> list[str]:
    """The first ``limit`` items, and one more that counts the rest."""
    if len(items) <= limit:
        return list(items)
    return [*items[:limit], f"and {len(items) - limit} more"]


def names(items: Sequence[str], limit: int = NAMES) -> str:
    """``a, b, c and 7 more``: a list for a sentence."""
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode())
