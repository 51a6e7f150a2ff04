"""The change policy end to end, under virtual time: a heal ready outside its change window waits
for it (notified, at no cost), checks again and executes inside; a freeze pushes it past; accepted
drift does not trigger a heal until its rule expires, and is never reverted unattended; a critical
stack waits for a person; a policy that cannot be used fails before anything is done."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from drift_healer_cli import errors as cli_errors
from tests.support import (
    BERLIN,
    WEDNESDAY_14_00,
    Harness,
    change_records,
    goes_off_when_executed,
    outcomes,
    ready_then_heal,
)

NIGHTS = {
    "weeknights": {
        "Days": ["Mon", "Tue", "Wed", "Thu", "Fri"],
        "Start": "22:00",
        "End": "06:00",
        "TimeZone": "Europe/Berlin",
    }
}


def policy(**document: Any) -> str:
    return json.dumps(document)


def test_ready_at_14_00_it_executes_at_22_00(harness: Harness) -> None:
    executed = harness.execution_times()
    run = ready_then_heal(harness, policy(Windows=NIGHTS))
    assert run.outcome == "HEALED"
    trail = run.result["Policy"]
    opening = datetime(2030, 1, 2, 22, 0, tzinfo=BERLIN).astimezone(UTC)
    assert trail["Deferrals"] == [
        {"Until": opening.isoformat(), "Window": "weeknights", "Freezes": []}
    ]
    assert trail["Window"] == "weeknights"
    [at] = executed
    assert opening <= at < opening + timedelta(hours=1)
    deferred, done = run.notifications
    assert deferred.attributes["outcome"] == "DEFERRED"
    assert "heal deferred until 2030-01-02 21:00:00 UTC" in (deferred.subject or "")
    assert "change window weeknights" in deferred.message
    assert done.attributes["outcome"] == "HEALED"
    assert "Executed in the change window weeknights" in done.message


def test_inside_the_window_it_executes_at_once(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    run = harness.run(
        {"StackName": "app"},
        starting_at=datetime(2030, 1, 2, 23, 0, tzinfo=BERLIN),
        change_policy=policy(Windows=NIGHTS),
    )
    assert run.outcome == "HEALED"
    assert run.result["Policy"]["Deferrals"] == []
    assert outcomes(run.notifications) == ["HEALED"]


def test_a_hard_freeze_covering_the_window_defers_past_it(harness: Harness) -> None:
    freeze = {
        "Name": "release",
        "From": "2030-01-02T00:00",
        "To": "2030-01-04T00:00",
        "TimeZone": "Europe/Berlin",
        "Kind": "hard",
    }
    executed = harness.execution_times()
    run = ready_then_heal(harness, policy(Windows=NIGHTS, Freezes=[freeze]))
    assert run.outcome == "HEALED"
    [deferral] = run.result["Policy"]["Deferrals"]
    thaw = datetime(2030, 1, 4, 0, 0, tzinfo=BERLIN).astimezone(UTC)
    assert deferral == {"Until": thaw.isoformat(), "Window": "weeknights", "Freezes": ["release"]}
    [at] = executed
    assert at >= thaw


def test_a_freeze_past_the_execution_timeout_leaves_a_proposal(harness: Harness) -> None:
    freeze = {"Name": "year", "From": "2030-01-01", "To": "2030-12-31", "TimeZone": "UTC"}
    run = ready_then_heal(
        harness, policy(Freezes=[{**freeze, "Kind": "hard"}]), execution_timeout_seconds=86_400
    )
    assert run.outcome == "CHANGE_SET_CREATED"
    assert "no time the change policy allows leaves enough" in run.result["Reason"]
    assert "held by year" in run.result["Reason"]
    assert harness.executions() == 0


def test_a_window_too_close_to_the_timeout_to_finish_in_leaves_a_proposal(
    harness: Harness,
) -> None:
    """Ready at 14:00, the window opens at 22:00 and the execution times out at midnight: two
    hours are not enough to detect again, execute and verify (three waits of MAX_WAIT_SECONDS,
    an hour each) and bake, so the heal does not defer into a timeout that would end it
    unnotified; with the waits bounded at 20 minutes, it does."""
    run = ready_then_heal(harness, policy(Windows=NIGHTS), execution_timeout_seconds=10 * 3600)
    assert run.outcome == "CHANGE_SET_CREATED"
    assert "no time the change policy allows leaves enough" in run.result["Reason"]
    assert harness.executions() == 0
    harness.sandbox.client("cloudformation").delete_change_set(
        StackName="app", ChangeSetName=run.result["ChangeSet"]["Name"]
    )
    shorter = harness.run(
        {"StackName": "app"},
        starting_at=WEDNESDAY_14_00 + timedelta(days=7),
        change_policy=policy(Windows=NIGHTS),
        execution_timeout_seconds=10 * 3600,
        max_wait_seconds=20 * 60,
    )
    assert shorter.outcome == "HEALED"


def test_drift_fixed_by_hand_while_deferred_deletes_the_change_set(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    # someone sets the parameter back by hand while the heal waits for its window (the deferral
    # notice is published just before the wait)
    harness.sandbox.faults.before_call("Publish", lambda: harness.drift("on"), service="sns")
    run = harness.run(
        {"StackName": "app"}, starting_at=WEDNESDAY_14_00, change_policy=policy(Windows=NIGHTS)
    )
    assert run.outcome == "IN_SYNC", run.result["Reason"]
    assert "gone when the change window opened" in run.result["Reason"]
    assert harness.change_sets() == [] and harness.executions() == 0


def test_a_stack_updated_while_deferred_is_left_for_review(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    cfn = harness.sandbox.client("cloudformation")

    def update() -> None:
        cfn.update_stack(
            StackName="app",
            UsePreviousTemplate=True,
            Parameters=[{"ParameterKey": "Env", "ParameterValue": "prod"}],
            Tags=[{"Key": "team", "Value": "checkout"}],
        )

    harness.sandbox.faults.before_call("Publish", update, service="sns")
    run = harness.run(
        {"StackName": "app"}, starting_at=WEDNESDAY_14_00, change_policy=policy(Windows=NIGHTS)
    )
    assert run.outcome == "CHANGE_SET_CREATED"
    assert "deferred by the change policy, then not executed" in run.result["Reason"]
    assert harness.executions() == 1  # the update, not the heal


def test_all_drift_accepted_reports_it_and_changes_nothing(harness: Harness) -> None:
    rule = {
        "ResourceType": "AWS::SSM::Parameter",
        "LogicalId": "Param",
        "PropertyPath": "/Value",
        "Reason": "feature flag flipped by the release tool",
        "Owner": "release@example.com",
        "Expires": "2030-06-30",
    }
    run = ready_then_heal(harness, policy(AcceptedDrift=[rule]))
    assert run.outcome == "DRIFT_REPORTED"
    assert "all of it accepted" in run.result["Reason"]
    assert run.result["Policy"]["AcceptedDrift"] == [
        {
            "LogicalResourceId": "Param",
            "PropertyPath": "/Value",
            "Reason": "feature flag flipped by the release tool",
            "Owner": "release@example.com",
            "Expires": "2030-06-30",
        }
    ]
    assert harness.sandbox.calls[("cloudformation", "CreateChangeSet")] == 0
    [note] = run.notifications
    assert "accepted by the change policy" in (note.subject or "")
    assert "release@example.com" in note.message


def test_an_expired_rule_makes_the_drift_count_again(harness: Harness) -> None:
    rule = {
        "ResourceType": "*",
        "LogicalId": "*",
        "PropertyPath": "*",
        "Reason": "migration",
        "Owner": "ops@example.com",
        "Expires": "2030-01-01",  # the day before WEDNESDAY_14_00
    }
    run = ready_then_heal(harness, policy(AcceptedDrift=[rule]))
    assert run.outcome == "HEALED"
    assert run.result["Policy"]["ExpiredRules"] == ["rule 1 (ops@example.com, ended 2030-01-01)"]
    assert "Expired, so its drift counts again" in run.notifications[-1].message


def test_drift_partly_accepted_is_never_reverted_unattended(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    harness.sandbox.client("sqs")  # the queue drifts too
    queue_url = harness.sandbox.client("sqs").list_queues()["QueueUrls"][0]
    harness.sandbox.client("sqs").set_queue_attributes(
        QueueUrl=queue_url, Attributes={"VisibilityTimeout": "99"}
    )
    rule = {
        "ResourceType": "AWS::SQS::Queue",
        "LogicalId": "Queue",
        "PropertyPath": "/VisibilityTimeout",
        "Reason": "tuned during the incident",
        "Owner": "sre@example.com",
        "Expires": "2030-02-01",
    }
    run = harness.run(
        {"StackName": "app"},
        starting_at=WEDNESDAY_14_00,
        change_policy=policy(AcceptedDrift=[rule]),
    )
    assert run.outcome == "CHANGE_SET_CREATED"
    assert "would also revert drift the change policy accepts" in run.result["Reason"]
    assert "Queue /VisibilityTimeout" in run.result["Reason"]
    assert harness.executions() == 0


def test_a_critical_stack_waits_for_approval(harness: Harness) -> None:
    harness.stack(Tags=[{"Key": "drift-healer:tier", "Value": "critical"}])
    harness.drift()
    run = harness.run(
        {"StackName": "app"},
        starting_at=WEDNESDAY_14_00,
        change_policy=policy(Tiers={"critical": {"Approval": "always", "Windows": []}}),
        approval_timeout_seconds=1,  # callback timeouts run on real time in the local runner
    )
    assert run.outcome == "REJECTED"  # nobody answered in time
    assert run.result["Policy"]["Tier"] == "critical"
    assert run.notifications[0].attributes["outcome"] == "APPROVAL_REQUESTED"
    assert harness.executions() == 0


def test_a_policy_that_cannot_be_used_fails_before_anything_is_done(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    document = '{\n  "Windows": {\n    "nights": {"Days": ["Mon"], "Start": "22:00",\n'
    document += '      "End": "22:00", "TimeZone": "Europe/Berlin"}\n  }\n}\n'
    run = harness.run({"StackName": "app"}, change_policy=document)
    assert run.error.type.endswith("ChangePolicyInvalid")
    assert "CHANGE_POLICY, line 4: Windows.nights.End" in run.error.message, run.error.message
    assert harness.sandbox.calls[("cloudformation", "DetectStackDrift")] == 0
    assert "line 4" in run.failure_note()


def test_a_stack_tag_naming_an_unknown_tier_fails_with_the_known_ones(harness: Harness) -> None:
    harness.stack(Tags=[{"Key": "drift-healer:tier", "Value": "gold"}])
    harness.drift()
    run = harness.run(
        {"StackName": "app"}, change_policy=policy(Tiers={"critical": {}, "standard": {}})
    )
    assert run.error.type.endswith("ChangePolicyInvalid")
    assert "gold" in run.error.message and "critical" in run.error.message


def test_the_policy_is_read_from_its_ssm_parameter(harness: Harness) -> None:
    harness.sandbox.client("ssm").put_parameter(
        Name="/drift-healer/policy", Value=policy(Windows=NIGHTS), Type="String"
    )
    run = ready_then_heal(harness, "", change_policy_parameter="/drift-healer/policy")
    assert run.outcome == "HEALED"
    assert run.result["Policy"]["Window"] == "weeknights"


HEALTH = {"Alarms": ["checkout-5xx"], "BakeMinutes": 10}


def test_an_alarm_in_alarm_blocks_the_execution(harness: Harness) -> None:
    harness.alarm("checkout-5xx", "ALARM")
    run = ready_then_heal(harness, policy(Health=HEALTH))
    assert run.outcome == "CHANGE_SET_CREATED"
    assert "no changes while monitoring alarms (checkout-5xx (ALARM))" in run.result["Reason"]
    assert run.result["Policy"]["HealthBefore"] == {"checkout-5xx": "ALARM"}
    assert harness.executions() == 0


def test_missing_metrics_block_by_default_and_may_be_allowed(harness: Harness) -> None:
    harness.alarm("checkout-5xx", "INSUFFICIENT_DATA")
    run = ready_then_heal(harness, policy(Health={**HEALTH, "Alarms": ["checkout-5xx", "gone"]}))
    assert run.outcome == "CHANGE_SET_CREATED"
    assert "checkout-5xx (INSUFFICIENT_DATA), gone (INSUFFICIENT_DATA)" in run.result["Reason"]
    harness.sandbox.client("cloudformation").delete_change_set(
        StackName="app", ChangeSetName=run.result["ChangeSet"]["Name"]
    )
    allowed = harness.run(
        {"StackName": "app"},
        change_policy=policy(Health={**HEALTH, "InsufficientData": "allow"}),
    )
    assert allowed.outcome == "HEALED"


def test_an_alarm_that_goes_off_after_the_change_is_told_loudly(harness: Harness) -> None:
    harness.alarm("checkout-5xx", "OK")
    goes_off_when_executed(harness, "checkout-5xx")
    run = ready_then_heal(harness, policy(Health=HEALTH))
    assert run.outcome == "HEALED"
    trail = run.result["Policy"]
    assert trail["HealthBefore"] == {"checkout-5xx": "OK"}
    assert trail["HealthAfter"] == {"checkout-5xx": "ALARM"}
    assert trail["Regressions"] == ["checkout-5xx (ALARM)"]
    assert run.result["Reason"].startswith("HEALTH REGRESSION after the change: checkout-5xx")
    done = run.notifications[-1]
    assert done.subject == "[drift-healer] app: ALARM after healing: checkout-5xx (ALARM)"
    assert "REGRESSION: checkout-5xx (ALARM) went off after the change" in done.message
    bake = run.local.phase("bake time")
    assert bake.started and bake.ended and bake.ended - bake.started >= timedelta(minutes=10)


def test_a_stack_tag_adds_its_own_alarms(harness: Harness) -> None:
    harness.alarm("orders-lag", "ALARM")
    harness.stack(Tags=[{"Key": "drift-healer:alarms", "Value": "orders-lag"}])
    harness.drift()
    run = harness.run({"StackName": "app"}, change_policy=policy(Health=HEALTH))
    assert run.outcome == "CHANGE_SET_CREATED"
    assert "orders-lag (ALARM)" in run.result["Reason"]


def test_an_alarm_prefix_that_matches_nothing_blocks_as_missing_data(harness: Harness) -> None:
    """A typo in AlarmPrefix does not turn the gate off: no metrics, no changes."""
    harness.alarm("prod-checkout", "OK")
    run = ready_then_heal(harness, policy(Health={"AlarmPrefix": "prdo-"}))
    assert run.outcome == "CHANGE_SET_CREATED"
    assert "prdo-* (INSUFFICIENT_DATA)" in run.result["Reason"]
    assert harness.executions() == 0


def test_thousands_of_alarms_under_a_prefix_stay_within_aws_limits(harness: Harness) -> None:
    """The checkpoint, the result and the message show 50 alarms, those not OK first, and count
    the rest; the gate still judges every one, and the alarms are read once before the change
    and once after it (not again by name)."""
    for i in range(300):
        harness.alarm(f"prod-{i:03}", "OK")
    goes_off_when_executed(harness, "prod-299")
    reads = harness.sandbox.calls[("cloudwatch", "DescribeAlarms")]
    run = ready_then_heal(harness, policy(Health={"AlarmPrefix": "prod-", "BakeMinutes": 1}))
    assert run.outcome == "HEALED"
    trail = run.result["Policy"]
    assert trail["AlarmsWatched"] == 300
    assert len(trail["HealthBefore"]) == len(trail["HealthAfter"]) == 50
    assert next(iter(trail["HealthAfter"].items())) == ("prod-299", "ALARM")
    assert trail["Regressions"] == ["prod-299 (ALARM)"]
    assert run.local.phase("health before").size < 4_000
    assert "and 250 more, OK" in run.notifications[-1].message
    assert harness.sandbox.calls[("cloudwatch", "DescribeAlarms")] - reads == 2


def test_a_change_calendar_closed_over_the_window_defers_past_it(harness: Harness) -> None:
    closed = (datetime(2030, 1, 2, 12, tzinfo=BERLIN), datetime(2030, 1, 3, 3, tzinfo=BERLIN))
    harness.sandbox.change_calendar("release-freeze", closed=[closed])
    executed = harness.execution_times()
    run = ready_then_heal(harness, policy(Windows=NIGHTS, ChangeCalendar="release-freeze"))
    assert run.outcome == "HEALED"
    [deferral] = run.result["Policy"]["Deferrals"]
    reopens = closed[1].astimezone(UTC)
    assert deferral == {
        "Until": reopens.isoformat(),
        "Window": "weeknights",
        "Freezes": ["release-freeze"],
    }
    [at] = executed
    assert reopens <= at < reopens + timedelta(hours=1)


def test_a_change_calendar_closed_past_the_deadline_leaves_a_proposal(harness: Harness) -> None:
    harness.sandbox.change_calendar("year", default_open=False)
    run = ready_then_heal(
        harness, policy(ChangeCalendar="year"), execution_timeout_seconds=3 * 86_400
    )
    assert run.outcome == "CHANGE_SET_CREATED"
    assert "held by year" in run.result["Reason"]
    assert harness.executions() == 0


def test_a_change_calendar_that_does_not_exist_fails_the_heal(harness: Harness) -> None:
    run = ready_then_heal(harness, policy(ChangeCalendar="missing"))
    assert run.error.type.endswith("AwsRequestRefused")
    assert "missing" in run.error.message
    assert harness.executions() == 0


def test_every_change_leaves_one_complete_change_record(harness: Harness) -> None:
    harness.sandbox.client("s3").create_bucket(Bucket="records")
    run = ready_then_heal(harness, policy(Windows=NIGHTS), change_record_bucket="records")
    assert run.outcome == "HEALED"
    [(key, record)] = change_records(harness, "records").items()
    assert run.result["ChangeRecord"] == f"s3://records/{key}"
    assert key.startswith("change-records/app/2030/01/02/")
    assert record["Version"] == 1 and record["Execution"].endswith(key.rsplit("/", 1)[1][:-5])
    assert record["Result"] == run.result  # what was found, the change set, the verification
    assert record["Rules"]["HealMode"] == "heal" and record["Rules"]["ApprovalFor"] == "none"
    assert record["Rules"]["Policy"]["Deferrals"][0]["Window"] == "weeknights"
    assert record["Result"]["ChangeSet"]["Risk"] == "LOW"
    assert f"Change record: s3://records/{key}" in run.notifications[-1].message


def test_no_change_no_record_and_the_record_holds_no_values_when_hidden(
    harness: Harness,
) -> None:
    harness.sandbox.client("s3").create_bucket(Bucket="records")
    harness.stack()
    in_sync = harness.run({"StackName": "app"}, change_record_bucket="records")
    assert in_sync.outcome == "IN_SYNC" and change_records(harness, "records") == {}
    harness.drift("secret-ish-value")
    proposed = harness.run(
        {"StackName": "app", "CreateChangeSetOnly": True},
        change_record_bucket="records",
        hide_values=True,
    )
    assert proposed.outcome == "CHANGE_SET_CREATED"
    [record] = change_records(harness, "records").values()
    assert "secret-ish-value" not in json.dumps(record)
    assert record["Result"]["DriftedResources"][0]["PropertyDifferences"][0]["PropertyPath"]


@pytest.mark.fault(
    "The change record cannot be written (no bucket, access denied)",
    "logged; the heal goes on, its result without ChangeRecord",
)
@pytest.mark.parametrize("denied", [False, True], ids=["no bucket", "no s3:PutObject"])
def test_a_record_that_cannot_be_written_does_not_stop_the_heal(
    harness: Harness, denied: bool
) -> None:
    bucket = "no-such-bucket"
    if denied:
        bucket = "records"
        harness.sandbox.client("s3").create_bucket(Bucket=bucket)
        harness.sandbox.faults.deny("PutObject", times=99, service="s3")
    run = ready_then_heal(harness, "{}", change_record_bucket=bucket)
    assert run.outcome == "HEALED"
    assert run.result.get("ChangeRecord") is None
    assert "Change record:" not in run.notifications[-1].message
    if denied:
        assert change_records(harness, bucket) == {}


@pytest.mark.fault(
    "Writing the change record is throttled (SlowDown), or its response is lost",
    "retried: one record, and the result and message carry its key",
)
@pytest.mark.parametrize("fault", ["throttle", "lose_response"])
def test_a_record_write_that_is_throttled_or_loses_its_answer_is_retried(
    harness: Harness, fault: str
) -> None:
    harness.sandbox.client("s3").create_bucket(Bucket="records")
    getattr(harness.sandbox.faults, fault)("PutObject", times=3, service="s3")
    run = ready_then_heal(harness, "{}", change_record_bucket="records")
    assert run.outcome == "HEALED"
    assert harness.sandbox.calls[("s3", "PutObject")] == 3 + 1
    [(key, record)] = change_records(harness, "records").items()
    assert run.result["ChangeRecord"] == f"s3://records/{key}"
    assert record["Result"] == run.result
    assert f"Change record: s3://records/{key}" in run.notifications[-1].message


def test_a_window_opening_in_the_hour_daylight_saving_skips_opens_at_its_end(
    harness: Harness,
) -> None:
    """Europe/Berlin moves from 02:00 to 03:00 on Sunday 2030-03-31: a window that opens at
    02:30 that night opens at 03:00 summer time (01:00 UTC), and the heal waits until then."""
    harness.stack()
    harness.drift()
    executed = harness.execution_times()
    early = {"Days": ["Sun"], "Start": "02:30", "End": "05:00", "TimeZone": "Europe/Berlin"}
    run = harness.run(
        {"StackName": "app"},
        starting_at=datetime(2030, 3, 30, 14, 0, tzinfo=BERLIN),
        change_policy=policy(Windows={"sunday-early": early}),
    )
    assert run.outcome == "HEALED"
    opens = datetime(2030, 3, 31, 1, 0, tzinfo=UTC)
    [deferral] = run.result["Policy"]["Deferrals"]
    assert deferral["Until"] == opens.isoformat()
    [at] = executed
    assert opens <= at < opens + timedelta(hours=1)


def test_a_window_that_closes_before_execution_starts_defers_again(harness: Harness) -> None:
    """Wednesday's window lasts a minute: by the time the heal has re-validated and detected
    again, less than a minute is left (windows.MIN_OPEN), so it defers again, to Thursday's."""
    windows = {
        "wednesday-minute": {
            "Days": ["Wed"],
            "Start": "22:00",
            "End": "22:01",
            "TimeZone": "Europe/Berlin",
        },
        "thursday-night": {
            "Days": ["Thu"],
            "Start": "22:00",
            "End": "06:00",
            "TimeZone": "Europe/Berlin",
        },
    }
    executed = harness.execution_times()
    run = ready_then_heal(harness, policy(Windows=windows))
    assert run.outcome == "HEALED", run.result["Reason"]
    first, second = run.result["Policy"]["Deferrals"]
    wednesday = datetime(2030, 1, 2, 22, 0, tzinfo=BERLIN).astimezone(UTC)
    thursday = wednesday + timedelta(days=1)
    assert (first["Until"], first["Window"]) == (wednesday.isoformat(), "wednesday-minute")
    assert (second["Until"], second["Window"]) == (thursday.isoformat(), "thursday-night")
    assert run.result["Policy"]["Window"] == "thursday-night"
    [at] = executed
    assert thursday <= at < thursday + timedelta(hours=1)
    assert outcomes(run.notifications) == ["DEFERRED", "DEFERRED", "HEALED"]


