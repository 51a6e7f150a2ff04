"""What the command line prints: section titles and the timeline of an execution."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def say(title: str, detail: str) -> None:
    print(f"\n== {title}" + (f": {detail}" if detail else ""))


def timeline(phases: Sequence[Any]) -> None:
    """Each phase with its start and duration on the (virtual) clock: waits cost nothing."""
    if not phases:
        return
    origin = min(p.started for p in phases if p.started)
    for phase in phases:
        if phase.started is None:
            continue
        start = (phase.started - origin).total_seconds()
        took = ((phase.ended or phase.started) - phase.started).total_seconds()
        polls = f"  ({phase.attempts} polls)" if phase.name.endswith("wait") else ""
        print(f"   t+{start:6.1f}s  {phase.name:28} {took:6.1f}s{polls}")
