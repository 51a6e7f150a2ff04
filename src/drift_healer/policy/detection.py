"""What a failed drift detection still tells.

DETECTION_FAILED means CloudFormation checked some resources and not others: the results of the
ones it checked stand, the rest is unknown. The status reason names what failed; AWS documents it
as free text and it has been seen as a JSON document (a summary and per-resource failures), so
both are read, and anything unrecognised is kept whole as the summary. The safe reading: a
partial detection never lets a change set execute unattended.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_LISTED = re.compile(r"resources?\s*\[([^\]]*)\]", re.IGNORECASE)
_ID_KEYS = ("LogicalResourceId", "LogicalId", "ResourceId", "logicalResourceId")
_SUMMARY_KEYS = ("Summary", "summary", "Message", "message", "Reason", "reason")


@dataclass(frozen=True)
class Unchecked:
    """Why a detection failed, and which resources it could not check (if it said)."""

    summary: str
    resources: tuple[str, ...]

    def describe(self, limit: int = 10) -> str:
        """The summary (cut to 500 characters) and the first ``limit`` unchecked resources."""
        summary = self.summary if len(self.summary) <= 500 else self.summary[:500] + "…"
        if not self.resources:
            return summary
        shown = ", ".join(self.resources[:limit])
        more = len(self.resources) - limit
        return f"{summary} (not checked: {shown}{f' and {more} more' if more > 0 else ''})"


def unchecked(reason: str) -> Unchecked:
    """Read a DETECTION_FAILED status reason."""
    reason = reason.strip() or "no reason given"
    try:
        document: Any = json.loads(reason)
    except ValueError:
        document = None
    if isinstance(document, dict):
        summary = next(
            (str(document[k]) for k in _SUMMARY_KEYS if isinstance(document.get(k), str)),
            "drift detection failed for some resources",
        )
        return Unchecked(summary, tuple(_logical_ids(document)))
    match = _LISTED.search(reason)
    names = [n.strip() for n in match.group(1).split(",") if n.strip()] if match else []
    return Unchecked(reason, tuple(names))


def _logical_ids(node: Any) -> list[str]:
    """Every logical id named anywhere in the document, in order, once."""
    found: list[str] = []
    if isinstance(node, dict):
        for key in _ID_KEYS:
            if isinstance(node.get(key), str) and node[key] not in found:
                found.append(node[key])
        for value in node.values():
            found += [n for n in _logical_ids(value) if n not in found]
    elif isinstance(node, list):
        for item in node:
            found += [n for n in _logical_ids(item) if n not in found]
    return found
