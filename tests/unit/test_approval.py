"""What an approval is bound to, with plain data."""

from __future__ import annotations

import json
from typing import Any

import pytest

from drift_healer import executions
from drift_healer.policy import approval
from drift_healer.records import Change, Recheck, Review

CHANGES: list[Change] = [
    {"LogicalResourceId": "Flag", "Action": "Modify", "Replacement": "False"},
    {"LogicalResourceId": "Queue", "Action": "Modify", "Replacement": "False"},
]
REVIEW: Review = {
    "Fingerprint": approval.fingerprint(CHANGES),
    "LastUpdated": "2026-12-01T10:00:00+00:00",
    "Deadline": "2026-12-04T10:00:00+00:00",
}
NOW: Recheck = {
    "Status": "CREATE_COMPLETE",
    "ExecutionStatus": "AVAILABLE",
    "Fingerprint": REVIEW["Fingerprint"],
    "LastUpdated": REVIEW["LastUpdated"],
    "Others": [],
}


def test_the_fingerprint_is_stable_and_sees_every_change() -> None:
    assert approval.fingerprint(CHANGES) == approval.fingerprint([dict(c) for c in CHANGES])  # type: ignore[misc]
    assert approval.fingerprint(CHANGES) != approval.fingerprint(CHANGES[:1])
    replaced: list[Change] = [{**CHANGES[0], "Replacement": "True"}, CHANGES[1]]
    assert approval.fingerprint(replaced) != approval.fingerprint(CHANGES)
    assert approval.fingerprint(CHANGES).startswith("sha256:")


def test_exactly_what_was_reviewed_is_still_approved() -> None:
    assert approval.still_approved(REVIEW, NOW) is None


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"ExecutionStatus": "OBSOLETE"}, "no longer available (CREATE_COMPLETE/OBSOLETE)"),
        ({"Status": "DELETE_COMPLETE"}, "no longer available"),
        ({"Fingerprint": "sha256:other"}, "not the ones reviewed"),
        ({"LastUpdated": "2026-12-02T00:00:00+00:00"}, "updated since it was reviewed"),
        ({"Others": ["release-42"]}, "other change sets appeared on the stack: release-42"),
    ],
)
def test_anything_different_is_not_approved(change: dict[str, Any], why: str) -> None:
    assert why in str(approval.still_approved(REVIEW, {**NOW, **change}))  # type: ignore[typeddict-item]


@pytest.mark.parametrize(
    ("payload", "message", "expected"),
    [
        ('{"Approver": "ana", "Ticket": "CHG-1"}', "", {"Approver": "ana", "Ticket": "CHG-1"}),
        (b'{"Approver": "ana"}', "", {"Approver": "ana"}),
        ({"Approver": "bob", "Role": "admin"}, "no", {"Approver": "bob", "Comment": "no"}),
        (
            "not json",
            "",
            {"Approver": "unknown (the answer named no Approver)", "Comment": "not json"},
        ),
        (None, "", {"Approver": "unknown (the answer named no Approver)"}),
        (
            {"Approver": "bob", "Comment": "  "},
            "too risky",
            {"Approver": "bob", "Comment": "too risky"},
        ),
        (
            {"Approver": " \n ", "Ticket": ""},
            "",
            {"Approver": "unknown (the answer named no Approver)"},
        ),
        (
            {"Approver": "x\n" * 500, "Comment": "y" * 1001},
            "",
            {
                "Approver": "x " * 100 + "… [799 more characters]",
                "Comment": "y" * 1000 + "… [1 more characters]",
            },
        ),
    ],
)
def test_the_answer_is_read_bounded_and_on_one_line(
    payload: Any, message: str, expected: dict[str, str]
) -> None:
    assert approval.decision(payload, message) == expected


def test_a_secret_pasted_into_an_answer_is_masked() -> None:
    """The answer goes into the result, the email and a change record kept for years."""
    said = approval.decision(
        {"Approver": "ana", "Ticket": "CHG-1", "Comment": "ok, key AKIAIOSFODNN7EXAMPLE"}
    )
    assert "AKIAIOSFODNN7EXAMPLE" not in json.dumps(said)
    assert said["Comment"].startswith("ok, key ") and said["Ticket"] == "CHG-1"


def test_a_review_the_history_holds_cut_is_no_review() -> None:
    """The service cuts a large step result in the history (Truncated): the page must not show
    half a plan, so the review reads as none (502 on the page), even when what is left reads
    as a record."""
    whole = executions._SERDES.serialize({"Fingerprint": "sha256:0"})
    assert executions._review({"Payload": whole}) == {"Fingerprint": "sha256:0"}
    events = iter(
        [
            {
                "EventType": "CallbackStarted",
                "Name": executions.APPROVAL,
                "Id": "op-1",
                "CallbackStartedDetails": {"CallbackId": "cb-1"},
            },
            {
                "EventType": "StepSucceeded",
                "Name": executions.REVIEW_STEP,
                "StepSucceededDetails": {"Result": {"Truncated": True, "Payload": whole}},
            },
        ]
    )
    assert executions._pending(events) == ("cb-1", None)
