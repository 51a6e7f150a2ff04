"""The fleet plan, enrolment tags and the spread, with plain data."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drift_healer.models import HealMode, HealRequest
from drift_healer.policy import enrolment, fleet
from drift_healer.records import ScheduleSummary

ME, MEMBER = "123456789012", "210987654321"
ROLE = f"arn:aws:iam::{MEMBER}:role/drift-healer/DriftHealerMember"
DEFAULTS = fleet.Defaults(
    heal_mode=HealMode.PROPOSE,
    expression="cron(0 2 * * ? *)",
    timezone="UTC",
    spread_minutes=180,
    flexible_minutes=15,
    target_arn=f"arn:aws:lambda:us-east-1:{ME}:function:drift-healer:live",
    scheduler_role_arn=f"arn:aws:iam::{ME}:role/drift-healer/scheduler",
    dead_letter_arn=f"arn:aws:sqs:us-east-1:{ME}:dead-letters",
)
EVERYWHERE = {fleet.place(a, r) for a in (ME, MEMBER) for r in ("us-east-1", "eu-west-1")}


def arn(name: str, account: str = ME, region: str = "us-east-1", uid: str = "1") -> str:
    return f"arn:aws:cloudformation:{region}:{account}:stack/{name}/{uid}"


def stack(name: str, value: str = "enabled", account: str = ME, **tags: str) -> fleet.Enrolled:
    return fleet.Enrolled(
        arn=arn(name, account),
        tags={"drift-healer": value, **tags},
        role_arn=ROLE if account == MEMBER else None,
    )


def applied(plan: fleet.Plan, existing: list[ScheduleSummary]) -> list[ScheduleSummary]:
    """The group after the plan's writes."""
    group = {e["Name"]: e for e in existing}
    for s in plan.create + plan.update:
        group[s.name] = {"Name": s.name, "State": s.state}
    for name in plan.delete:
        group.pop(name)
    return list(group.values())


