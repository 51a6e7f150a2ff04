"""The result model, redaction and the renderer, with plain data (the event: test_events)."""

from __future__ import annotations

from drift_healer.models import (
    ChangeSetInfo,
    DriftedResource,
    HealResult,
    Outcome,
    Risk,
)
from drift_healer.render import change_set_url, drift_url, render

STACK = "arn:aws:cloudformation:us-east-1:123456789012:stack/app/1111"
CHANGE_SET = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/drift-heal-1/2222"


def test_console_links_encode_both_arns_and_follow_the_partition() -> None:
    url = change_set_url("us-east-1", STACK, CHANGE_SET)
    assert url.startswith(
        "https://us-east-1.console.aws.amazon.com/cloudformation/home?region=us-east-1#/stacks/changesets/changes?stackId=arn%3Aaws%3Acloudformation"
    )
    assert (
        "changeSetId=arn%3Aaws%3Acloudformation%3Aus-east-1%3A123456789012%3AchangeSet%2Fdrift-heal-1%2F2222"
        in url
    )
    gov = drift_url("us-gov-west-1", STACK.replace("arn:aws:", "arn:aws-us-gov:"))
    assert gov.startswith(
        "https://console.amazonaws-us-gov.com/cloudformation/home?region=us-gov-west-1#/stacks/drifts?stackId="
    )
    assert drift_url("cn-north-1", STACK.replace("arn:aws:", "arn:aws-cn:")).startswith(
        "https://console.amazonaws.cn/"
    )


def test_rendered_message_is_actionable_and_subject_short() -> None:
    result = HealResult(
        stack_name="a" * 120,
        stack_id=STACK,
        outcome=Outcome.CHANGE_SET_CREATED,
        reason="not executed: HIGH risk",
        drifted_resources=[
            DriftedResource.model_validate(
                {
                    "LogicalResourceId": "Queue",
                    "ResourceType": "AWS::SQS::Queue",
                    "StackResourceDriftStatus": "MODIFIED",
                    "PropertyDifferences": [
                        {
                            "PropertyPath": "/VisibilityTimeout",
                            "ExpectedValue": "30",
                            "ActualValue": "99",
                            "DifferenceType": "NOT_EQUAL",
                        }
                    ],
                }
            )
        ],
        change_set=ChangeSetInfo(
            id=CHANGE_SET,
            name="drift-heal-1",
            url="https://review",
            risk=Risk.HIGH,
            risk_reasons=["Queue: Replacement is True"],
        ),
    )
    message = render(result, "us-east-1")
    assert len(message.subject) < 100  # SNS: "less than 100 characters"
    assert message.attributes == {"stack_name": "a" * 120, "outcome": "CHANGE_SET_CREATED"}
    body = message.body
    assert '/VisibilityTimeout: expected "30", actual "99"' in body
    assert "Risk:       HIGH" in body and "Queue: Replacement is True" in body
    assert "https://review" in body
    assert (
        f"aws cloudformation execute-change-set --region us-east-1 --change-set-name '{CHANGE_SET}'"
        in body
    )
    assert (
        f"aws cloudformation delete-change-set --region us-east-1 --change-set-name '{CHANGE_SET}'"
        in body
    )
