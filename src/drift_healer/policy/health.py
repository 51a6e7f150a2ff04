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
#: Alarms a checkpoint, the result and the message show at most, those not OK first: a prefix
#: may match thousands, and a checkpoint holds 256 KB.
SHOWN = 50


def watched(names: tuple[str, ...], tags: Mapping[str, str]) -> tuple[str, ...]:
    """The alarm names a stack's heal watches: the policy's and its tag's, each once."""
    tagged = (n.strip() for n in tags.get(ALARMS_TAG, "").split(","))
    return tuple(dict.fromkeys([*names, *(n for n in tagged if n)]))


def read(states: Mapping[str, str], prefix: str | None) -> dict[str, str]:
    """The alarm states as the gate judges them: a prefix that matches no alarm (a typo, alarms
    not made yet) counts as one alarm without data, ``<prefix>*``: nothing watches what it
    names, and "no metrics, no changes" holds for it as for a named alarm that does not exist."""
    found = dict(states)
    if prefix and not any(name.startswith(prefix) for name in found):
        found[f"{prefix}*"] = INSUFFICIENT_DATA
    return found


def shown(states: Mapping[str, str]) -> dict[str, str]:
    """At most SHOWN of the states, every alarm not OK first (then the OK ones, by name)."""
    ordered = sorted(states.items(), key=lambda item: (item[1] == OK, item[0]))
    return dict(ordered[:SHOWN])


def blocking(states: Mapping[str, str], insufficient_data: str) -> list[str]:
    """The alarms that forbid a change now, each with its state: any in ALARM, and any without
    data unless ``insufficient_data`` is "allow"."""
    return [
        f"{name} ({state})"
        for name, state in sorted(states.items())
        if state == ALARM or (state != OK and insufficient_data != "allow")
    ]


def regressions(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """The alarms that were OK before the change and are not after the bake time (one gone
    since counts as without data). ``before`` may be ``shown``: an alarm it leaves out was OK
    (it lists every alarm not OK first, unless more than SHOWN were, which only InsufficientData
    "allow" lets through; then a few still without data may be told as regressions, as may an
    alarm made during the bake time: the safe side)."""
    told = []
    for name in sorted({*before, *after}):
        state = after.get(name, INSUFFICIENT_DATA)
        if state != OK and before.get(name, OK) == OK:
            told.append(f"{name} ({state})")
    return told
