"""The fleet night: a thousand stacks enrolled by tag, scheduled by the reconciler, healed under
the account's API rate limits, all on one discrete-event clock.

1. The stacks are made (sizes drawn from the fleet's mix), tagged ``drift-healer=enabled``, and
   the real reconciler writes one EventBridge Scheduler schedule per stack (HealMode=heal).
2. Each schedule fires at its time (02:00 plus the stack's offset from the spread) plus a
   uniform draw within Scheduler's flexible window, with the event the schedule sends.
3. Every stack drifted; each had a drift detection the night before. CloudFormation's durations
   are drawn per stack from the model; its API answers "Rate exceeded" when an action's token
   bucket (``model.CFN_LIMITS``, account-wide) is empty; one detection runs per stack at a time.
4. The heals run concurrently in the durable runner, driven by ``clock.EventClock``.

A sample: simulating every heal through the durable runner takes about 0.3 s of real time a
heal, so by default every ``Fleet.every``-th stack in order of start time is simulated, with its
start time's offset from 02:00 divided by the same factor. The sample then arrives at the rate
the whole fleet does, so at any moment about as many heals run and spend tokens as in the whole
fleet; the night's length for the whole fleet is estimated from the real schedules (the last
start) plus the longest simulated heal. ``every=1`` simulates the whole fleet.
"""

from __future__ import annotations

import math
import random
import re
import statistics
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from drift_healer import reconciler
from drift_healer.settings import FleetSettings
from drift_sandbox import ACCOUNT_ID, Sandbox, StackTiming

from . import model
from .clock import EventClock, fast_checkpoint_stop
from .common import (
    REGION,
    TAG,
    cloudformation_calls,
    cloudformation_seconds,
    healer_settings,
    quiet_process,
)
from .driver import Driver

GROUP = "drift-healer-schedules"
#: The night before the night measured: stacks made, detected once, scheduled.
EVE = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
#: The time the schedules say (cron(0 2 * * ? *)) on the night measured.
NIGHT = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
_CRON = re.compile(r"cron\((?P<minute>\d{1,2}) (?P<hour>\d{1,2}) \* \* \? \*\)")
HEALED = ("HEALED", "CHANGE_SET_CREATED")


@dataclass(frozen=True)
class Start:
    stack: str
    schedule: str
    resources: int
    #: When Scheduler invokes the heal (schedule time + flexible window draw), whole fleet.
    fires: datetime
    #: When the sample starts it (offset from 02:00 divided by ``every``).
    starts: datetime


def night(config: model.Fleet = model.FLEET, seed: int = model.SEED) -> dict[str, Any]:
    """Run the night; JSON-ready."""
    began = time.perf_counter()
    driver = Driver(healer_settings(), region=REGION)
    clock = EventClock(driver.runner, EVE)
    timing = StackTiming(model=model.MODEL, seed=seed)
    sandbox = Sandbox(clock=clock.now, timing=timing)
    try:
        with quiet_process(sandbox), fast_checkpoint_stop():
            sizes = _sizes(config, seed)
            names = sorted(sizes)
            ids = _create(sandbox, sizes)
            written = _reconcile(sandbox, config)
            starts = _starts(sandbox, config, sizes, seed)
            sample = starts[:: config.every]
            _eve(sandbox, clock, sample)
            sandbox.limits.limit("cloudformation", config.limits, default=model.CFN_DEFAULT_LIMIT)
            calls = cloudformation_calls(sandbox)
            arns = _run(sandbox, driver, clock, sample)
            heals = [
                _measured(sandbox, driver, timing, start, ids[start.stack], arn)
                for start, arn in zip(sample, arns, strict=True)
            ]
            calls = cloudformation_calls(sandbox) - calls
            throttled = dict(sandbox.limits.throttled)
    finally:
        driver.close()
    return _summary(config, names, written, starts, sample, heals, calls, throttled, began)


