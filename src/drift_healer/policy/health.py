"""Health gates: no change while monitoring is alarming or blind ("no metrics, no changes"), and a
change that makes an alarm go off is told loudly.

Pure: CloudWatch alarm states in (name -> OK, ALARM or INSUFFICIENT_DATA; a named alarm that does
not exist counts as INSUFFICIENT_DATA: nothing watches), verdicts out.
"""

from __future__ import annotations

from collections.abc import Mapping

OK = "OK"
ALARM = "ALARM"
INSUFFICIENT_DATA = "INSUFFICIENT_DATA"
#: A stack's own alarms: comma-separated names, watched on top of the change policy's.
ALARMS_TAG = "drift-healer:alarms"


def watched(names: tuple[str, ...], tags: Mapping[str, str]) -> tuple[str, ...]:
    """The alarm names a stack's heal watches: the policy's and its tag's, each once."""
    tagged = (n.strip() for n in tags.get(ALARMS_TAG, "").split(","))
    return tuple(dict.fromkeys([*names, *(n for n in tagged if n)]))


def blocking(states: Mapping[str, str], insufficient_data: str) -> list[str]:
    """The alarms that forbid a change now, each with its state: any in ALARM, and any without
    data unless ``insufficient_data`` is "allow"."""
    return [
        f"{name} ({state})"
        for name, state in sorted(states.items())
        if state == ALARM or (state != OK and insufficient_data != "allow")
    ]


def regressions(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """The alarms that were OK before the change and are not after the bake time."""
    return [
        f"{name} ({after.get(name, INSUFFICIENT_DATA)})"
        for name, state in sorted(before.items())
        if state == OK and after.get(name, INSUFFICIENT_DATA) != OK
    ]
