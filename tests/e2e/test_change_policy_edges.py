"""The change policy's edges end to end, under virtual time: a soft freeze lets a LOW risk heal
through and holds an approved HIGH risk one until it ends; an accepted-drift rule applies through
the last UTC day its Expires names and not after; an alarm a stack's tag selects that goes off
after the change is told as a regression.

Helpers come from tests.support only (test modules do not import one another)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from drift_healer_cli.local import LocalRunner
from tests.support import (
    AFTERNOONS,
    BERLIN,
    EVENINGS,
    WEDNESDAY_14_00,
    Harness,
    Run,
    change_records,
    goes_off_when_executed,
    outcomes,
    ready_then_heal,
)

#: A soft freeze around WEDNESDAY_14_00 (from Tuesday to Friday 00:00, Berlin).
SOFT = {
    "Name": "launch",
    "From": "2030-01-01T00:00",
    "To": "2030-01-04T00:00",
    "TimeZone": "Europe/Berlin",
    "Kind": "soft",
}
THAW = datetime(2030, 1, 4, 0, 0, tzinfo=BERLIN).astimezone(UTC)
APPROVER = {"Approver": "ana@example.com", "Ticket": "CHG-7"}
TAG = "drift-healer:alarms"


# ------------------------------------------------------------------------------ soft freezes
def test_a_soft_freeze_lets_a_low_risk_heal_through_at_once(harness: Harness) -> None:
    executed = harness.execution_times()
    run = ready_then_heal(harness, json.dumps({"Freezes": [SOFT]}))
    assert run.outcome == "HEALED", run.result["Reason"]
    assert run.result["ChangeSet"]["Risk"] == "LOW"
    assert run.result["Policy"]["Deferrals"] == []
    assert outcomes(run.notifications) == ["HEALED"]
    [at] = executed
    assert WEDNESDAY_14_00 <= at < WEDNESDAY_14_00 + timedelta(hours=1)  # inside the freeze
    assert harness.param_value() == "on"


def test_a_soft_freeze_holds_an_approved_high_risk_heal_until_it_ends(harness: Harness) -> None:
    """Unattended, a HIGH risk change set is only proposed, freeze or not; one a person approved
    is what a soft freeze holds ("only LOW risk executes"): the heal is deferred to the freeze's
    end, the notice names the freeze, and nothing executes before then."""
    harness.stack()
    harness.drift()
    harness.sandbox.faults.phantom_change("app", "Bucket", replacement="True")
    executed = harness.execution_times()
    inbox = harness.sandbox.inbox(harness.topic_arn)
    runner = LocalRunner(
        harness.settings(change_policy=json.dumps({"Freezes": [SOFT]})), skip_time=True
    )
    harness.runners.append(runner)
    runner.skip_to(WEDNESDAY_14_00)
    local = runner.run(
        {"StackName": "app", "RequireApproval": True},
        name="approved",
        decide=lambda _request: (True, APPROVER),
    )
    run = Run(local=local, notifications=inbox.messages())
    assert run.outcome == "HEALED", run.result["Reason"]
    assert run.result["ChangeSet"]["Risk"] == "HIGH"
    assert run.result["Approval"]["Decision"] == "APPROVED"
    assert run.result["Policy"]["Deferrals"] == [
        {"Until": THAW.isoformat(), "Window": None, "Freezes": ["launch"]}
    ]
    asked, deferred, done = run.notifications
    assert outcomes([asked, deferred, done]) == ["APPROVAL_REQUESTED", "DEFERRED", "HEALED"]
    assert deferred.subject == "[drift-healer] app: heal deferred until 2030-01-03 23:00:00 UTC"
    assert "(the freeze launch holds it)" in deferred.message
    assert "Deferred until 2030-01-03T23:00:00+00:00 (freeze launch)" in done.message
    [at] = executed
    assert THAW <= at < THAW + timedelta(hours=1)


# ------------------------------------------------------------------------------ accepted drift
RULE = {
    "ResourceType": "AWS::SSM::Parameter",
    "LogicalId": "Param",
    "PropertyPath": "/Value",
    "Reason": "flag flipped by the release tool",
    "Owner": "release@example.com",
    "Expires": "2030-01-02",
}
ACCEPTED = json.dumps({"AcceptedDrift": [RULE]})


def test_an_accepted_drift_rule_applies_to_the_end_of_its_expires_day_in_utc(
    harness: Harness,
) -> None:
    """23:50 UTC on the Expires day (00:50 the next day in Berlin): the rule still applies; the
    day is UTC's (AcceptedRule: "the last day (UTC) it applies")."""
    run = ready_then_heal(harness, ACCEPTED, starting_at=datetime(2030, 1, 2, 23, 50, tzinfo=UTC))
    assert run.outcome == "DRIFT_REPORTED", run.result["Reason"]
    policy = run.result["Policy"]
    assert [(a["LogicalResourceId"], a["Expires"]) for a in policy["AcceptedDrift"]] == [
        ("Param", "2030-01-02")
    ]
    assert policy["ExpiredRules"] == []
    assert harness.sandbox.calls[("cloudformation", "CreateChangeSet")] == 0
    assert harness.executions() == 0 and harness.param_value() == "off"