# ------------------------------------------------------------------------------ the eve
def _sizes(config: model.Fleet, seed: int) -> dict[str, int]:
    rng = random.Random(f"{seed}/fleet")
    resources, weights = zip(*config.sizes, strict=True)
    return {f"fleet-{i:04d}": rng.choices(resources, weights)[0] for i in range(config.stacks)}


def _create(sandbox: Sandbox, sizes: dict[str, int]) -> dict[str, str]:
    ids: dict[str, str] = {}
    for size in sorted(set(sizes.values())):
        names = [name for name, n in sizes.items() if n == size]
        made = sandbox.create_stacks(names, {TAG: "enabled"}, template=model.template(size))
        ids.update(zip(names, made, strict=True))
    return ids


def _reconcile(sandbox: Sandbox, config: model.Fleet) -> int:
    """The reconciler's run (HealMode=heal): one schedule per enrolled stack."""
    sandbox.client("scheduler").create_schedule_group(Name=GROUP)
    settings = FleetSettings(
        heal_mode="heal",
        schedule_group=GROUP,
        scheduler_role_arn=f"arn:aws:iam::{ACCOUNT_ID}:role/drift-healer/scheduler",
        healer_target_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:drift-healer:live",
        schedule_dead_letter_arn=f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:schedule-dead-letters",
        fleet_regions=REGION,
        spread_minutes=config.spread_minutes,
        flexible_window_minutes=config.flexible_minutes,
        schedule_expression=config.expression,
    )
    result = reconciler.Reconciler(settings).run()
    if not result.complete:
        raise RuntimeError(f"the reconciler did not schedule the fleet: {result.dump()}")
    return result.created


def _starts(sandbox: Sandbox, config: model.Fleet, sizes: dict[str, int], seed: int) -> list[Start]:
    """Every schedule's firing time on the night (and its sample start), in order."""
    pages = sandbox.client("scheduler").get_paginator("list_schedules")
    found: list[tuple[datetime, str, str]] = []
    for page in pages.paginate(GroupName=GROUP):
        for summary in page["Schedules"]:
            name = summary["Name"]
            expression = sandbox.client("scheduler").get_schedule(GroupName=GROUP, Name=name)
            at = _fires(expression["ScheduleExpression"], NIGHT)
            window = expression["FlexibleTimeWindow"].get("MaximumWindowInMinutes", 0)
            at += timedelta(seconds=random.Random(f"{seed}/{name}").uniform(0, window * 60))
            stack = expression["Target"]["Input"]
            found.append((at, name, stack))
    found.sort()
    first = NIGHT
    return [
        Start(
            stack=_stack_name(stack),
            schedule=name,
            resources=sizes[_stack_name(stack)],
            fires=at,
            starts=first + (at - first) / config.every,
        )
        for at, name, stack in found
    ]


def _fires(expression: str, day: datetime) -> datetime:
    match = _CRON.fullmatch(expression)
    if match is None:
        raise ValueError(f"the fleet bench reads daily crons only, not {expression}")
    return day.replace(hour=int(match["hour"]), minute=int(match["minute"]))


def _stack_name(event_input: str) -> str:
    """The stack name in a schedule's event (its StackName is the stack's ARN)."""
    arn = re.search(r'"StackName": "([^"]+)"', event_input)
    if arn is None:
        raise ValueError(f"no StackName in the schedule's input {event_input}")
    return arn[1].split("/")[1]


def _eve(sandbox: Sandbox, clock: EventClock, sample: list[Start]) -> None:
    """The night before: one drift detection of each stack; then its resources drift."""
    cfn, ssm = sandbox.client("cloudformation"), sandbox.client("ssm")
    for start in sample:
        cfn.detect_stack_drift(StackName=start.stack)
    clock.advance(EVE + timedelta(hours=12))
    cfn.describe_stacks(StackName=sample[0].stack)  # the detections settle
    for start in sample:
        for parameter in model.parameter_names(start.stack, start.resources):
            ssm.put_parameter(Name=parameter, Value="off", Type="String", Overwrite=True)


