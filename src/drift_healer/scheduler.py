"""EventBridge Scheduler, as the reconciler uses it: list the group, write one schedule.

Writes are idempotent against retries and lost answers: a create that finds the schedule there
(ConflictException) and a delete that finds it gone (ResourceNotFoundException) have what they
wanted. Scheduler validates what it is given; its ValidationException says what is wrong.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from . import aws
from .records import ScheduleDefinition, ScheduleSummary

if TYPE_CHECKING:
    from mypy_boto3_scheduler import EventBridgeSchedulerClient


def list_schedules(client: EventBridgeSchedulerClient, group: str) -> list[ScheduleSummary]:
    """Every schedule of the group (100 a page)."""
    pages = client.get_paginator("list_schedules").paginate(
        GroupName=group, PaginationConfig={"PageSize": 100}
    )
    return [
        {"Name": s["Name"], "State": s.get("State", "ENABLED")}
        for page in pages
        for s in page["Schedules"]
    ]


def create(client: EventBridgeSchedulerClient, group: str, schedule: ScheduleDefinition) -> None:
    """Create; the name is the ClientToken, so a retried create is the same request."""
    try:
        client.create_schedule(GroupName=group, ClientToken=schedule["Name"], **_params(schedule))
    except ClientError as error:
        if aws.error_code(error) != "ConflictException":
            raise


def update(client: EventBridgeSchedulerClient, group: str, schedule: ScheduleDefinition) -> None:
    """Rewrite a schedule whole (UpdateSchedule replaces every field); one deleted meanwhile is
    created again."""
    try:
        client.update_schedule(GroupName=group, **_params(schedule))
    except ClientError as error:
        if aws.error_code(error) != "ResourceNotFoundException":
            raise
        create(client, group, schedule)


def delete(client: EventBridgeSchedulerClient, group: str, name: str) -> None:
    try:
        client.delete_schedule(GroupName=group, Name=name)
    except ClientError as error:
        if aws.error_code(error) != "ResourceNotFoundException":
            raise


def _params(schedule: ScheduleDefinition) -> Any:
    """The definition as boto3 keyword arguments (a TypedDict of the same shape)."""
    return dict(schedule)
