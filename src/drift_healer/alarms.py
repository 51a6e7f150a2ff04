"""CloudWatch alarm states for the health gates (a thin adapter, I/O only)."""

from __future__ import annotations

from typing import Any

#: DescribeAlarms takes at most 100 names per call.
_NAMES_PER_CALL = 100


def states(client: Any, names: tuple[str, ...], prefix: str | None) -> dict[str, str]:
    """Name -> StateValue of the named alarms and of those whose name starts with ``prefix``
    (metric and composite alarms, every page). A named alarm that does not exist is reported as
    INSUFFICIENT_DATA: nothing watches what it should."""
    found: dict[str, str] = {}
    requests: list[dict[str, Any]] = [
        {"AlarmNames": list(names[i : i + _NAMES_PER_CALL])}
        for i in range(0, len(names), _NAMES_PER_CALL)
    ]
    if prefix:
        requests.append({"AlarmNamePrefix": prefix})
    paginator = client.get_paginator("describe_alarms")
    for request in requests:
        for page in paginator.paginate(AlarmTypes=["MetricAlarm", "CompositeAlarm"], **request):
            for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
                found[alarm["AlarmName"]] = alarm["StateValue"]
    for name in names:
        found.setdefault(name, "INSUFFICIENT_DATA")
    return found
