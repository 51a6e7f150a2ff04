"""What fits AWS's size limits, and what a failed drift detection still tells: plain data."""

from __future__ import annotations

import json

from drift_healer.policy import detection, limits


def resource(lid: str, differences: int, value_chars: int) -> dict[str, object]:
    return {
        "LogicalResourceId": lid,
        "PhysicalResourceId": f"/app/{lid}",
        "ResourceType": "AWS::SSM::Parameter",
        "StackResourceDriftStatus": "MODIFIED",
        "PropertyDifferences": [
            {
                "PropertyPath": f"/P{i}",
                "ExpectedValue": "e" * value_chars,
                "ActualValue": "a" * value_chars,
                "DifferenceType": "NOT_EQUAL",
            }
            for i in range(differences)
        ],
    }


def test_values_are_cut_with_a_marker() -> None:
    assert limits.cut("short") == "short"
    cut = limits.cut("x" * 1000)
    assert cut is not None and cut.startswith("x" * limits.VALUE_CHARS)
    assert cut.endswith("[744 more characters]")


def test_a_huge_drift_report_is_bounded_and_counts_what_it_leaves_out() -> None:
    report = [resource(f"R{i}", differences=30, value_chars=4096) for i in range(500)]
    bounded = limits.bound_drift(report)
    assert len(json.dumps(bounded, separators=(",", ":"))) <= limits.DRIFT_BYTES
    first = bounded[0]
    assert len(first["PropertyDifferences"]) == limits.DIFFERENCES_PER_RESOURCE
    assert first["OmittedDifferences"] == 30 - limits.DIFFERENCES_PER_RESOURCE
    assert all(len(d["ExpectedValue"]) < 300 for r in bounded for d in r["PropertyDifferences"])
    assert len(bounded) < 500  # the rest is counted by the caller (DriftedResourceCount)


def test_a_small_report_is_kept_whole() -> None:
    report = [resource("R", differences=2, value_chars=10)]
    assert limits.bound_drift(report) == [{**report[0], "OmittedDifferences": 0}]


def test_lists_and_names_count_what_they_leave_out() -> None:
    assert limits.bound_list(["a", "b", "c"], 2) == ["a", "b", "and 1 more"]
    assert limits.names([f"R{i}" for i in range(12)], 3) == "R0, R1, R2 and 9 more"


def test_a_json_detection_failure_names_the_unchecked_resources() -> None:
    reason = json.dumps(
        {
            "Summary": "Drift detection failed for 2 of 5 resources: Rate exceeded",
            "FailedResources": [
                {"LogicalResourceId": "Queue", "Reason": "Rate exceeded"},
                {"LogicalResourceId": "Topic", "Reason": "Rate exceeded"},
            ],
        }
    )
    unchecked = detection.unchecked(reason)
    assert unchecked.resources == ("Queue", "Topic")
    assert unchecked.describe() == (
        "Drift detection failed for 2 of 5 resources: Rate exceeded (not checked: Queue, Topic)"
    )


def test_a_text_detection_failure_is_read_too() -> None:
    unchecked = detection.unchecked("Failed to detect drift on resources [A, B]: Rate exceeded")
    assert unchecked.resources == ("A", "B")
    assert detection.unchecked("").summary == "no reason given"
    assert detection.unchecked("Internal error").resources == ()