def test_an_accepted_drift_rule_ends_at_the_first_utc_instant_after_its_expires_day(
    harness: Harness,
) -> None:
    harness.sandbox.client("s3").create_bucket(Bucket="records")
    run = ready_then_heal(
        harness,
        ACCEPTED,
        starting_at=datetime(2030, 1, 3, 0, 0, tzinfo=UTC),
        change_record_bucket="records",
    )
    assert run.outcome == "HEALED", run.result["Reason"]
    policy = run.result["Policy"]
    assert policy["AcceptedDrift"] == []
    assert policy["ExpiredRules"] == ["rule 1 (release@example.com, ended 2030-01-02)"]
    assert harness.executions() == 1 and harness.param_value() == "on"
    [done] = run.notifications
    assert (
        "Expired, so its drift counts again: rule 1 (release@example.com, ended 2030-01-02)"
        in done.message
    )
    [(key, record)] = change_records(harness, "records").items()
    assert run.result["ChangeRecord"] == f"s3://records/{key}"
    assert record["Rules"]["Policy"]["ExpiredRules"] == policy["ExpiredRules"]


# ------------------------------------------------------------------------------ health gates
def test_an_alarm_the_stack_tag_selects_that_goes_off_after_the_change_is_a_regression(
    harness: Harness,
) -> None:
    """The policy watches checkout-5xx; the stack's tag adds two more (comma-separated, spaced):
    one of those goes off during the change. Still HEALED (the change is done), but told first:
    the Reason, Policy.Regressions, the subject, the message and the change record."""
    for name in ("checkout-5xx", "orders-lag", "payments-5xx"):
        harness.alarm(name)
    goes_off_when_executed(harness, "payments-5xx")
    harness.sandbox.client("s3").create_bucket(Bucket="records")
    harness.stack(Tags=[{"Key": TAG, "Value": "orders-lag, payments-5xx"}])
    harness.drift()
    document = json.dumps({"Health": {"Alarms": ["checkout-5xx"], "BakeMinutes": 10}})
    run = harness.run({"StackName": "app"}, change_policy=document, change_record_bucket="records")
    assert run.outcome == "HEALED", run.result["Reason"]
    assert harness.executions() == 1 and harness.param_value() == "on"
    trail = run.result["Policy"]
    assert trail["AlarmsWatched"] == 3
    assert trail["HealthBefore"] == {"checkout-5xx": "OK", "orders-lag": "OK", "payments-5xx": "OK"}
    assert trail["HealthAfter"] == {
        "payments-5xx": "ALARM",
        "checkout-5xx": "OK",
        "orders-lag": "OK",
    }
    assert trail["Regressions"] == ["payments-5xx (ALARM)"]
    assert run.result["Reason"] == (
        "HEALTH REGRESSION after the change: payments-5xx (ALARM) went off within the bake "
        "time; 1 resource reverted; verified in sync"
    )
    [done] = run.notifications
    assert done.attributes["outcome"] == "HEALED"
    assert done.subject == "[drift-healer] app: ALARM after healing: payments-5xx (ALARM)"
    assert "REGRESSION: payments-5xx (ALARM) went off after the change" in done.message
    [(key, record)] = change_records(harness, "records").items()
    assert run.result["ChangeRecord"] == f"s3://records/{key}"
    assert record["Rules"]["Policy"]["Regressions"] == ["payments-5xx (ALARM)"]


