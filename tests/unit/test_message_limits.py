"""The message fits SNS: a subject of fewer than 100 characters, a body well under 256 KB."""

from __future__ import annotations

from drift_healer.models import DriftedResource, HealResult, Outcome
from drift_healer.render import BODY_BYTES, render

STACK_ARN = (
    "arn:aws:cloudformation:eu-central-1:123456789012:stack/"
    + "payments-" * 13
    + "api/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
)


def test_a_stack_arn_makes_a_short_subject_with_the_stack_name() -> None:
    message = render(
        HealResult(stack_name=STACK_ARN, outcome=Outcome.HEALED, reason="ok"), "eu-central-1"
    )
    assert len(message.subject) < 100
    assert message.subject.startswith("[drift-healer] payments-payments-")
    assert "arn:" not in message.subject


def test_the_longest_stack_name_is_cut_to_fit() -> None:
    result = HealResult(stack_name="a" * 128, outcome=Outcome.FAILED, reason="x")
    subject = render(result, "us-east-1").subject
    assert len(subject) == 99 and subject.endswith("…")


def test_a_body_too_large_for_sns_is_cut_at_a_line_and_says_where_the_rest_is() -> None:
    resources = [
        DriftedResource(
            logical_resource_id=f"Resource{i}",
            resource_type="AWS::SSM::Parameter",
            stack_resource_drift_status="MODIFIED",
            property_differences=[
                {
                    "PropertyPath": "/Value",
                    "ExpectedValue": "e" * 256,
                    "ActualValue": "a" * 256,
                    "DifferenceType": "NOT_EQUAL",
                }
            ],
        )
        for i in range(1000)
    ]
    result = HealResult(
        stack_name="app",
        stack_id=STACK_ARN,
        outcome=Outcome.DRIFT_REPORTED,
        reason="1000 resources drifted (dry run)",
        drifted_resources=resources,
        drifted_resource_count=1000,
    )
    body = render(result, "eu-central-1").body
    assert len(body.encode()) <= BODY_BYTES
    assert body.endswith(
        "#/stacks/drifts?stackId=" + STACK_ARN.replace(":", "%3A").replace("/", "%2F") + "\n"
    )
    assert "the message was cut to fit SNS's size limit" in body


def test_left_out_resources_and_differences_are_counted() -> None:
    result = HealResult(
        stack_name="app",
        outcome=Outcome.DRIFT_REPORTED,
        reason="r",
        drifted_resources=[
            DriftedResource(
                logical_resource_id="Queue",
                resource_type="AWS::SQS::Queue",
                stack_resource_drift_status="MODIFIED",
                omitted_differences=3,
            )
        ],
        drifted_resource_count=7,
    )
    body = render(result, "us-east-1").body
    assert "Drifted resources (7):" in body
    assert "and 3 more differences" in body
    assert "and 6 more resources" in body
