"""Metrics are emitted once per execution (not once per replay), in CloudWatch EMF."""

from __future__ import annotations

import json
from typing import Any

import pytest

from drift_healer import telemetry
from tests.support import Harness, outcomes


def emf_records(out: str) -> list[dict[str, Any]]:
    records = []
    for line in out.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            record = json.loads(line)
            if record["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "DriftHealer":
                records.append(record)
    return records


def test_a_heal_emits_one_metrics_record(
    harness: Harness, capfd: pytest.CaptureFixture[str]
) -> None:
    harness.stack()
    harness.drift()
    capfd.readouterr()
    assert harness.run({"StackName": "app"}).outcome == "HEALED"
    [record] = emf_records(capfd.readouterr().out)
    # EMF keeps each metric's values as a list
    assert (record["Heals"], record["DriftDetected"], record["ChangeSetsCreated"]) == (
        [1.0],
        [1.0],
        [1.0],
    )
    assert record["DriftedResources"] == [1.0]
    assert record["service"] == "drift-healer"
    assert "HealFailed" not in record


def test_a_failure_emits_heal_failed(harness: Harness, capfd: pytest.CaptureFixture[str]) -> None:
    capfd.readouterr()
    harness.run({"StackName": "ghost"})
    [record] = emf_records(capfd.readouterr().out)
    assert record["HealFailed"] == [1.0]
    assert record["outcome"] == "FAILED"


def test_residual_drift_is_counted(harness: Harness, capfd: pytest.CaptureFixture[str]) -> None:
    harness.stack()
    harness.drift()
    harness.drift_again_after_execution()
    capfd.readouterr()
    assert harness.run({"StackName": "app"}).outcome == "RESIDUAL_DRIFT"
    [record] = emf_records(capfd.readouterr().out)
    assert record["ResidualDrift"] == [1.0]


def test_a_metrics_failure_never_fails_the_heal(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.stack()
    harness.drift()

    def broken(*_: object) -> None:
        raise OSError("stdout closed")

    monkeypatch.setattr(telemetry, "record", broken)
    run = harness.run({"StackName": "app"})
    assert run.outcome == "HEALED"
    assert outcomes(run.notifications) == ["HEALED"]
