"""EventBridge Scheduler's schedules as its API reference has them, over moto's scheduler backend.

moto keeps the schedule groups and their schedules; these handlers, installed over moto's, answer
as the reference (https://docs.aws.amazon.com/scheduler/latest/APIReference/) and botocore's model
say, where moto does not:

- CreateSchedule in a group that does not exist: ResourceNotFoundException (moto: a KeyError).
- ConflictException is HTTP 409 (moto: 400); CreateScheduleGroup on a name in use is one too
  (moto replaced the group, and its schedules were gone).
- Names (and group names, name prefixes) are 1 to 64 of ``[0-9a-zA-Z-_.]``, else
  ValidationException (moto took any, and kept ``a b`` as ``a%20b``).
- ValidationException for a malformed ScheduleExpression (at/rate/cron), an unknown
  ScheduleExpressionTimezone, a FLEXIBLE window without MaximumWindowInMinutes, a RoleArn or
  dead-letter ARN of the wrong form, a RetryPolicy, window or Description out of bounds.
- UpdateSchedule sets every field from the request, so an omitted State is ENABLED again
  (https://docs.aws.amazon.com/scheduler/latest/APIReference/API_UpdateSchedule.html; moto: null).
- ListSchedules: MaxResults 1 to 100, a group filter naming no group is ResourceNotFoundException,
  items are ScheduleSummary only, and NextToken is a cursor on (group, name) in that order: a
  schedule created or deleted between pages does not break the listing (moto's token names the
  next item and fails "Resource not found!" once someone deletes that one).
- DeleteScheduleGroup of a group that does not exist: ResourceNotFoundException (moto: KeyError).
  Deleting a group deletes its schedules, as AWS does (eventually; here at once).

Scheduler never fires in moto: :func:`scheduled_input` is what a schedule would hand its target.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
import zoneinfo
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from moto.core.exceptions import JsonRESTError
from moto.scheduler.exceptions import ScheduleGroupNotFound, ScheduleNotFound
from moto.scheduler.models import EventBridgeSchedulerBackend, Schedule, scheduler_backends
from moto.scheduler.responses import EventBridgeSchedulerResponse

#: What moto answers when MaxResults is not given (the reference names no default).
DEFAULT_MAX_RESULTS = 50

_NAME = re.compile(r"[0-9a-zA-Z\-_.]{1,64}")
_NAME_PATTERN = "[0-9a-zA-Z-_.]+"
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+")
_QUEUE_ARN = re.compile(r"arn:aws[a-z-]*:sqs:[a-z0-9\-]+:\d{12}:[a-zA-Z0-9\-_]+")
_AT = re.compile(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)")
_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_CRON = re.compile(r"cron\(([^()]+)\)")
#: Each cron field: its name, the range of its values, the wildcards it takes, whether names
#: (JAN, MON) may stand for values. https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#cron-based
_CRON_FIELDS = (
    ("minutes", 0, 59, ",-*/", False),
    ("hours", 0, 23, ",-*/", False),
    ("day-of-month", 1, 31, ",-*?/LW", False),
    ("month", 1, 12, ",-*/", True),
    ("day-of-week", 1, 7, ",-*?L#/", True),
    ("year", 1970, 2199, ",-*/", False),
)


class ValidationException(JsonRESTError):
    """A request the model's constraints refuse (HTTP 400)."""

    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("ValidationException", message)


class ConflictException(JsonRESTError):
    """A name in use; HTTP 409, as the model has it (moto's own answers 400)."""

    code = 409

    def __init__(self, message: str) -> None:
        super().__init__("ConflictException", message)


def _constraint(field: str, value: Any, constraint: str) -> ValidationException:
    """AWS's wording of a request that breaks its model's constraints."""
    return ValidationException(
        f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
        f"constraint: {constraint}"
    )


# ------------------------------------------------------------------------------ validation
def _check_name(field: str, value: str | None, required: bool = True) -> None:
    if value is None and not required:
        return
    if value is None or not _NAME.fullmatch(value):
        raise _constraint(
            field,
            value,
            f"Member must satisfy regular expression pattern: {_NAME_PATTERN}; "
            "Member must have length between 1 and 64",
        )


