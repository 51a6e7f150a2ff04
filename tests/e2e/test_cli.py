"""The command line: the demo heals and verifies; heal --sandbox runs the same workflow with real
waits against the sandbox server."""

from __future__ import annotations

import json

import pytest

from drift_healer import aws
from drift_healer_cli.main import main


def test_demo_heals_and_verifies(capsys: pytest.CaptureFixture[str]) -> None:
    aws.reset()
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "Someone changes it by hand" in out
    # enrolment: the tag, the reconciler's schedule, and that schedule's event starts the heal
    assert "--tags Key=drift-healer,Value=enabled" in out
    assert "reconciler: 1 enrolled stack, 1 schedule created" in out
    assert '== 4. The schedule fires: its event starts the healer: {"StackName": "arn:aws:' in out
    assert "detect drift: wait" in out and "polls)" in out
    assert "Subject: [drift-healer] checkout: drift healed" in out
    assert 'expected "off", actual "on"' in out
    assert "stack drift status now IN_SYNC" in out
    assert "healed and verified." in out


def test_heal_against_the_sandbox_server_with_real_waits(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    aws.reset()
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("POLL_INITIAL_SECONDS", "1")
    assert main(["heal", "shop", "--sandbox", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "detect drift: start" in out  # progress shown while it waits
    result = json.loads(out[out.index("{\n") :])
    assert result["Outcome"] == "DRIFT_REPORTED"
    assert {r["LogicalResourceId"] for r in result["DriftedResources"]} == {
        "FeatureFlag",
        "Orders",
        "Alerts",
    }
