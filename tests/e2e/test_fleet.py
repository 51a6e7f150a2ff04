"""The fleet end to end: stacks enrol by tag in several accounts and regions, the reconciler keeps
one EventBridge Scheduler schedule per stack in the sandbox, and a schedule's event heals."""

from __future__ import annotations

import json
import re
from collections import Counter
from itertools import cycle
from typing import Any

import pytest

from drift_healer import aws, reconciler
from drift_healer.errors import InvalidConfiguration, InvalidRequest
from drift_healer.models import HealRequest, ReconcileResult
from drift_healer.settings import FleetSettings
from drift_sandbox import ACCOUNT_ID, Sandbox
from tests.support import Harness

MEMBERS = ("111111111111", "222222222222")
REGIONS = ("us-east-1", "eu-west-1")
GROUP = "drift-healer-schedules"
WRITES = ("CreateSchedule", "UpdateSchedule", "DeleteSchedule")
CONFIG: dict[str, Any] = {
    "schedule_group": GROUP,
    "scheduler_role_arn": f"arn:aws:iam::{ACCOUNT_ID}:role/drift-healer/scheduler",
    "healer_target_arn": f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:drift-healer:live",
    "schedule_dead_letter_arn": f"arn:aws:sqs:us-east-1:{ACCOUNT_ID}:schedule-dead-letters",
    "fleet_regions": ",".join(REGIONS),
    "fleet_accounts": ",".join(MEMBERS),
    "member_role_name": "DriftHealerMember",
    "heal_mode": "propose",
    # botocore's in-call retries sleep in real time: most tests see each fault as it is
    "aws_max_attempts": 1,
}