def _check_expression(expression: str) -> None:
    """at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(six fields), as Scheduler takes them."""
    invalid = ValidationException(f"Invalid Schedule Expression {expression}.")
    if at := _AT.fullmatch(expression):
        try:
            datetime.strptime(at.group(1), "%Y-%m-%dT%H:%M:%S")  # noqa: DTZ007 - a wall time
        except ValueError:
            raise invalid from None
        return
    if rate := _RATE.fullmatch(expression):
        if int(rate.group(1)) < 1:
            raise invalid
        return
    cron = _CRON.fullmatch(expression)
    fields = cron.group(1).split(" ") if cron else []
    if len(fields) != 6:
        raise invalid
    for value, (_, low, high, wildcards, named) in zip(fields, _CRON_FIELDS, strict=True):
        if not _cron_field_ok(value, low, high, wildcards, named):
            raise invalid
    # "You can't specify the Day-of-month and Day-of-week fields in the same cron expression":
    # exactly one of them is "?".
    if (fields[2] == "?") == (fields[4] == "?"):
        raise invalid


def _cron_field_ok(value: str, low: int, high: int, wildcards: str, named: bool) -> bool:
    letters = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ") if named else set()
    allowed = set("0123456789" + wildcards) | letters
    if not value or not set(value.upper()) <= allowed:
        return False
    for part in value.split(","):
        base = part.split("/")[0].split("#")[0]  # increments and "nth" are not values
        for number in re.findall(r"\d+", base):
            if not low <= int(number) <= high:
                return False
    return True


def _check_timezone(timezone: str | None) -> None:
    if timezone is None:
        return
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationException(f"Invalid timezone: {timezone}.") from None


def _check_schedule(request: dict[str, Any]) -> None:
    """What CreateSchedule and UpdateSchedule refuse, beyond what botocore checks itself."""
    _check_name("groupName", request.get("GroupName"), required=False)
    _check_expression(request.get("ScheduleExpression") or "")
    _check_timezone(request.get("ScheduleExpressionTimezone"))
    if len(request.get("Description") or "") > 512:
        raise _constraint(
            "description",
            request["Description"],
            "Member must have length less than or equal to 512",
        )
    if request.get("State") not in (None, "ENABLED", "DISABLED"):
        raise _constraint(
            "state", request["State"], "Member must satisfy enum value set: [ENABLED, DISABLED]"
        )
    window = request.get("FlexibleTimeWindow") or {}
    if window.get("Mode") not in ("OFF", "FLEXIBLE"):
        raise _constraint(
            "flexibleTimeWindow.mode",
            window.get("Mode"),
            "Member must satisfy enum value set: [OFF, FLEXIBLE]",
        )
    minutes = window.get("MaximumWindowInMinutes")
    if window["Mode"] == "FLEXIBLE" and minutes is None:
        raise ValidationException(
            "MaximumWindowInMinutes must be provided when FlexibleTimeWindow Mode is FLEXIBLE."
        )
    if minutes is not None and not 1 <= int(minutes) <= 1440:
        raise _constraint(
            "flexibleTimeWindow.maximumWindowInMinutes",
            minutes,
            "Member must have value between 1 and 1440",
        )
    _check_target(request.get("Target") or {})


def _check_target(target: dict[str, Any]) -> None:
    if not _ROLE_ARN.fullmatch(target.get("RoleArn") or ""):
        raise _constraint(
            "target.roleArn",
            target.get("RoleArn"),
            f"Member must satisfy regular expression pattern: {_ROLE_ARN.pattern}",
        )
    dead_letter = (target.get("DeadLetterConfig") or {}).get("Arn")
    if dead_letter is not None and not _QUEUE_ARN.fullmatch(dead_letter):
        raise _constraint(
            "target.deadLetterConfig.arn",
            dead_letter,
            f"Member must satisfy regular expression pattern: {_QUEUE_ARN.pattern}",
        )
    retry = target.get("RetryPolicy") or {}
    age = retry.get("MaximumEventAgeInSeconds")
    if age is not None and not 60 <= int(age) <= 86400:
        raise _constraint(
            "target.retryPolicy.maximumEventAgeInSeconds",
            age,
            "Member must have value between 60 and 86400",
        )
    attempts = retry.get("MaximumRetryAttempts")
    if attempts is not None and not 0 <= int(attempts) <= 185:
        raise _constraint(
            "target.retryPolicy.maximumRetryAttempts",
            attempts,
            "Member must have value between 0 and 185",
        )


