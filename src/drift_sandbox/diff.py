"""Property differences, computed the way CloudFormation reports them.

Only properties the template sets are compared. Scalars compare by their string form (the template's
``30`` equals the API's ``"30"``). Tag lists compare as sets keyed by ``Key``; other lists by index;
objects key by key. Paths and difference types follow ``DescribeStackResourceDrifts``:
``/Tags/1/Value`` NOT_EQUAL, ``/Tags/2`` ADD, ``/Description`` REMOVE.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

Difference = dict[str, Any]


def render(value: Any) -> str:
    """A property value as CloudFormation prints it: scalars bare, objects as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)


def same(expected: Any, actual: Any) -> bool:
    """Whether a live value matches its template value."""
    return not _diff("", expected, actual)


def property_differences(
    expected: Mapping[str, Any], actual: Mapping[str, Any]
) -> list[Difference]:
    """The differences of every template-set property from its live value."""
    out: list[Difference] = []
    for name in sorted(expected):
        path = f"/{name}"
        if name not in actual:
            out.append(_difference(path, expected[name], None, "REMOVE"))
        else:
            out.extend(_diff(path, expected[name], actual[name]))
    return out


def _difference(path: str, expected: Any, actual: Any, kind: str) -> Difference:
    return {
        "PropertyPath": path,
        "ExpectedValue": None if expected is None else render(expected),
        "ActualValue": None if actual is None else render(actual),
        "DifferenceType": kind,
    }


def _is_tag_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(t, dict) and "Key" in t for t in value)


def _diff(path: str, expected: Any, actual: Any) -> list[Difference]:
    if isinstance(expected, dict) and isinstance(actual, dict):
        out: list[Difference] = []
        for key in sorted(set(expected) | set(actual)):
            sub = f"{path}/{key}"
            if key not in actual:
                out.append(_difference(sub, expected[key], None, "REMOVE"))
            elif key not in expected:
                out.append(_difference(sub, None, actual[key], "ADD"))
            else:
                out.extend(_diff(sub, expected[key], actual[key]))
        return out
    if _is_tag_list(expected) and _is_tag_list(actual):
        return _diff_tags(path, expected, actual)
    if isinstance(expected, list) and isinstance(actual, list):
        out = []
        for i in range(max(len(expected), len(actual))):
            sub = f"{path}/{i}"
            if i >= len(actual):
                out.append(_difference(sub, expected[i], None, "REMOVE"))
            elif i >= len(expected):
                out.append(_difference(sub, None, actual[i], "ADD"))
            else:
                out.extend(_diff(sub, expected[i], actual[i]))
        return out
    if render(expected) != render(actual):
        return [_difference(path, expected, actual, "NOT_EQUAL")]
    return []


def _diff_tags(path: str, expected: list[Any], actual: list[Any]) -> list[Difference]:
    live = {t["Key"]: (i, t) for i, t in enumerate(actual) if not str(t["Key"]).startswith("aws:")}
    out: list[Difference] = []
    for i, tag in enumerate(expected):
        if tag["Key"] not in live:
            out.append(_difference(f"{path}/{i}", tag, None, "REMOVE"))
            continue
        _, current = live.pop(tag["Key"])
        if render(tag.get("Value")) != render(current.get("Value")):
            out.append(
                _difference(
                    f"{path}/{i}/Value", tag.get("Value"), current.get("Value"), "NOT_EQUAL"
                )
            )
    for index, tag in sorted(live.values(), key=lambda item: item[0]):
        out.append(_difference(f"{path}/{index}", None, tag, "ADD"))
    return out