# ------------------------------------------------------------------------------ the night
def _run(sandbox: Sandbox, driver: Driver, clock: EventClock, sample: list[Start]) -> list[str]:
    """Start each heal at its time with its schedule's event; move time on until all ended."""
    arns: list[str] = []
    pending = list(sample)
    while True:
        clock.settle()
        upcoming = [t for t in (clock.next_wake(), pending[0].starts if pending else None) if t]
        if not upcoming:
            return arns
        clock.advance(min(upcoming))
        while pending and pending[0].starts <= clock.now():
            start = pending.pop(0)
            event = sandbox.scheduled_event(GROUP, start.schedule)
            arns.append(driver.start(event, name=f"night-{start.stack}"))


@dataclass(frozen=True)
class _Heal:
    stack: str
    resources: int
    outcome: str
    started: str
    seconds: float
    cloudformation: float
    overhead: float
    operations: int
    invocations: int


def _measured(
    sandbox: Sandbox, driver: Driver, timing: StackTiming, start: Start, stack_id: str, arn: str
) -> _Heal:
    if not driver.done(arn):
        return _Heal(start.stack, start.resources, "DID NOT END", "", 0.0, 0.0, 0.0, 0, 0)
    run = driver.record(arn)
    path = cloudformation_seconds(sandbox, timing, start.stack, stack_id, run.started)
    return _Heal(
        stack=start.stack,
        resources=start.resources,
        outcome=run.outcome,
        started=run.started.isoformat(),
        seconds=run.seconds,
        cloudformation=path,
        overhead=run.seconds - path,
        operations=run.operations,
        invocations=run.invocations,
    )


def _summary(
    config: model.Fleet,
    names: list[str],
    written: int,
    starts: list[Start],
    sample: list[Start],
    heals: list[_Heal],
    calls: int,
    throttled: dict[tuple[str, str], int],
    began: float,
) -> dict[str, Any]:
    outcomes = Counter(h.outcome for h in heals)
    done = [h for h in heals if h.outcome in HEALED]
    overheads = sorted(h.overhead for h in done)
    night_at = NIGHT
    ends = [
        datetime.fromisoformat(h.started) + timedelta(seconds=h.seconds) for h in heals if h.started
    ]
    longest = max((h.seconds for h in heals), default=0.0)
    last_fire = max((s.fires for s in starts), default=night_at)
    # every stack simulated: the night as it ran; a sample: the whole fleet's last start plus
    # the longest heal simulated (the sample's own night is compressed)
    whole_night_end = (
        max(ends, default=night_at) if config.every == 1 else last_fire + timedelta(seconds=longest)
    )
    sample_end = max(ends, default=night_at)
    return {
        "stacks": len(names),
        "scheduled": written,
        "every": config.every,
        "spread_minutes": config.spread_minutes,
        "flexible_minutes": config.flexible_minutes,
        "simulated": len(sample),
        "outcomes": dict(outcomes),
        "healed_or_proposed": len(done),
        "failures": len(heals) - len(done),
        "throttled": sum(throttled.values()),
        "throttled_by_action": {action: n for (_, action), n in sorted(throttled.items())},
        "calls": calls,
        "limits": {a: asdict(limit) for a, limit in config.limits.items()},
        "default_limit": asdict(model.CFN_DEFAULT_LIMIT),
        "first_start": min((s.starts for s in sample), default=night_at).isoformat(),
        "sample_night_seconds": (sample_end - night_at).total_seconds(),
        "last_fire": last_fire.isoformat(),
        "longest_heal_seconds": longest,
        "night_seconds": (whole_night_end - night_at).total_seconds(),
        "night_window_seconds": config.night_hours * 3600,
        "overhead_p50": _percentile(overheads, 0.50),
        "overhead_p95": _percentile(overheads, 0.95),
        "overhead_share_p50": statistics.median(
            [h.overhead / h.cloudformation for h in done if h.cloudformation]
        )
        if done
        else None,
        "heals": [asdict(h) for h in heals],
        "wall_seconds": time.perf_counter() - began,
    }


def _percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile of sorted ``values``."""
    if not values:
        return None
    return values[max(1, math.ceil(share * len(values))) - 1]
