"""A thin adapter over SNS: publish a rendered message."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .models import Message

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient


def publish(sns: SNSClient, topic_arn: str, message: Message) -> str:
    """Publish to SNS with ``stack_name`` and ``outcome`` attributes for subscription filters."""
    response = sns.publish(
        TopicArn=topic_arn,
        Subject=message.subject,
        Message=message.body,
        MessageAttributes={
            key: {"DataType": "String", "StringValue": value}
            for key, value in message.attributes.items()
        },
    )
    return response.get("MessageId", "")