# ------------------------------------------------------------------------------ handlers
def _backend(self: EventBridgeSchedulerResponse) -> EventBridgeSchedulerBackend:
    return scheduler_backends[self.current_account][self.region]


def _path_name(self: EventBridgeSchedulerResponse) -> str:
    """The {Name} of the request's path, decoded (botocore percent-encodes it)."""
    return unquote(self.uri.split("?")[0].rstrip("/").split("/")[-1])


def _body(self: EventBridgeSchedulerResponse) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(self.body) if self.body else {}
    return body


def create_schedule(self: EventBridgeSchedulerResponse) -> str:
    name, request = _path_name(self), _body(self)
    _check_name("name", name)
    _check_schedule(request)
    backend = _backend(self)
    group = backend.get_schedule_group(request.get("GroupName"))  # ResourceNotFoundException
    if name in group.schedules:
        raise ConflictException(f"Schedule {name} already exists.")
    schedule = backend.create_schedule(
        description=request.get("Description"),  # type: ignore[arg-type]
        end_date=request.get("EndDate"),  # type: ignore[arg-type]
        flexible_time_window=request["FlexibleTimeWindow"],
        group_name=group.name,
        kms_key_arn=request.get("KmsKeyArn"),  # type: ignore[arg-type]
        name=name,
        schedule_expression=request["ScheduleExpression"],
        schedule_expression_timezone=request.get("ScheduleExpressionTimezone"),  # type: ignore[arg-type]
        start_date=request.get("StartDate"),  # type: ignore[arg-type]
        state=request.get("State"),  # type: ignore[arg-type]
        target=request["Target"],
        action_after_completion=request.get("ActionAfterCompletion"),
    )
    return json.dumps({"ScheduleArn": schedule.arn})


def update_schedule(self: EventBridgeSchedulerResponse) -> str:
    name, request = _path_name(self), _body(self)
    _check_name("name", name)
    _check_schedule(request)
    schedule = _backend(self).update_schedule(  # ResourceNotFoundException
        description=request.get("Description"),  # type: ignore[arg-type]
        end_date=request.get("EndDate"),  # type: ignore[arg-type]
        flexible_time_window=request["FlexibleTimeWindow"],
        group_name=request.get("GroupName"),  # type: ignore[arg-type]
        kms_key_arn=request.get("KmsKeyArn"),  # type: ignore[arg-type]
        name=name,
        schedule_expression=request["ScheduleExpression"],
        schedule_expression_timezone=request.get("ScheduleExpressionTimezone"),  # type: ignore[arg-type]
        start_date=request.get("StartDate"),  # type: ignore[arg-type]
        state=request.get("State") or "ENABLED",
        target=request["Target"],
    )
    schedule.action_after_completion = request.get("ActionAfterCompletion")
    return json.dumps({"ScheduleArn": schedule.arn})


def get_schedule(self: EventBridgeSchedulerResponse) -> str:
    name, group = _path_name(self), self._get_param("groupName")
    _check_name("name", name)
    _check_name("groupName", group, required=False)
    return json.dumps(_backend(self).get_schedule(group, name).to_dict())


def delete_schedule(self: EventBridgeSchedulerResponse) -> str:
    name, group = _path_name(self), self._get_param("groupName")
    _check_name("name", name)
    _check_name("groupName", group, required=False)
    _backend(self).delete_schedule(group, name)
    return "{}"


