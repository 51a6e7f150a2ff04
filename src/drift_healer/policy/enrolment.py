"""How a stack enrols: its ``drift-healer`` tags, read the same way by the reconciler (which
schedules the stack) and by the heal (which obeys the tag as a ceiling).

    drift-healer           enabled | propose | heal | dry-run | paused
    drift-healer:schedule  an EventBridge Scheduler expression, e.g. cron(30 1 * * ? *)
    drift-healer:timezone  an IANA time zone, e.g. Europe/Berlin

``enabled`` takes the deployment's HealMode; a mode value caps the stack below it (a stack's owner
can ask for less than the deployment allows, never more); ``paused`` keeps the stack's schedule
but disabled, so pausing and resuming is one tag edit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..models import HealMode

TAG_KEY = "drift-healer"
SCHEDULE_TAG = "drift-healer:schedule"
TIMEZONE_TAG = "drift-healer:timezone"
ENABLED = "enabled"
PAUSED = "paused"
#: Every value that enrols a stack, in the order the docs list them.
VALUES = (ENABLED, HealMode.PROPOSE.value, HealMode.HEAL.value, HealMode.DRY_RUN.value, PAUSED)

# Scheduler's expressions (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html):
# cron with six fields, or rate with a positive whole number of minutes, hours or days. Checked
# here so a typo is reported against the stack's tag; Scheduler validates the rest on write.
_CRON = re.compile(r"cron\((\S+ ){5}\S+\)")
_RATE = re.compile(r"rate\([1-9][0-9]{0,5} (minute|minutes|hour|hours|day|days)\)")
_TIMEZONE = re.compile(r"[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}")


@dataclass(frozen=True)
class Enrolment:
    """What a stack's tags ask for. ``mode`` None means "the deployment's mode"."""

    mode: HealMode | None = None
    paused: bool = False
    schedule: str | None = None
    timezone: str | None = None

    def capped(self, ceiling: HealMode) -> HealMode:
        """The mode this stack runs in under the deployment's ceiling."""
        if self.mode is None or ceiling.allows(self.mode):
            return ceiling
        return self.mode


class NotEnrolled(ValueError):
    """The stack's tags do not enrol it; the message says why and what to tag."""


def enrolment(tags: dict[str, str], key: str = TAG_KEY) -> Enrolment:
    """Read a stack's tags. Raises NotEnrolled (naming the fix) when the stack carries no
    enrolment tag, or a value the healer does not know (a typo must not heal at full power)."""
    value = tags.get(key)
    if value is None:
        raise NotEnrolled(
            f"the stack does not carry the tag {key} ({', '.join(VALUES)}); tag it to enrol it"
        )
    if value not in VALUES:
        raise NotEnrolled(
            f"{key}={_shown(value)} is not a value the healer knows; use one of {', '.join(VALUES)}"
        )
    schedule = tags.get(SCHEDULE_TAG)
    if schedule is not None and not (_CRON.fullmatch(schedule) or _RATE.fullmatch(schedule)):
        raise NotEnrolled(
            f"{SCHEDULE_TAG}={_shown(schedule)} is not a Scheduler expression like "
            "cron(0 2 * * ? *) or rate(12 hours)"
        )
    timezone = tags.get(TIMEZONE_TAG)
    if timezone is not None and not _TIMEZONE.fullmatch(timezone):
        raise NotEnrolled(
            f"{TIMEZONE_TAG}={_shown(timezone)} is not a time zone name like Europe/Berlin or UTC"
        )
    return Enrolment(
        mode=None if value in (ENABLED, PAUSED) else HealMode(value),
        paused=value == PAUSED,
        schedule=schedule,
        timezone=timezone,
    )


def _shown(value: str) -> str:
    return repr(value if len(value) <= 64 else value[:61] + "...")