# ------------------------------------------------------------------------------- the schedule
def test_the_schedule_sends_the_contract_event_for_the_stack() -> None:
    mine = fleet.schedule(stack("app"), DEFAULTS)
    assert mine.event == {
        "StackName": arn("app"),
        "Region": "us-east-1",
        "CreateChangeSetOnly": True,  # enabled takes the deployment's mode: propose
    }
    assert HealRequest.model_validate(mine.event).heal_mode is HealMode.PROPOSE
    theirs = fleet.schedule(stack("app", "dry-run", account=MEMBER), DEFAULTS)
    assert theirs.event == {
        "StackName": arn("app", MEMBER),
        "Region": "us-east-1",
        "RoleArn": ROLE,
        "DryRun": True,
    }
    definition = theirs.definition()
    assert json.loads(definition["Target"]["Input"]) == theirs.event
    assert definition["Target"]["Arn"] == DEFAULTS.target_arn
    assert definition["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}
    assert definition["Target"]["DeadLetterConfig"] == {"Arn": DEFAULTS.dead_letter_arn}


def test_a_tag_never_raises_the_mode_above_the_deployments() -> None:
    assert "CreateChangeSetOnly" in fleet.schedule(stack("app", "heal"), DEFAULTS).event
    heal = fleet.Defaults(**{**DEFAULTS.__dict__, "heal_mode": HealMode.HEAL})
    assert fleet.schedule(stack("app", "heal"), heal).event == {
        "StackName": arn("app"),
        "Region": "us-east-1",
    }
    assert fleet.schedule(stack("app", "propose"), heal).event["CreateChangeSetOnly"] is True


def test_names_are_valid_for_scheduler_and_differ_per_stack_and_definition() -> None:
    long = fleet.schedule(stack("a" * 128), DEFAULTS).name
    assert re.fullmatch(r"[0-9a-zA-Z-_.]{1,64}", long)
    names = {
        fleet.schedule(stack("app"), DEFAULTS).name,
        fleet.schedule(stack("app", account=MEMBER), DEFAULTS).name,
        fleet.schedule(stack("app", "heal"), DEFAULTS).name.rsplit("-", 1)[0],
        fleet.schedule(stack("app", **{"drift-healer:timezone": "Europe/Berlin"}), DEFAULTS).name,
    }
    assert len(names) == 4
    paused = fleet.schedule(stack("app", "paused"), DEFAULTS)
    assert paused.name == fleet.schedule(stack("app"), DEFAULTS).name and not paused.enabled


@pytest.mark.parametrize(
    ("tags", "why"),
    [
        ({}, "does not carry the tag drift-healer"),
        ({"drift-healer": "Enabled"}, "not a value the healer knows"),
        ({"drift-healer": "enabled", "drift-healer:schedule": "daily"}, "not a Scheduler"),
        ({"drift-healer": "enabled", "drift-healer:schedule": "rate(0 hours)"}, "Scheduler"),
        ({"drift-healer": "enabled", "drift-healer:timezone": "Berlin time"}, "time zone"),
    ],
)
def test_tags_that_do_not_enrol_say_what_to_fix(tags: dict[str, str], why: str) -> None:
    with pytest.raises(enrolment.NotEnrolled, match=why):
        enrolment.enrolment(tags)


def test_a_stacks_own_schedule_and_time_zone_tags_are_used() -> None:
    tags = {"drift-healer:schedule": "rate(12 hours)", "drift-healer:timezone": "Europe/Berlin"}
    own = fleet.schedule(stack("app", **tags), DEFAULTS)
    assert (own.expression, own.timezone) == ("rate(12 hours)", "Europe/Berlin")


# ------------------------------------------------------------------------------- the plan
def test_a_second_plan_writes_nothing_and_changes_write_only_the_difference() -> None:
    stacks = [stack(f"s{i}") for i in range(50)] + [stack("m", account=MEMBER)]
    first = fleet.plan(stacks, [], DEFAULTS, EVERYWHERE)
    assert (len(first.create), first.update, first.delete) == (51, [], [])
    group = applied(first, [])
    assert fleet.plan(stacks, group, DEFAULTS, EVERYWHERE).writes == 0

    stacks[3] = stack("s3", "paused")  # state: updated in place
    stacks[4] = stack("s4", "dry-run")  # definition: a new schedule, the old one deleted
    del stacks[5]  # untagged: deleted
    stacks.append(stack("new"))
    second = fleet.plan(stacks, group, DEFAULTS, EVERYWHERE)
    assert [s.stack_arn for s in second.update] == [arn("s3")]
    assert sorted(s.stack_arn for s in second.create) == [arn("new"), arn("s4")]
    assert len(second.delete) == 2 and second.unchanged == 48
    assert fleet.plan(stacks, applied(second, group), DEFAULTS, EVERYWHERE).writes == 0


def test_schedules_of_a_place_that_could_not_be_read_are_kept() -> None:
    stacks = [stack("a"), stack("b", account=MEMBER)]
    group = applied(fleet.plan(stacks, [], DEFAULTS, EVERYWHERE), [])
    only_mine = {fleet.place(ME, "us-east-1")}
    plan = fleet.plan([stack("a")], group, DEFAULTS, only_mine)  # the member account failed
    assert plan.writes == 0 and plan.unchanged == 2


def test_a_stack_whose_tag_became_invalid_keeps_its_schedule_and_is_reported() -> None:
    group = applied(fleet.plan([stack("a")], [], DEFAULTS, EVERYWHERE), [])
    plan = fleet.plan([stack("a", "yes")], group, DEFAULTS, EVERYWHERE)
    assert plan.writes == 0
    assert plan.invalid == [(arn("a"), plan.invalid[0][1])]
    assert "drift-healer='yes'" in plan.invalid[0][1]


def test_schedules_the_healer_did_not_name_are_removed_from_its_group() -> None:
    plan = fleet.plan([], [{"Name": "by-hand", "State": "ENABLED"}], DEFAULTS, EVERYWHERE)
    assert plan.delete == ["by-hand"]


@given(
    before=st.lists(st.sampled_from(enrolment.VALUES), min_size=0, max_size=8),
    after=st.lists(st.sampled_from((*enrolment.VALUES, None)), min_size=0, max_size=8),
)
def test_one_plan_always_converges(before: list[str], after: list[str | None]) -> None:
    """Whatever the fleet was and became, one plan applied leaves nothing to write, and the
    group holds exactly one schedule per enrolled stack."""
    old = [stack(f"s{i}", v) for i, v in enumerate(before)]
    group = applied(fleet.plan(old, [], DEFAULTS, EVERYWHERE), [])
    new = [stack(f"s{i}", v) for i, v in enumerate(after) if v is not None]
    group = applied(fleet.plan(new, group, DEFAULTS, EVERYWHERE), group)
    assert fleet.plan(new, group, DEFAULTS, EVERYWHERE).writes == 0
    assert len(group) == len(new)


# ------------------------------------------------------------------------------- the spread
def test_starts_are_spread_evenly_over_the_window_in_every_account_and_region() -> None:
    for account in (ME, MEMBER):
        for region in ("us-east-1", "eu-west-1"):
            starts = Counter()
            for i in range(900):
                expression = fleet.spread("cron(0 2 * * ? *)", 180, _key(account, region, i))
                minute, hour = map(int, expression[5:].split()[:2])
                assert 120 <= hour * 60 + minute < 300
                starts[(hour * 60 + minute - 120) // 30] += 1  # six half hours
            assert min(starts.values()) >= 150 * 0.75 and max(starts.values()) <= 150 * 1.25


def _key(account: str, region: str, i: int) -> int:
    return int(fleet._hash(arn(f"s{i}", account, region), 12), 16)


@pytest.mark.parametrize(
    ("expression", "key", "expected"),
    [
        ("cron(0 2 * * ? *)", 75, "cron(15 3 * * ? *)"),
        ("cron(30 23 * * ? *)", 45, "cron(15 0 * * ? *)"),  # any day: wraps past midnight
        ("cron(30 23 ? * MON-FRI *)", 45, "cron(45 23 ? * MON-FRI *)"),  # stays on its day
        ("rate(12 hours)", 45, "rate(12 hours)"),
        ("cron(0/15 * * * ? *)", 45, "cron(0/15 * * * ? *)"),
    ],
)
def test_spread_keeps_each_run_on_its_day(expression: str, key: int, expected: str) -> None:
    assert fleet.spread(expression, 180, key) == expected
