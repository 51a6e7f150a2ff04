"""The reconciler: one EventBridge Scheduler schedule per stack tagged ``drift-healer``.

    discover (each account x region) ─► list the group ─► plan ─► create ─► update ─► delete

A plain (not durable) function on its own schedule, and on demand. Each run compares the whole
fleet with the whole group and writes only the difference (policy.fleet), so it is idempotent,
and a run that failed halfway (a region unreadable, a write refused, throttling beyond retries,
time running out) leaves nothing inconsistent: the next run picks up where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from . import aws, scheduler, tagging, telemetry
from .errors import InvalidConfiguration, InvalidRequest
from .models import FleetProblem, HealMode, ReconcileRequest, ReconcileResult
from .policy import enrolment, fleet
from .records import ScheduleDefinition
from .redact import RedactingFilter
from .settings import FleetSettings

if TYPE_CHECKING:
    from mypy_boto3_scheduler import EventBridgeSchedulerClient

logger = Logger(service=telemetry.FLEET_SERVICE)
logger.addFilter(RedactingFilter())
#: The session name in member accounts' CloudTrail (their trust policy wants drift-healer-*).
SESSION = "reconciler"
#: How many invalid stacks and errors the result lists (the counts say how many in all).
SHOWN = 50


@dataclass
class Discovery:
    """The enrolled stacks of every place that could be read, and the places that could not."""

    stacks: list[fleet.Enrolled] = field(default_factory=list)
    listed: set[str] = field(default_factory=set)
    errors: list[FleetProblem] = field(default_factory=list)


class Reconciler:
    """One run. ``remaining`` says how many seconds the invocation has left."""

    def __init__(
        self, settings: FleetSettings, remaining: Callable[[], float] = lambda: float("inf")
    ) -> None:
        self.settings = settings
        self.remaining = remaining
        self.defaults = fleet.Defaults(
            heal_mode=HealMode(settings.heal_mode),
            expression=settings.schedule_expression,
            timezone=settings.schedule_timezone,
            spread_minutes=settings.spread_minutes,
            flexible_minutes=settings.flexible_window_minutes,
            target_arn=settings.healer_target_arn,
            scheduler_role_arn=settings.scheduler_role_arn,
            dead_letter_arn=settings.schedule_dead_letter_arn,
        )

    def run(self, dry_run: bool = False) -> ReconcileResult:
        found = self.discover()
        existing = scheduler.list_schedules(self.scheduler(), self.settings.schedule_group)
        plan = fleet.plan(found.stacks, existing, self.defaults, found.listed)
        errors = list(found.errors)
        done = {"created": 0, "updated": 0, "deleted": 0}
        if not dry_run:
            done, write_errors = self.apply(plan)
            errors += write_errors
        result = ReconcileResult(
            dry_run=dry_run,
            complete=not errors,
            places=len(self.settings.accounts) * len(self.settings.regions),
            enrolled=len(found.stacks),
            created=len(plan.create) if dry_run else done["created"],
            updated=len(plan.update) if dry_run else done["updated"],
            deleted=len(plan.delete) if dry_run else done["deleted"],
            unchanged=plan.unchanged,
            invalid=[FleetProblem(where=a, reason=r) for a, r in plan.invalid[:SHOWN]],
            invalid_count=len(plan.invalid),
            errors=errors[:SHOWN],
            error_count=len(errors),
        )
        for problem in plan.invalid[:SHOWN]:
            logger.warning("stack not enrolled", extra={"stack": problem[0], "reason": problem[1]})
        log = logger.info if result.complete else logger.error
        log("fleet reconciled", extra={"result": result.dump()})
        if not dry_run:
            telemetry.record_reconcile(result)
        return result

    # --------------------------------------------------------------------------- phases
    def discover(self) -> Discovery:
        """Every enrolled stack of every account x region; a place that cannot be read is an
        error of this run, and its schedules are kept."""
        found = Discovery()
        for account in self.settings.accounts:
            role = self.settings.member_role(account)
            for region in self.settings.regions:
                where = f"{account}/{region}"
                try:
                    client = aws.tagging(region, role, SESSION, self.settings.aws_max_attempts)
                    tagged = tagging.tagged_stacks(client, enrolment.TAG_KEY)
                except (ClientError, BotoCoreError) as error:
                    found.errors.append(FleetProblem(where=where, reason=_explain(error, role)))
                    continue
                found.listed.add(fleet.place(account, region))
                found.stacks += [
                    fleet.Enrolled(arn=arn, tags=tags, role_arn=role)
                    for arn, tags in sorted(tagged.items())
                    if _in_place(arn, account, region)
                ]
        return found

    def apply(self, plan: fleet.Plan) -> tuple[dict[str, int], list[FleetProblem]]:
        """Create, then update, then delete (a stack's new schedule exists before its old one
        goes). Stops before the invocation's time runs out."""
        client, group = self.scheduler(), self.settings.schedule_group
        done = {"created": 0, "updated": 0, "deleted": 0}
        errors: list[FleetProblem] = []
        writes: list[tuple[str, str, Callable[[], None]]] = [
            *(("created", s.name, _bind(scheduler.create, client, group, s)) for s in plan.create),
            *(("updated", s.name, _bind(scheduler.update, client, group, s)) for s in plan.update),
            *(("deleted", n, _bind_delete(client, group, n)) for n in plan.delete),
        ]
        for index, (kind, name, write) in enumerate(writes):
            if self.remaining() < self.settings.reserve_seconds:
                errors.append(
                    FleetProblem(
                        where="time",
                        reason=f"{len(writes) - index} writes left for the next run: the "
                        "invocation's time ran out",
                    )
                )
                break
            try:
                write()
            except (ClientError, BotoCoreError) as error:
                errors.append(FleetProblem(where=name, reason=_explain(error, None)))
                continue
            done[kind] += 1
        return done, errors

    def scheduler(self) -> EventBridgeSchedulerClient:
        return aws.scheduler(self.settings.aws_max_attempts)


