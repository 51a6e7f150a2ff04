"""The change policy's start-by rule at its edges, end to end under virtual time.

A heal under a policy that could hold it executes in a window (or a change calendar) open now
only with two waits of MAX_WAIT_SECONDS, the bake time and a quarter hour left before the
execution's deadline (its start plus EXECUTION_TIMEOUT_SECONDS), and defers only to an instant
that leaves three waits, the bake time and a quarter hour: a timeout would end it unnotified,
perhaps with the stack updating. Each rule is pinned to the second, so that any of its terms
being off makes a test fail. The health gate's alarms are read in the stack's region.

The heal's clock is checkpointed to the second. Each heal starts at a whole second (its deadline
counts from the execution's start), and the tests move the virtual clock to a whole second just
before the heal decides, once the change set is made: the deadline and the decision fall exactly
where a case puts them.

Helpers come from tests.support only (test modules do not import one another)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support import (
    AFTERNOONS,
    BERLIN,
    EVENINGS,
    STEP_ATTEMPTS,
    TEMPLATE,
    WEDNESDAY_14_00,
    Harness,
    Run,
    outcomes,
    put_alarm,
)

#: When each heal starts (its clock "began", from which the deadline counts): Wednesday 14:00
#: in Berlin, 13:00 UTC.
BEGAN = WEDNESDAY_14_00.astimezone(UTC)
#: When a heal decides whether to execute now (its first "clock: change window").
DECIDES = BEGAN + timedelta(minutes=30)
#: When EVENINGS opens: 16:00 in Berlin (15:00 UTC), two hours after the heal began
#: (AFTERNOONS is open when the heal decides).
OPENS = datetime(2030, 1, 2, 16, 0, tzinfo=BERLIN).astimezone(UTC)
CALENDAR = "release-calendar"
#: What the heal keeps for its own steps, on top of the waits and the bake time.
FOR_STEPS = timedelta(minutes=15)
LEFT = "; the change set is left for review"


def to_finish(waits: int, max_wait: int, bake_minutes: int) -> timedelta:
    """What the README says a heal must still have before its deadline: ``waits`` waits of
    MAX_WAIT_SECONDS, the bake time and a quarter hour."""
    return waits * timedelta(seconds=max_wait) + timedelta(minutes=bake_minutes) + FOR_STEPS


def refused(deadline: datetime, held: str = "") -> str:
    """The Reason of a heal that leaves its change set because no time leaves enough."""
    return (
        "not executed: no time the change policy allows leaves enough to execute, verify and "
        f"bake before this execution's deadline, {deadline.isoformat()}{held}{LEFT}"
    )


def pin_clock(harness: Harness, moment: datetime, action: str, ready: Callable[[], bool]) -> None:
    """Move the heal's virtual clock to ``moment`` just before the first ``action`` call after
    ``ready()`` says so: the clock step that follows without a wait reads it."""

    def jump() -> None:
        if ready():
            harness.runners[-1].skip_to(moment)
        else:
            harness.sandbox.faults.before_call(action, jump)

    harness.sandbox.faults.before_call(action, jump)


def change_set_made(harness: Harness) -> bool:
    """The heal's change set is made: the DescribeChangeSet about to run is the wait's last
    poll or the read of its changes, and the heal decides next, with no wait between."""
    return any(s["Status"] == "CREATE_COMPLETE" for s in harness.change_sets())


def heal(
    harness: Harness, document: dict[str, Any], timeout: timedelta, **settings: Any
) -> tuple[Run, list[datetime]]:
    """Heal the drifted stack ``app`` under ``document``, its clock beginning at BEGAN and the
    execution timing out ``timeout`` later; returns the run and when it executed."""
    harness.stack()
    harness.drift()
    executed = harness.execution_times()
    run = harness.run(
        {"StackName": "app"},
        starting_at=BEGAN,
        change_policy=json.dumps(document),
        execution_timeout_seconds=int(timeout.total_seconds()),
        **settings,
    )
    return run, executed


def assert_left_for_review(harness: Harness, run: Run, reason: str) -> None:
    assert run.outcome == "CHANGE_SET_CREATED", run.result["Reason"]
    assert run.result["Reason"] == reason
    assert harness.executions() == 0 and harness.param_value() == "off"
    [kept] = harness.change_sets()
    assert (kept["ChangeSetName"], kept["ExecutionStatus"]) == (
        run.result["ChangeSet"]["Name"],
        "AVAILABLE",
    )
    [note] = run.notifications
    assert note.attributes["outcome"] == "CHANGE_SET_CREATED"


# ------------------------------------------------------------------------------ open now
HEALTH_40 = {"Alarms": ["checkout-5xx"], "BakeMinutes": 40}


@pytest.mark.parametrize(("late", "executes"), [(0, True), (1, False)], ids=["at", "1s past"])
@pytest.mark.parametrize(
    ("opening", "max_wait", "bake"),
    [
        # no Health: the default bake time, five minutes; waits of an hour
        pytest.param({"ChangeCalendar": CALENDAR}, 3600, 5, id="calendar open now"),
        # the policy's bake time, and waits of MAX_WAIT_SECONDS, not of an hour
        pytest.param(
            {"Windows": {"afternoons": AFTERNOONS}, "Health": HEALTH_40},
            1200,
            40,
            id="window open now, 20m waits, 40m bake",
        ),
    ],
)
def test_executing_now_needs_two_waits_the_bake_and_a_quarter_hour_left(
    harness: Harness,
    opening: dict[str, Any],
    max_wait: int,
    bake: int,
    late: int,
    executes: bool,
) -> None:
    """Deciding exactly at the deadline less two waits, the bake time and a quarter hour, the
    heal executes at once; a second later, it leaves the change set, naming the deadline, even
    with the window or the calendar open. Any term off (a third wait, another bake time, another
    quarter hour) moves the edge past one of the two."""
    harness.sandbox.change_calendar(CALENDAR)  # open, always
    harness.alarm("checkout-5xx", "OK")
    timeout = DECIDES - BEGAN + to_finish(2, max_wait, bake) - timedelta(seconds=late)
    pin_clock(harness, DECIDES, "DescribeChangeSet", lambda: change_set_made(harness))
    run, executed = heal(harness, opening, timeout, max_wait_seconds=max_wait)
    assert run.local.phase("clock: began").state() == BEGAN.isoformat()
    assert run.local.phase("clock: change window 1").state() == DECIDES.isoformat()
    if not executes:
        assert_left_for_review(harness, run, refused(BEGAN + timeout))
        return
    assert run.outcome == "HEALED", run.result["Reason"]
    assert run.result["Policy"]["Deferrals"] == []
    assert run.result["Policy"]["Window"] == ("afternoons" if "Windows" in opening else None)
    [at] = executed
    assert DECIDES <= at < DECIDES + timedelta(minutes=1)
    assert harness.param_value() == "on"


# ------------------------------------------------------------------------------ deferred
WINDOW = {"Windows": {"evenings": EVENINGS}}


@pytest.mark.parametrize(
    ("document", "lead", "executes"),
    [
        # a window opening must leave a minute (windows.MIN_OPEN) before the horizon
        pytest.param(WINDOW, 60, True, id="window opening 1m before the horizon"),
        pytest.param(WINDOW, 59, False, id="window opening 59s before the horizon"),
        # a calendar reopening needs only to come before it
        pytest.param({"ChangeCalendar": CALENDAR}, 1, True, id="calendar reopening 1s before"),
        # an hour before start-by, but a deferral needs a third wait
        pytest.param({"ChangeCalendar": CALENDAR}, 0, False, id="calendar reopening at it"),
        # the horizon an hour earlier: the calendar reopens a second after start-by
        pytest.param(
            {"ChangeCalendar": CALENDAR}, -3601, False, id="calendar reopening after start-by"
        ),
    ],
)
def test_a_deferral_must_leave_three_waits_the_bake_and_a_quarter_hour(
    harness: Harness, document: dict[str, Any], lead: int, executes: bool
) -> None:
    """Closed now (the window opens, or the calendar reopens, at 16:00 in Berlin): the heal
    defers only to an instant before the horizon, the deadline less three waits (detect again,
    execute, verify), the bake time and a quarter hour. At the horizon, or past start-by, it
    leaves the change set at once, naming the deadline and the calendar that holds it; before
    it, it is deferred, then executes when the window opens."""
    harness.sandbox.change_calendar(CALENDAR, closed=[(BEGAN - timedelta(days=1), OPENS)])
    horizon = OPENS + timedelta(seconds=lead)
    timeout = horizon - BEGAN + to_finish(3, 3600, 5)
    run, executed = heal(harness, document, timeout)
    assert run.local.phase("clock: began").state() == BEGAN.isoformat()
    calendar = "ChangeCalendar" in document
    if not executes:
        held = f" (held by {CALENDAR})" if calendar else ""
        assert_left_for_review(harness, run, refused(BEGAN + timeout, held))
        return
    assert run.outcome == "HEALED", run.result["Reason"]
    assert run.result["Policy"]["Deferrals"] == [
        {
            "Until": OPENS.isoformat(),
            "Window": None if calendar else "evenings",
            "Freezes": [CALENDAR] if calendar else [],
        }
    ]
    assert outcomes(run.notifications) == ["DEFERRED", "HEALED"]
    [at] = executed
    assert OPENS <= at < OPENS + timedelta(hours=1)
    assert harness.param_value() == "on"


def test_the_deadline_counts_from_the_executions_start(harness: Harness) -> None:
    """The execution starts at BEGAN and times out so that the calendar reopens exactly at the
    horizon: refused above. A pre-flight throttled five times (its step retried, about two
    minutes in all) must not buy the heal a deferral it has no time for."""
    harness.sandbox.change_calendar(CALENDAR, closed=[(BEGAN - timedelta(days=1), OPENS)])
    harness.stack()
    harness.drift()
    harness.sandbox.faults.throttle("DescribeStacks", times=STEP_ATTEMPTS - 1)
    timeout = OPENS - BEGAN + to_finish(3, 3600, 5)
    run = harness.run(
        {"StackName": "app"},
        starting_at=BEGAN,
        change_policy=json.dumps({"ChangeCalendar": CALENDAR}),
        execution_timeout_seconds=int(timeout.total_seconds()),
    )
    assert run.attempts("pre-flight") == STEP_ATTEMPTS
    assert run.outcome == "CHANGE_SET_CREATED", run.result["Reason"]
    stated = datetime.fromisoformat(run.result["Reason"].split("deadline, ")[1].split(" (")[0])
    deadline = BEGAN + timeout
    assert deadline <= stated < deadline + timedelta(seconds=1)
    assert harness.executions() == 0


# ------------------------------------------------------------------------------ health gate
FAR = "eu-west-1"  # the healer's own region is us-east-1 (AWS_DEFAULT_REGION)


@pytest.mark.parametrize(
    ("there", "here", "blocked"),
    [("ALARM", "OK", True), ("OK", "ALARM", False)],
    ids=["in ALARM in the stack's region", "in ALARM in the healer's region only"],
)
def test_the_health_gate_reads_the_alarms_in_the_stacks_region(
    harness: Harness, there: str, here: str, blocked: bool
) -> None:
    """The alarms watch the stack's own application: in its region, not the healer's. An alarm
    of the same name in the healer's region neither lets a change through nor stops one."""
    cfn = harness.sandbox.client("cloudformation", region=FAR)
    cfn.create_stack(
        StackName="far",
        TemplateBody=TEMPLATE,
        Tags=[{"Key": "drift-healer:alarms", "Value": "orders-lag"}],
    )
    ssm = harness.sandbox.client("ssm", region=FAR)
    ssm.put_parameter(Name="/app/dev/feature", Value="off", Type="String", Overwrite=True)
    put_alarm(harness.sandbox.client("cloudwatch", region=FAR), "orders-lag", there)
    harness.alarm("orders-lag", here)
    executed = harness.execution_times()
    run = harness.run({"StackName": "far", "Region": FAR})
    value = ssm.get_parameter(Name="/app/dev/feature")["Parameter"]["Value"]
    assert run.result["Policy"]["HealthBefore"] == {"orders-lag": there}
    if blocked:
        assert run.outcome == "CHANGE_SET_CREATED", run.result["Reason"]
        assert run.result["Reason"] == (
            "not executed: no changes while monitoring alarms (orders-lag (ALARM))" + LEFT
        )
        assert executed == [] and value == "off"
        return
    assert run.outcome == "HEALED", run.result["Reason"]
    assert run.result["Policy"]["HealthAfter"] == {"orders-lag": "OK"}
    assert run.result["Policy"]["Regressions"] == []
    assert len(executed) == 1 and value == "on"