def test_windows_too_short_to_use_leave_a_proposal_after_five_deferrals(harness: Harness) -> None:
    minute = {"Days": ["Mon", "Tue", "Wed", "Thu", "Fri"], "Start": "22:00", "End": "22:01"}
    run = ready_then_heal(
        harness, policy(Windows={"minute": {**minute, "TimeZone": "Europe/Berlin"}})
    )
    assert run.outcome == "CHANGE_SET_CREATED"
    assert "deferred 5 times by the change policy" in run.result["Reason"]
    assert len(run.result["Policy"]["Deferrals"]) == 5 and harness.executions() == 0


def test_every_phase_of_a_deferred_gated_recorded_heal_tells_ctrl_c_what_it_leaves(
    harness: Harness,
) -> None:
    """The CLI's Ctrl-C message says what the stack is left with from the last phase reached
    (drift_healer_cli.errors): every phase such a heal goes through must be one it knows."""
    harness.alarm("checkout-5xx", "OK")
    harness.sandbox.client("s3").create_bucket(Bucket="records")
    harness.sandbox.client("ssm").put_parameter(
        Name="/drift-healer/policy",
        Value=policy(Windows=NIGHTS, Health=HEALTH),
        Type="String",
    )
    run = ready_then_heal(
        harness,
        "",
        change_policy_parameter="/drift-healer/policy",
        change_record_bucket="records",
        history_bucket="records",
    )
    assert run.outcome == "HEALED" and run.result["Policy"]["Deferrals"]
    names = [phase.name for phase in run.local.phases]
    assert [name for name in names if not name.startswith(cli_errors.KNOWN)] == []
    assert {"change window 1", "bake time", "write change record"} <= set(names)