def _bind(
    write: Callable[[EventBridgeSchedulerClient, str, ScheduleDefinition], None],
    client: EventBridgeSchedulerClient,
    group: str,
    schedule: fleet.Schedule,
) -> Callable[[], None]:
    definition = schedule.definition()
    return lambda: write(client, group, definition)


def _bind_delete(client: EventBridgeSchedulerClient, group: str, name: str) -> Callable[[], None]:
    return lambda: scheduler.delete(client, group, name)


def _in_place(arn: str, account: str, region: str) -> bool:
    """A stack ARN of this account and region (anything else is not ours to schedule here)."""
    parts = arn.split(":")
    return len(parts) >= 6 and parts[3] == region and parts[4] == account


def _explain(error: Exception, role: str | None) -> str:
    """One line: what AWS said and what to do."""
    if isinstance(error, ClientError):
        code, message = aws.error_code(error), aws.error_message(error)
        if code in ("AccessDenied", "AccessDeniedException"):
            where = (
                f"the member role {role} (member-account.yaml)"
                if role
                else ("the reconciler's role (template.yaml, ReconcilerFunction)")
            )
            return f"{code}: {message}; allow it in {where}"
        if aws.is_transient(error):
            return f"{code}: {message}; AWS kept refusing after retries, the next run goes on"
        return f"{code}: {message}"
    return f"{type(error).__name__}: {error}"


def parse(event: object) -> ReconcileRequest:
    """The reconciler's event; anything but ``{}`` or ``{"DryRun": bool}`` is refused."""
    if event is None:
        return ReconcileRequest()
    if not isinstance(event, dict):
        raise InvalidRequest('the reconciler takes {} or {"DryRun": true}')
    try:
        return ReconcileRequest.model_validate(event)
    except ValidationError as error:
        raise InvalidRequest(
            f'the reconciler takes {{}} or {{"DryRun": true}}, not {sorted(event)}: '
            f"{error.errors(include_url=False)[0]['msg']}"
        ) from None


def settings() -> FleetSettings:
    """The environment the template sets, or an error naming what is missing or wrong."""
    try:
        return FleetSettings()
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])).upper() or 'settings'}: {e['msg']}"
            for e in error.errors(include_url=False)
        )
        raise InvalidConfiguration(
            f"the reconciler's environment is incomplete ({problems}); deploy it with "
            "template.yaml, which sets every variable"
        ) from None


def run(event: object, remaining: Callable[[], float] | None = None) -> ReconcileResult:
    """Validate, then reconcile."""
    request = parse(event)
    started = time.monotonic()
    result = Reconciler(settings(), remaining or (lambda: float("inf"))).run(request.dry_run)
    logger.debug("reconcile took", extra={"seconds": round(time.monotonic() - started, 3)})
    return result
