"""The risk policy, with plain data."""

from __future__ import annotations

from typing import Any

import pytest

from drift_healer.models import Risk
from drift_healer.policy.risk import assess

DRIFTED = {"Param": ["/Value"], "Queue": ["/Tags/1/Value", "/VisibilityTimeout"]}


def detail(path: str | None = "/Properties/Value", **target: Any) -> dict[str, Any]:
    if path is not None:
        target["Path"] = path
    target.setdefault("Attribute", "Properties")
    return {"Target": target, "Evaluation": "Static", "ChangeSource": "DirectModification"}


def change(
    lid: str = "Param", action: str = "Modify", details: list[Any] | None = None, **extra: Any
) -> dict[str, Any]:
    rc: dict[str, Any] = {
        "LogicalResourceId": lid,
        "ResourceType": "AWS::SSM::Parameter",
        "Action": action,
        "Details": [detail()] if details is None else details,
    }
    if action in ("Modify", "SyncWithActual"):
        rc["Replacement"] = "False"
    rc.update(extra)
    return {"Type": "Resource", "ResourceChange": rc}


def test_modify_of_exactly_what_drifted_is_low() -> None:
    tags = change("Queue", details=[detail("/Properties/Tags", Attribute="Tags")])
    timeout = change("Queue", details=[detail("/Properties/VisibilityTimeout")])
    assert assess([change(), change(action="SyncWithActual"), tags, timeout], DRIFTED) == (
        Risk.LOW,
        [],
    )


@pytest.mark.parametrize(
    ("the_change", "reason"),
    [
        (change(action="Add"), "action Add adds a resource"),
        (change(action="Remove"), "action Remove removes a resource"),
        (change(action="Import"), "action Import"),
        (change(action="Dynamic"), "action Dynamic"),
        (change(Replacement="True"), "Replacement is True"),
        (change(Replacement="Conditional"), "Replacement is Conditional"),
        (change(PolicyAction="Delete"), "destructive policy action Delete"),
        (change(PolicyAction="Retain"), "destructive policy action Retain"),
        (change(lid="Bucket"), "not named in the drift report"),
        (
            change(details=[detail("/Properties/Name", RequiresRecreation="Always")]),
            "/Properties/Name may require recreation",
        ),
        ({"Type": "Module"}, "not a resource change"),
        # per property: a Modify is LOW only where the drift report explains it
        (change(details=[detail("/Properties/Description")]), "/Description did not drift"),
        (change("Queue", details=[detail("/Properties/DelaySeconds")]), "did not drift"),
        (change(details=[detail(None)]), "at no named path"),
        (change(details=[]), "a Modify that names no property"),
        (
            change(details=[detail(AfterValue="{{changeSet:KNOWN_AFTER_APPLY}}")]),
            "known only after applying",
        ),
        (change(ResourceType="AWS::CloudFormation::Stack"), "a nested stack"),
    ],
)
def test_anything_else_is_high_with_its_reason(the_change: dict[str, Any], reason: str) -> None:
    level, reasons = assess([change(), the_change], DRIFTED)  # type: ignore[list-item]
    assert level is Risk.HIGH
    assert any(reason in r for r in reasons), reasons


def test_every_reason_is_listed() -> None:
    level, reasons = assess(
        [change(lid="A", Replacement="True"), change(lid="B", action="Remove")],
        {"A": ["/Value"]},
    )
    assert level is Risk.HIGH
    assert len(reasons) == 3  # A replacement; B removal; B not reported
