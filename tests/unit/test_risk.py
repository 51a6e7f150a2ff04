"""The risk policy, with plain data."""

from __future__ import annotations

from typing import Any

import pytest

from drift_healer.models import Risk
from drift_healer.policy.risk import assess


def change(lid: str = "Param", action: str = "Modify", **extra: Any) -> dict[str, Any]:
    rc = {"LogicalResourceId": lid, "ResourceType": "AWS::SSM::Parameter", "Action": action}
    if action in ("Modify", "SyncWithActual"):
        rc["Replacement"] = "False"
    rc.update(extra)
    return {"Type": "Resource", "ResourceChange": rc}


def test_modify_without_replacement_of_a_reported_resource_is_low() -> None:
    assert assess([change(), change(action="SyncWithActual")], ["Param"]) == (Risk.LOW, [])


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
            change(Details=[{"Target": {"Name": "Name", "RequiresRecreation": "Always"}}]),
            "Name may require recreation",
        ),
        ({"Type": "Module"}, "not a resource change"),
    ],
)
def test_anything_else_is_high_with_its_reason(the_change: dict[str, Any], reason: str) -> None:
    level, reasons = assess([change(), the_change], ["Param"])
    assert level is Risk.HIGH
    assert any(reason in r for r in reasons), reasons


def test_every_reason_is_listed() -> None:
    level, reasons = assess(
        [change(lid="A", Replacement="True"), change(lid="B", action="Remove")], ["A"]
    )
    assert level is Risk.HIGH
    assert len(reasons) == 3  # A replacement; B removal; B not reported