def list_schedules(self: EventBridgeSchedulerResponse) -> str:
    group = self._get_param("ScheduleGroup")
    prefix = self._get_param("NamePrefix")
    state = self._get_param("State")
    token = self._get_param("NextToken")
    max_results = self._get_int_param("MaxResults", DEFAULT_MAX_RESULTS)
    _check_name("groupName", group, required=False)
    _check_name("namePrefix", prefix, required=False)
    if state not in (None, "ENABLED", "DISABLED"):
        raise _constraint("state", state, "Member must satisfy enum value set: [ENABLED, DISABLED]")
    if not 1 <= max_results <= 100:
        raise _constraint("maxResults", max_results, "Member must have value between 1 and 100")
    backend = _backend(self)
    groups = [backend.get_schedule_group(group)] if group else backend.schedule_groups.values()
    after = _cursor(token) if token else None
    matching = sorted(
        (
            s
            for g in groups
            for s in g.schedules.values()
            if (state is None or s.state == state) and s.name.startswith(prefix or "")
        ),
        key=lambda s: (s.group_name, s.name),
    )
    pending = [s for s in matching if after is None or (s.group_name, s.name) > after]
    page = pending[:max_results]
    result: dict[str, Any] = {"Schedules": [_summary(s) for s in page]}
    if len(pending) > len(page):
        last = page[-1]
        result["NextToken"] = base64.urlsafe_b64encode(
            json.dumps([last.group_name, last.name]).encode()
        ).decode()
    return json.dumps(result)


def _cursor(token: str) -> tuple[str, str]:
    try:
        group, name = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, TypeError, binascii.Error):
        raise ValidationException("Invalid NextToken.") from None
    return str(group), str(name)


def _summary(schedule: Schedule) -> dict[str, Any]:
    """A ScheduleSummary: what ListSchedules answers of a schedule, no more."""
    return {
        "Arn": schedule.arn,
        "Name": schedule.name,
        "GroupName": schedule.group_name,
        "State": schedule.state,
        "CreationDate": schedule.creation_date,
        "LastModificationDate": schedule.last_modified_date,
        "Target": {"Arn": schedule.target["Arn"]},
    }


def create_schedule_group(self: EventBridgeSchedulerResponse) -> str:
    name = _path_name(self)
    _check_name("name", name)
    backend = _backend(self)
    if name in backend.schedule_groups:
        raise ConflictException(f"Schedule group {name} already exists.")
    group = backend.create_schedule_group(name=name, tags=_body(self).get("Tags") or [])
    return json.dumps({"ScheduleGroupArn": group.arn})


def delete_schedule_group(self: EventBridgeSchedulerResponse) -> str:
    name = _path_name(self)
    _check_name("name", name)
    backend = _backend(self)
    backend.get_schedule_group(name)  # ResourceNotFoundException
    backend.delete_schedule_group(name)  # its schedules go with it
    return "{}"


HANDLERS = {
    "create_schedule": create_schedule,
    "update_schedule": update_schedule,
    "get_schedule": get_schedule,
    "delete_schedule": delete_schedule,
    "list_schedules": list_schedules,
    "create_schedule_group": create_schedule_group,
    "delete_schedule_group": delete_schedule_group,
}


# ------------------------------------------------------------------------------ firing
def scheduled_input(
    account_id: str, region: str, group: str, name: str, now: datetime
) -> dict[str, Any]:
    """The event the schedule's target would receive if the schedule fired ``now``: its
    Target.Input with the context attributes Scheduler replaces when it invokes a target
    (https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-context-attributes.html),
    parsed. A DISABLED schedule never fires."""
    try:
        schedule = scheduler_backends[account_id][region].get_schedule(group, name)
    except (ScheduleNotFound, ScheduleGroupNotFound) as missing:
        raise LookupError(missing.message) from None
    if schedule.state != "ENABLED":
        raise ValueError(f"schedule {group}/{name} is {schedule.state}: it does not fire")
    text = str(schedule.target.get("Input") or "{}")
    for attribute, value in {
        "schedule-arn": schedule.arn,
        "scheduled-time": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "execution-id": uuid.uuid4().hex[:16],
        "attempt-number": "1",
    }.items():
        text = text.replace(f"<aws.scheduler.{attribute}>", value)
    event = json.loads(text)
    if not isinstance(event, dict):
        raise ValueError(f"schedule {group}/{name}: Target.Input is not a JSON object")
    return event
