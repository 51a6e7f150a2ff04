"""The fleet as it should be scheduled, and the writes that get the schedule group there. Pure:
the reconciler feeds it what discovery and ListSchedules found.

Each enrolled stack gets one EventBridge Scheduler schedule, named so that ListSchedules alone
tells what is in the group, without reading each schedule:

    {stack name, ≤ 32}-{account+region, 6 hex}-{stack ARN, 12 hex}-{definition, 8 hex}

The stack's hash says whose schedule it is, the account+region hash says which discovery vouches
for it (a region that could not be listed keeps its schedules), and the definition's hash says
whether it is current: a changed definition is written as a new schedule and the old one deleted
(created first, so a failure in between leaves a stack scheduled twice for a night, never
unscheduled; a second heal of the same stack is SKIPPED). Only the state (paused or not) is
changed in place. So a run writes in proportion to what changed, and nothing when nothing did.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..models import HealMode, HealRequest
from ..records import ScheduleDefinition, ScheduleSummary
from . import enrolment

#: Scheduler names: 1-64 of [0-9a-zA-Z-_.]; stack names are [a-zA-Z][-a-zA-Z0-9]*.
_NAME = re.compile(
    r"(?P<stack>[a-zA-Z][-a-zA-Z0-9]{0,31})-(?P<place>[0-9a-f]{6})-(?P<arn>[0-9a-f]{12})"
    r"-(?P<spec>[0-9a-f]{8})"
)
_CRON_TIME = re.compile(
    r"cron\((?P<minute>[0-9]{1,2}) (?P<hour>[0-9]{1,2}) (?P<rest>\S+ \S+ \S+ \S+)\)"
)
_ANY_DAY = ("*", "?")
#: Scheduler retries an invocation Lambda throttles or fails to take, for up to an hour.
_RETRY = {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600}
_DAY = 24 * 60


@dataclass(frozen=True)
class Defaults:
    """What the deployment sets for every schedule (a stack's tags may override the when)."""

    heal_mode: HealMode
    expression: str
    timezone: str
    #: Starts spread over this many minutes after the scheduled time (a hash of the stack ARN).
    spread_minutes: int
    #: Scheduler's own flexible window on top (0: OFF).
    flexible_minutes: int
    target_arn: str
    scheduler_role_arn: str
    dead_letter_arn: str


@dataclass(frozen=True)
class Enrolled:
    """A stack that carries the enrolment tag, as discovery found it."""

    arn: str
    tags: dict[str, str]
    #: The member role the heal assumes; None for a stack of the healer's own account.
    role_arn: str | None = None


@dataclass(frozen=True)
class Schedule:
    """One stack's schedule, as the reconciler writes it."""

    name: str
    stack_arn: str
    expression: str
    timezone: str
    flexible_minutes: int
    enabled: bool
    #: The heal event of the contract (DESIGN §3.1) the schedule sends.
    event: dict[str, Any]
    target_arn: str
    scheduler_role_arn: str
    dead_letter_arn: str

    @property
    def state(self) -> str:
        return "ENABLED" if self.enabled else "DISABLED"

    def definition(self) -> ScheduleDefinition:
        """What CreateSchedule and UpdateSchedule are given (UpdateSchedule replaces all)."""
        return {
            "Name": self.name,
            "Description": f"drift-healer: {self.stack_arn}"[:512],
            "ScheduleExpression": self.expression,
            "ScheduleExpressionTimezone": self.timezone,
            "State": self.state,
            "FlexibleTimeWindow": (
                {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": self.flexible_minutes}
                if self.flexible_minutes > 0
                else {"Mode": "OFF"}
            ),
            "Target": {
                "Arn": self.target_arn,
                "RoleArn": self.scheduler_role_arn,
                "Input": json.dumps(self.event),
                "RetryPolicy": dict(_RETRY),
                "DeadLetterConfig": {"Arn": self.dead_letter_arn},
            },
        }


@dataclass
class Plan:
    """The writes that make the group match the fleet, and what could not be planned."""

    create: list[Schedule] = field(default_factory=list)
    update: list[Schedule] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)
    unchanged: int = 0
    #: (stack ARN, why) of stacks whose tags do not enrol them; their schedules are kept.
    invalid: list[tuple[str, str]] = field(default_factory=list)

    @property
    def writes(self) -> int:
        return len(self.create) + len(self.update) + len(self.delete)


def place(account: str, region: str) -> str:
    """The account+region part of a schedule name."""
    return _hash(f"{account}/{region}", 6)


def schedule(stack: Enrolled, defaults: Defaults) -> Schedule:
    """The schedule a stack's tags ask for. Raises enrolment.NotEnrolled for a bad tag."""
    enrolled = enrolment.enrolment(stack.tags)
    parts = stack.arn.split(":")
    region, account, stack_name = parts[3], parts[4], parts[5].split("/")[1]
    mode = enrolled.capped(defaults.heal_mode)
    event = HealRequest(
        stack_name=stack.arn,
        region=region,
        role_arn=stack.role_arn,
        dry_run=mode is HealMode.DRY_RUN,
        create_change_set_only=mode is HealMode.PROPOSE,
    ).event()
    expression = spread(
        enrolled.schedule or defaults.expression,
        defaults.spread_minutes,
        int(_hash(stack.arn, 12), 16),
    )
    timezone = enrolled.timezone or defaults.timezone
    definition = json.dumps(
        [
            expression,
            timezone,
            defaults.flexible_minutes,
            event,
            defaults.target_arn,
            defaults.scheduler_role_arn,
            defaults.dead_letter_arn,
        ],
        sort_keys=True,
    )
    name = (
        f"{stack_name[:32]}-{place(account, region)}-{_hash(stack.arn, 12)}-{_hash(definition, 8)}"
    )
    return Schedule(
        name=name,
        stack_arn=stack.arn,
        expression=expression,
        timezone=timezone,
        flexible_minutes=defaults.flexible_minutes,
        enabled=not enrolled.paused,
        event=event,
        target_arn=defaults.target_arn,
        scheduler_role_arn=defaults.scheduler_role_arn,
        dead_letter_arn=defaults.dead_letter_arn,
    )


def plan(
    fleet: Iterable[Enrolled],
    existing: Iterable[ScheduleSummary],
    defaults: Defaults,
    listed: set[str],
) -> Plan:
    """The writes from what is scheduled to what should be. ``listed`` holds the ``place`` of
    every account+region whose discovery succeeded: schedules of any other place are left alone
    (a region that could not be read is not a region without stacks)."""
    out = Plan()
    wanted: dict[str, Schedule] = {}
    keep_stacks: set[str] = set()
    for stack in fleet:
        try:
            wanted_one = schedule(stack, defaults)
        except enrolment.NotEnrolled as error:
            out.invalid.append((stack.arn, str(error)))
            keep_stacks.add(_hash(stack.arn, 12))
            continue
        wanted[wanted_one.name] = wanted_one
    have = {e["Name"]: e for e in existing}
    for name, current in sorted(have.items()):
        parsed = _NAME.fullmatch(name)
        if name in wanted:
            if current["State"] == wanted[name].state:
                out.unchanged += 1
            else:
                out.update.append(wanted[name])
        elif parsed is not None and (parsed["place"] not in listed or parsed["arn"] in keep_stacks):
            out.unchanged += 1  # not vouched for by this run: kept as it is
        else:
            out.delete.append(name)
    out.create = [s for name, s in sorted(wanted.items()) if name not in have]
    return out


def spread(expression: str, minutes: int, key: int) -> str:
    """Shift a daily ``cron(M H ...)`` by ``key mod minutes`` minutes, so a fleet's starts are
    spread evenly and each stack keeps its own slot night after night. Within the day when the
    expression names days (the shift never moves a run to another day); rate(), at() and crons
    without a fixed minute and hour run as written (Scheduler's flexible window still applies)."""
    match = _CRON_TIME.fullmatch(expression)
    if minutes <= 0 or match is None:
        return expression
    minute, hour, rest = int(match["minute"]), int(match["hour"]), match["rest"]
    start = hour * 60 + minute
    if minute > 59 or hour > 23:
        return expression
    day_of_month, _, day_of_week, _ = rest.split(" ")
    if day_of_month in _ANY_DAY and day_of_week in _ANY_DAY:
        at = (start + key % minutes) % _DAY
    else:
        at = start + key % min(minutes, _DAY - start)
    return f"cron({at % 60} {at // 60} {rest})"


def _hash(text: str, digits: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:digits]