@pytest.mark.parametrize("policy", [{"change_policy": "{}"}, {}], ids=["{}", "no policy"])
def test_a_stack_tag_alone_gates_the_change_and_bakes_the_default_five_minutes(
    harness: Harness, policy: dict[str, str]
) -> None:
    """A change policy without Health, or none at all, still watches the alarms the stack's tag
    names: a safety tag is never silently ignored."""
    harness.alarm("orders-lag")
    goes_off_when_executed(harness, "orders-lag")
    harness.stack(Tags=[{"Key": TAG, "Value": "orders-lag"}])
    harness.drift()
    run = harness.run({"StackName": "app"}, **policy)
    assert run.outcome == "HEALED", run.result["Reason"]
    trail = run.result["Policy"]
    assert (trail["HealthBefore"], trail["HealthAfter"]) == (
        {"orders-lag": "OK"},
        {"orders-lag": "ALARM"},
    )
    assert trail["Regressions"] == ["orders-lag (ALARM)"]
    assert run.result["Reason"].startswith("HEALTH REGRESSION after the change: orders-lag")
    bake = run.local.phase("bake time")
    assert bake.started and bake.ended
    assert timedelta(minutes=5) <= bake.ended - bake.started < timedelta(minutes=6)


def test_without_a_change_policy_a_tagged_alarm_in_alarm_stops_the_execution(
    harness: Harness,
) -> None:
    harness.alarm("orders-lag", "ALARM")
    harness.stack(Tags=[{"Key": TAG, "Value": "orders-lag"}])
    harness.drift()
    executed = harness.execution_times()
    run = harness.run({"StackName": "app"})
    assert run.outcome == "CHANGE_SET_CREATED", run.result["Reason"]
    assert "orders-lag (ALARM)" in run.result["Reason"]
    assert run.result["Policy"]["HealthBefore"] == {"orders-lag": "ALARM"}
    assert executed == []


@pytest.mark.parametrize("policy", [{}, {"change_policy": "{}"}], ids=["tag only", "{}"])
def test_with_nothing_to_wait_for_a_short_execution_timeout_still_heals(
    harness: Harness, policy: dict[str, str]
) -> None:
    """No window, freeze or calendar can hold the heal: it executes at once, however close the
    execution's deadline (an hour here: less than a heal under a policy that could hold it
    keeps to execute, verify and bake)."""
    harness.alarm("orders-lag")
    harness.stack(Tags=[{"Key": TAG, "Value": "orders-lag"}])
    harness.drift()
    executed = harness.execution_times()
    run = harness.run({"StackName": "app"}, execution_timeout_seconds=3600, **policy)
    assert run.outcome == "HEALED", run.result["Reason"]
    assert len(executed) == 1
    assert run.result["Policy"]["Deferrals"] == []


def test_a_window_open_now_is_used_with_time_to_execute_but_not_to_defer(
    harness: Harness,
) -> None:
    """Three hours left: too little to defer into (three waits of an hour, the bake time, a
    quarter hour), enough to execute now (two waits, the bake time, a quarter hour)."""
    run = ready_then_heal(
        harness,
        json.dumps({"Windows": {"afternoons": AFTERNOONS}}),
        execution_timeout_seconds=3 * 3600,
    )
    assert run.outcome == "HEALED", run.result["Reason"]
    assert run.result["Policy"]["Window"] == "afternoons"


FROZEN_NOW = {
    "Name": "launch",
    "From": "2030-01-02T12:00",
    "To": "2030-01-02T18:00",
    "TimeZone": "Europe/Berlin",
}


@pytest.mark.parametrize(
    ("document", "timeout"),
    [
        ({"Windows": {"evenings": EVENINGS}}, 3 * 3600),  # opens in 2 h: too late to defer to
        ({"Freezes": [FROZEN_NOW]}, 3 * 3600),  # frozen now and past the horizon
        ({"Windows": {"afternoons": AFTERNOONS}}, 2 * 3600),  # open now, too little left
    ],
    ids=["a window opening later", "a freeze now", "a window open now, 2 h left"],
)
def test_with_too_little_time_to_finish_the_change_set_is_left_for_review(
    harness: Harness, document: dict[str, Any], timeout: int
) -> None:
    """Executing needs two waits of MAX_WAIT_SECONDS (an hour each), the bake time and its
    steps; after a deferral, a third wait: with less left, nothing starts and the reason names
    the execution's real deadline."""
    run = ready_then_heal(harness, json.dumps(document), execution_timeout_seconds=timeout)
    assert run.outcome == "CHANGE_SET_CREATED", run.result["Reason"]
    deadline = WEDNESDAY_14_00.astimezone(UTC) + timedelta(seconds=timeout)
    reason = run.result["Reason"]
    assert "no time the change policy allows leaves enough" in reason
    stated = datetime.fromisoformat(reason.split("deadline, ")[1].split(";")[0].split(" (")[0])
    assert deadline <= stated < deadline + timedelta(minutes=1)
    assert harness.executions() == 0