class Fleet:
    """The sandbox with the healer's schedule group, and the reconciler run against it."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        sandbox.client("scheduler").create_schedule_group(Name=GROUP)

    def reconcile(self, event: Any = None, **overrides: Any) -> ReconcileResult:
        aws.reset()  # each run is a fresh invocation: no cached credentials
        settings = FleetSettings(**{**CONFIG, **overrides})
        with self.sandbox.environ():
            return reconciler.Reconciler(settings).run(
                reconciler.parse(event if event is not None else {}).dry_run
            )

    def writes(self) -> int:
        return sum(self.sandbox.calls[("scheduler", action)] for action in WRITES)

    def schedules(self) -> dict[str, str]:
        """Name -> state of every schedule in the group."""
        pages = self.sandbox.client("scheduler").get_paginator("list_schedules")
        return {
            s["Name"]: s["State"]
            for page in pages.paginate(GroupName=GROUP)
            for s in page["Schedules"]
        }

    def events(self) -> dict[str, dict[str, Any]]:
        """Stack ARN -> the heal event its schedule sends (only enabled schedules fire)."""
        out = {}
        for name, state in self.schedules().items():
            if state == "ENABLED":
                event = self.sandbox.scheduled_event(GROUP, name)
                out[event["StackName"]] = event
        return out


@pytest.fixture
def fleet(harness: Harness) -> Fleet:
    return Fleet(harness.sandbox)


def _places() -> list[tuple[str, str]]:
    return [(a, r) for a in (ACCOUNT_ID, *MEMBERS) for r in REGIONS]


# ------------------------------------------------------------------------------- at scale
def test_five_thousand_stacks_in_three_accounts_and_two_regions_converge(fleet: Fleet) -> None:
    """Enrol 5,000 stacks (and 600 that are not) under throttling, re-tag, delete and add some:
    each run writes exactly what changed, and a run after a run writes nothing."""
    sandbox = fleet.sandbox
    arns: dict[str, list[str]] = {}
    values = cycle(["enabled"] * 7 + ["propose", "heal", "dry-run"])
    for index, (account, region) in enumerate(_places()):
        count = 834 if index < 2 else 833  # 2 x 834 + 4 x 833 = 5,000
        names = [f"app{index}-{i}" for i in range(count)]
        arns[f"{account}/{region}"] = [
            sandbox.create_stacks([name], {"drift-healer": next(values)}, account, region)[0]
            for name in names[:20]
        ] + sandbox.create_stacks(names[20:], {"drift-healer": "enabled"}, account, region)
        sandbox.create_stacks(
            [f"other{index}-{i}" for i in range(100)], {"team": "x"}, account, region
        )

    # the first night is throttled: one region's discovery and 40 writes fail for good
    sandbox.faults.throttle("GetResources", times=1, service="resourcegroupstaggingapi")
    sandbox.faults.throttle("CreateSchedule", times=40, service="scheduler")
    first = fleet.reconcile()
    assert not first.complete and first.error_count == 1 + 40
    assert (first.enrolled, first.created, first.deleted) == (5000 - 834, 5000 - 834 - 40, 0)
    second = fleet.reconcile()
    assert second.complete and (second.created, second.unchanged) == (834 + 40, 5000 - 874)
    assert (second.enrolled, second.places) == (5000, 6)
    assert len(fleet.schedules()) == 5000
    assert sandbox.calls[("scheduler", "CreateSchedule")] == 5000 + 40

    writes, reads = fleet.writes(), sandbox.calls[("resourcegroupstaggingapi", "GetResources")]
    again = fleet.reconcile()
    assert fleet.writes() == writes, "a run after a run must write nothing"
    assert (again.unchanged, again.created, again.updated, again.deleted) == (5000, 0, 0, 0)
    # discovery reads pages of 100 tagged stacks (834 -> 9 pages), however many stacks there are
    assert sandbox.calls[("resourcegroupstaggingapi", "GetResources")] - reads == 6 * 9

    mine = arns[f"{ACCOUNT_ID}/us-east-1"]
    theirs = arns[f"{MEMBERS[1]}/eu-west-1"]
    for stack in mine[100:105]:
        sandbox.tag_stack(stack, {"drift-healer": "paused"}, ACCOUNT_ID, "us-east-1")
    for stack in theirs[100:105]:
        sandbox.tag_stack(stack, {"drift-healer": "dry-run"}, MEMBERS[1], "eu-west-1")
    for stack in mine[200:207]:
        sandbox.delete_stack(stack, "us-east-1")
    sandbox.create_stacks(["late-1", "late-2", "late-3"], {"drift-healer": "heal"})
    sandbox.tag_stack(mine[300], {"drift-healer": "yes please"}, ACCOUNT_ID, "us-east-1")

    third = fleet.reconcile()
    # 5 paused in place; 5 new definitions (created, old deleted); 7 gone; 3 new
    assert (third.updated, third.created, third.deleted) == (5, 5 + 3, 5 + 7)
    assert fleet.writes() - writes == 5 + 8 + 12
    assert third.invalid_count == 1 and third.invalid[0].where == mine[300]
    assert "drift-healer='yes please'" in third.invalid[0].reason
    schedules = fleet.schedules()
    assert len(schedules) == 5000 - 7 + 3
    assert Counter(schedules.values()) == {"ENABLED": 4991, "DISABLED": 5}
    writes = fleet.writes()
    assert fleet.reconcile().complete and fleet.writes() == writes


def test_each_schedule_sends_the_contract_event_with_region_role_and_mode(fleet: Fleet) -> None:
    sandbox = fleet.sandbox
    mine = sandbox.create_stacks(["a"], {"drift-healer": "enabled"})[0]
    theirs = sandbox.create_stacks(["b"], {"drift-healer": "dry-run"}, MEMBERS[0], "eu-west-1")[0]
    paused = sandbox.create_stacks(["c"], {"drift-healer": "paused"}, MEMBERS[1], "us-east-1")[0]
    fleet.reconcile()
    events = fleet.events()
    assert events.keys() == {mine, theirs}, "a paused stack's schedule does not fire"
    assert HealRequest.model_validate(events[mine]).event() == {
        "StackName": mine,
        "Region": "us-east-1",
        "CreateChangeSetOnly": True,  # enabled: the deployment's HealMode (propose)
    }
    assert HealRequest.model_validate(events[theirs]).event() == {
        "StackName": theirs,
        "Region": "eu-west-1",
        "RoleArn": f"arn:aws:iam::{MEMBERS[0]}:role/drift-healer/DriftHealerMember",
        "DryRun": True,
    }
    assert paused.split(":")[4] == MEMBERS[1]
    sessions = {
        role for role, session in sandbox.assumed_roles() if session == ("drift-healer-reconciler")
    }
    assert sessions == {f"arn:aws:iam::{m}:role/drift-healer/DriftHealerMember" for m in MEMBERS}


def test_starts_are_spread_evenly_in_each_account_and_region(fleet: Fleet) -> None:
    sandbox = fleet.sandbox
    for account, region in _places()[:2]:
        sandbox.create_stacks(
            [f"s{i}" for i in range(600)], {"drift-healer": "enabled"}, account, region
        )
    fleet.reconcile(spread_minutes=120)
    client = sandbox.client("scheduler")
    by_place: dict[str, Counter[int]] = {}
    for name in fleet.schedules():
        schedule = client.get_schedule(GroupName=GROUP, Name=name)
        minute, hour = map(int, schedule["ScheduleExpression"][5:].split()[:2])
        start = hour * 60 + minute - 120  # the default cron(0 2 * * ? *)
        assert 0 <= start < 120
        region = HealRequest.model_validate_json(schedule["Target"]["Input"]).stack_region
        by_place.setdefault(str(region), Counter())[start // 30] += 1
    # stack ARNs end in a random id: each half hour holds 150 ± 11 (one standard deviation)
    for slots in by_place.values():
        assert len(slots) == 4 and all(90 <= n <= 210 for n in slots.values())


# ------------------------------------------------------------------------------- faults
@pytest.mark.fault(
    "EventBridge Scheduler throttles writes beyond every retry (reconciler)",
    "the writes that failed are listed; the next run writes exactly those",
)
def test_throttled_writes_are_reported_and_the_next_run_converges(
    fleet: Fleet, capsys: pytest.CaptureFixture[str]
) -> None:
    fleet.sandbox.create_stacks([f"s{i}" for i in range(30)], {"drift-healer": "enabled"})
    fleet.sandbox.faults.throttle("CreateSchedule", times=12, service="scheduler")
    first = fleet.reconcile()
    assert not first.complete and (first.created, first.error_count) == (18, 12)
    assert "ThrottlingException" in first.errors[0].reason
    assert "the next run goes on" in first.errors[0].reason
    [metrics] = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line
    ]
    assert metrics["ReconcileErrors"] == [12.0] and metrics["SchedulesWritten"] == [18.0]
    second = fleet.reconcile()
    assert second.complete and (second.created, second.unchanged) == (12, 18)
    assert len(fleet.schedules()) == 30


@pytest.mark.fault(
    "Scheduler throttles a few calls (reconciler, botocore retries on)",
    "absorbed inside the call; nothing reported",
)
def test_a_few_throttles_are_absorbed_by_retries(fleet: Fleet) -> None:
    fleet.sandbox.create_stacks(["a", "b"], {"drift-healer": "enabled"})
    fleet.sandbox.faults.throttle("ListSchedules", times=1, service="scheduler")
    fleet.sandbox.faults.throttle("GetResources", times=1, service="resourcegroupstaggingapi")
    result = fleet.reconcile(aws_max_attempts=3, fleet_accounts="", fleet_regions="us-east-1")
    assert result.complete and result.created == 2


@pytest.mark.fault(
    "A member account's role cannot be assumed (reconciler)",
    "that account's schedules are kept, not deleted; the error names the member role",
)
def test_an_unreadable_account_keeps_its_schedules(fleet: Fleet) -> None:
    sandbox = fleet.sandbox
    for account, region in _places():
        sandbox.create_stacks(["app"], {"drift-healer": "enabled"}, account, region)
    assert fleet.reconcile().created == 6
    writes = fleet.writes()
    sandbox.faults.deny("AssumeRole", times=2, service="sts")  # the first member, both regions
    result = fleet.reconcile()
    assert not result.complete and fleet.writes() == writes and len(fleet.schedules()) == 6
    assert [e.where for e in result.errors] == [f"{MEMBERS[0]}/{r}" for r in REGIONS]
    assert "member-account.yaml" in result.errors[0].reason
    assert fleet.reconcile().complete


@pytest.mark.fault(
    "`CreateSchedule` took effect but its response was lost (reconciler)",
    "reported; the next run finds the schedule and writes nothing for it",
)
def test_a_lost_create_response_does_not_create_twice(fleet: Fleet) -> None:
    fleet.sandbox.create_stacks(["a"], {"drift-healer": "enabled"})
    fleet.sandbox.faults.lose_response("CreateSchedule", service="scheduler")
    assert not fleet.reconcile(fleet_accounts="").complete
    writes = fleet.writes()
    result = fleet.reconcile(fleet_accounts="")
    assert result.complete and result.unchanged == 1 and fleet.writes() == writes
    assert len(fleet.schedules()) == 1


def test_a_run_that_runs_out_of_time_stops_writing_and_the_next_finishes(fleet: Fleet) -> None:
    fleet.sandbox.create_stacks([f"s{i}" for i in range(10)], {"drift-healer": "enabled"})
    left = iter([100.0] * 4 + [10.0] * 100)
    aws.reset()
    settings = FleetSettings(**{**CONFIG, "fleet_accounts": ""})
    with fleet.sandbox.environ():
        result = reconciler.Reconciler(settings, remaining=lambda: next(left)).run()
    assert (result.created, result.complete) == (4, False)
    assert "6 writes left for the next run" in result.errors[-1].reason
    assert fleet.reconcile(fleet_accounts="").created == 6


def test_dry_run_plans_and_writes_nothing(fleet: Fleet) -> None:
    fleet.sandbox.create_stacks(["a", "b"], {"drift-healer": "enabled"})
    result = fleet.reconcile({"DryRun": True}, fleet_accounts="")
    assert result.dry_run and result.created == 2 and fleet.writes() == 0


# ------------------------------------------------------------------------------- bad input
def test_bad_event_and_incomplete_environment_are_clear_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(InvalidRequest, match=re.escape('takes {} or {"DryRun": true}')):
        reconciler.parse({"Dryrun": True})
    for variable in ("SCHEDULE_GROUP", "SCHEDULER_ROLE_ARN", "HEALER_TARGET_ARN"):
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises(InvalidConfiguration, match="SCHEDULE_GROUP: Field required"):
        reconciler.settings()
    monkeypatch.setenv("FLEET_ACCOUNTS", "1234,210987654321")
    with pytest.raises(InvalidConfiguration, match="'1234': not 12-digit account ids"):
        reconciler.settings()


# ------------------------------------------------------------------------------- the heal
def test_a_tagged_stack_is_scheduled_and_its_schedules_event_heals_it(
    harness: Harness, fleet: Fleet
) -> None:
    harness.stack()
    harness.drift()
    fleet.sandbox.tag_stack("app", {"drift-healer": "enabled"})
    result = fleet.reconcile(heal_mode="heal", fleet_accounts="", fleet_regions="us-east-1")
    assert result.created == 1
    [event] = fleet.events().values()
    run = harness.run(event, heal_mode="heal", opt_in_tag_key="drift-healer")
    assert run.outcome == "HEALED" and harness.param_value() == "on"
