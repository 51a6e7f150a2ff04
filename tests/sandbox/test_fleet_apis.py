"""The APIs a fleet reconciler uses, as AWS answers them: the tagging API's GetResources over
CloudFormation stacks, several accounts, stacks by the thousand, and EventBridge Scheduler."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from drift_sandbox import ACCOUNT_ID, Sandbox
from tests.support import (
    HEALER_ARN,
    TEMPLATE,
    ManualClock,
    create_stack,
    detect,
    schedule_request,
    tagged_stacks,
)

MEMBER = "111111111111"
OTHER = "222222222222"
ENROLLED = {"drift-healer": "enabled"}
WEST = "eu-west-1"


def error_of(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response: Any = raised.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


# ------------------------------------------------------------------------------ GetResources
def test_get_resources_lists_the_live_enrolled_stacks_of_one_account_and_region(
    sandbox: Sandbox,
) -> None:
    mine = sandbox.create_stacks(["a", "b", "c"], {"drift-healer": "heal", "team": "x"})
    sandbox.create_stacks(["plain"], {"team": "x"})
    sandbox.create_stacks(["member"], ENROLLED, account=MEMBER)
    sandbox.create_stacks(["west"], ENROLLED, region=WEST)
    sandbox.client("cloudformation").delete_stack(StackName="b")
    sandbox.delete_stack("c")

    found = tagged_stacks(
        sandbox.client("resourcegroupstaggingapi"), TagFilters=[{"Key": "drift-healer"}]
    )

    assert found == {mine[0]: {"drift-healer": "heal", "team": "x"}}
    stack = sandbox.client("cloudformation").describe_stacks(StackName="a")["Stacks"][0]
    assert stack["StackId"] == mine[0]


def test_tag_filter_values_match_any_of_them(sandbox: Sandbox) -> None:
    heal, propose, paused = (
        sandbox.create_stacks([mode], {"drift-healer": mode})[0]
        for mode in ("heal", "propose", "paused")
    )
    tagging = sandbox.client("resourcegroupstaggingapi")

    found = tagged_stacks(
        tagging, TagFilters=[{"Key": "drift-healer", "Values": ["heal", "propose"]}]
    )

    assert set(found) == {heal, propose}
    assert set(tagged_stacks(tagging, TagFilters=[{"Key": "drift-healer"}])) == {
        heal,
        propose,
        paused,
    }


def test_pages_are_full_and_the_last_token_is_an_empty_string(sandbox: Sandbox) -> None:
    arns = sandbox.create_stacks([f"s{i:03}" for i in range(250)], ENROLLED)
    tagging = sandbox.client("resourcegroupstaggingapi")
    sizes, token, pages = [], None, 0
    while token != "":  # AWS ends with "", never None
        kwargs: dict[str, Any] = {"PaginationToken": token} if token else {}
        page = tagging.get_resources(
            ResourceTypeFilters=["cloudformation:stack"],
            TagFilters=[{"Key": "drift-healer"}],
            ResourcesPerPage=100,
            **kwargs,
        )
        sizes.append(len(page["ResourceTagMappingList"]))
        token = page["PaginationToken"]
        pages += 1
        assert pages < 10
    assert sizes == [100, 100, 50]
    assert set(tagged_stacks(tagging, ResourcesPerPage=7)) == set(arns)


def test_tags_per_page_never_splits_a_resource(sandbox: Sandbox) -> None:
    """The reference's example: TagsPerPage 100, 22 resources with 10 tags each: 10, 10, 2."""
    tags = {f"k{i}": "v" for i in range(10)}
    sandbox.create_stacks([f"s{i}" for i in range(22)], tags)
    pages = sandbox.client("resourcegroupstaggingapi").get_paginator("get_resources")
    sizes = [
        len(page["ResourceTagMappingList"])
        for page in pages.paginate(ResourceTypeFilters=["cloudformation:stack"], TagsPerPage=100)
    ]
    assert sizes == [10, 10, 2]


def test_a_listing_survives_stacks_deleted_and_created_between_pages(sandbox: Sandbox) -> None:
    sandbox.create_stacks([f"s{i}" for i in range(5)], ENROLLED)
    tagging = sandbox.client("resourcegroupstaggingapi")
    request: dict[str, Any] = {"TagFilters": [{"Key": "drift-healer"}], "ResourcesPerPage": 2}
    first = tagging.get_resources(**request)

    sandbox.delete_stack("s3")
    sandbox.create_stacks(["late"], ENROLLED)
    token = first["PaginationToken"]
    second = tagging.get_resources(PaginationToken=token, **request)
    again = tagging.get_resources(PaginationToken=token, **request)  # a retry reads it again

    assert second == {**again, "ResponseMetadata": second["ResponseMetadata"]}
    rest = tagged_stacks(tagging, TagFilters=[{"Key": "drift-healer"}])
    assert len(first["ResourceTagMappingList"]) == 2 and len(rest) == 5  # s3 gone, late listed


def test_a_pagination_token_expires_after_15_minutes(sandbox: Sandbox, clock: ManualClock) -> None:
    sandbox.create_stacks(["a", "b"], ENROLLED)
    tagging = sandbox.client("resourcegroupstaggingapi")
    token = tagging.get_resources(ResourcesPerPage=1)["PaginationToken"]
    clock.advance(16 * 60)
    with pytest.raises(ClientError) as raised:
        tagging.get_resources(ResourcesPerPage=1, PaginationToken=token)
    assert error_of(raised) == ("PaginationTokenExpiredException", 400)


@pytest.mark.parametrize(
    "request_",
    [
        {"ResourcesPerPage": 101},
        {"ResourcesPerPage": 0},
        {"TagsPerPage": 99},
        {"ResourceARNList": ["arn:aws:sns:us-east-1:123456789012:t"], "TagFilters": [{"Key": "k"}]},
        {"ResourceARNList": ["arn:aws:sns:us-east-1:123456789012:t"], "ResourcesPerPage": 5},
        {"TagFilters": [{"Key": f"k{i}"} for i in range(51)]},
        {"TagFilters": [{"Key": "k", "Values": [str(i) for i in range(21)]}]},
        {"PaginationToken": "not-a-token"},
    ],
)
def test_get_resources_refuses_what_the_reference_forbids(
    sandbox: Sandbox, request_: dict[str, Any]
) -> None:
    with pytest.raises(ClientError) as raised:
        sandbox.client("resourcegroupstaggingapi").get_resources(**request_)
    assert error_of(raised) == ("InvalidParameterException", 400)


def test_other_resource_types_are_listed_as_moto_lists_them(sandbox: Sandbox) -> None:
    topic = sandbox.client("sns").create_topic(
        Name="t", Tags=[{"Key": "drift-healer", "Value": "x"}]
    )
    stack = sandbox.create_stacks(["s"], ENROLLED)[0]
    tagging = sandbox.client("resourcegroupstaggingapi")

    everything = tagging.get_resources(TagFilters=[{"Key": "drift-healer"}])
    topics = tagging.get_resources(ResourceTypeFilters=["sns"])
    by_arn = tagging.get_resources(ResourceARNList=[topic["TopicArn"]])

    assert {r["ResourceARN"] for r in everything["ResourceTagMappingList"]} == {
        topic["TopicArn"],
        stack,
    }
    assert [r["ResourceARN"] for r in topics["ResourceTagMappingList"]] == [topic["TopicArn"]]
    assert [r["ResourceARN"] for r in by_arn["ResourceTagMappingList"]] == [topic["TopicArn"]]


def test_throttled_get_resources_and_what_retries_hide(sandbox: Sandbox) -> None:
    sandbox.create_stacks(["s"], ENROLLED)
    sandbox.faults.throttle("GetResources", times=2, service="resourcegroupstaggingapi")
    with pytest.raises(ClientError) as raised:
        sandbox.client("resourcegroupstaggingapi").get_resources()
    assert error_of(raised) == ("ThrottledException", 400)

    patient = sandbox.client("resourcegroupstaggingapi", retries=3)
    response = patient.get_resources()
    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    assert len(response["ResourceTagMappingList"]) == 1
    assert sandbox.calls[("resourcegroupstaggingapi", "GetResources")] == 3


# ------------------------------------------------------------------------------ re-tagging
def test_tag_stack_replaces_the_tags_as_update_stack_does(sandbox: Sandbox) -> None:
    [arn] = sandbox.create_stacks(["s"], {"drift-healer": "heal", "team": "x"})
    tagging = sandbox.client("resourcegroupstaggingapi")
    cfn = sandbox.client("cloudformation")

    sandbox.tag_stack("s", {"drift-healer": "paused"})
    assert tagged_stacks(tagging) == {arn: {"drift-healer": "paused"}}
    stack = cfn.describe_stacks(StackName="s")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"

    sandbox.tag_stack(arn, {})
    assert tagged_stacks(tagging, TagFilters=[{"Key": "drift-healer"}]) == {}
    assert (
        "Tags" not in cfn.describe_stacks(StackName="s")["Stacks"][0]
        or not (cfn.describe_stacks(StackName="s")["Stacks"][0]["Tags"])
    )
    assert sandbox.calls[("cloudformation", "UpdateStack")] == 0


def test_tag_stack_refuses_a_deleted_stack(sandbox: Sandbox) -> None:
    [arn] = sandbox.create_stacks(["s"], ENROLLED)
    sandbox.delete_stack("s")
    with pytest.raises(Exception, match="does not exist"):
        sandbox.tag_stack(arn, {"drift-healer": "heal"})


def test_update_stack_with_new_tags_only_is_an_update(sandbox: Sandbox) -> None:
    """moto refused it ("No updates are to be performed.") and could not remove tags."""
    create_stack(sandbox, Tags=[{"Key": "drift-healer", "Value": "heal"}])
    cfn = sandbox.client("cloudformation")
    previous = [{"ParameterKey": "Env", "UsePreviousValue": True}]

    cfn.update_stack(
        StackName="app",
        UsePreviousTemplate=True,
        Parameters=previous,
        Tags=[{"Key": "drift-healer", "Value": "propose"}],
    )
    assert cfn.describe_stacks(StackName="app")["Stacks"][0]["Tags"] == [
        {"Key": "drift-healer", "Value": "propose"}
    ]
    cfn.update_stack(StackName="app", UsePreviousTemplate=True, Parameters=previous, Tags=[])
    assert not cfn.describe_stacks(StackName="app")["Stacks"][0].get("Tags")
    with pytest.raises(ClientError, match="No updates are to be performed"):
        cfn.update_stack(StackName="app", UsePreviousTemplate=True, Parameters=previous)


# ------------------------------------------------------------------------------ accounts
def test_a_client_can_act_in_another_account(sandbox: Sandbox) -> None:
    member = sandbox.client("cloudformation", account=MEMBER)
    member.create_stack(StackName="theirs", TemplateBody=TEMPLATE)

    [stack] = member.describe_stacks()["Stacks"]
    assert stack["StackId"].split(":")[4] == MEMBER
    assert sandbox.client("cloudformation").describe_stacks()["Stacks"] == []
    assert sandbox.calls_by_account[(MEMBER, "cloudformation", "CreateStack")] == 1
    assert sandbox.calls_by_account[(ACCOUNT_ID, "cloudformation", "DescribeStacks")] == 1


def test_an_assumed_member_role_lands_in_the_member_account(sandbox: Sandbox) -> None:
    theirs = sandbox.create_stacks(["t1", "t2"], ENROLLED, account=MEMBER)
    sandbox.create_stacks(["mine"], ENROLLED)
    sandbox.create_stacks(["other"], ENROLLED, account=OTHER)
    role = f"arn:aws:iam::{MEMBER}:role/drift-healer/drift-healer-member"

    credentials = sandbox.client("sts").assume_role(RoleArn=role, RoleSessionName="reconcile")[
        "Credentials"
    ]
    tagging = boto3.client(
        "resourcegroupstaggingapi",
        region_name=sandbox.region,
        endpoint_url=sandbox.endpoint_url,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )

    assert set(tagged_stacks(tagging, TagFilters=[{"Key": "drift-healer"}])) == set(theirs)
    assert sandbox.calls_by_account[(MEMBER, "resourcegroupstaggingapi", "GetResources")] == 1
    assert sandbox.assumed_roles() == [(role, "reconcile")]


def test_delete_stack_in_another_account_and_region(sandbox: Sandbox) -> None:
    sandbox.create_stacks(["s"], ENROLLED, account=MEMBER, region=WEST)
    sandbox.delete_stack("s", region=WEST, account=MEMBER)
    member = sandbox.client("resourcegroupstaggingapi", region=WEST, account=MEMBER)
    assert tagged_stacks(member) == {}


# ------------------------------------------------------------------------------ bulk stacks
def test_five_thousand_stacks_in_well_under_five_seconds(sandbox: Sandbox) -> None:
    started = time.perf_counter()
    arns = sandbox.create_stacks((f"app-{i:04}" for i in range(5000)), ENROLLED)
    elapsed = time.perf_counter() - started

    assert elapsed < 5, f"5,000 stacks took {elapsed:.1f} s"
    assert len(set(arns)) == 5000
    assert (
        len(tagged_stacks(sandbox.client("resourcegroupstaggingapi"), ResourcesPerPage=100)) == 5000
    )
    assert sandbox.calls == {("resourcegroupstaggingapi", "GetResources"): 50}


def test_bulk_stacks_are_real_stacks(sandbox: Sandbox, clock: ManualClock) -> None:
    [arn] = sandbox.create_stacks(["s"], ENROLLED)
    cfn = sandbox.client("cloudformation")

    [stack] = cfn.describe_stacks(StackName="s")["Stacks"]
    assert (stack["StackId"], stack["StackStatus"]) == (arn, "CREATE_COMPLETE")
    assert stack["Tags"] == [{"Key": "drift-healer", "Value": "enabled"}]
    assert stack["DriftInformation"]["StackDriftStatus"] == "NOT_CHECKED"
    assert detect(cfn, clock, "s")["StackDriftStatus"] == "IN_SYNC"
    assert [e["ResourceStatus"] for e in cfn.describe_stack_events(StackName="s")["StackEvents"]]
    cfn.update_stack(StackName="s", UsePreviousTemplate=True, Tags=[{"Key": "k", "Value": "v"}])
    assert cfn.describe_stacks(StackName="s")["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
    cfn.delete_stack(StackName=arn)
    assert cfn.describe_stacks(StackName=arn)["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE"


def test_bulk_refuses_a_name_in_use(sandbox: Sandbox) -> None:
    sandbox.create_stacks(["s"], ENROLLED)
    with pytest.raises(Exception, match=r"Stack \[s\] already exists"):
        sandbox.create_stacks(["t", "s"], ENROLLED)
    # what came before the refused name was made, as a loop of CreateStack would
    assert len(sandbox.client("cloudformation").describe_stacks()["Stacks"]) == 2


# ------------------------------------------------------------------------------ Scheduler
@pytest.fixture
def scheduler(sandbox: Sandbox) -> Any:
    client = sandbox.client("scheduler")
    client.create_schedule_group(Name="drift-healer")
    return client


def test_get_schedule_returns_what_was_asked(scheduler: Any) -> None:
    request = schedule_request(
        "app-1",
        GroupName="drift-healer",
        ScheduleExpressionTimezone="Europe/Paris",
        Description="nightly heal",
        State="DISABLED",
    )
    scheduler.create_schedule(**request)

    got = scheduler.get_schedule(Name="app-1", GroupName="drift-healer")

    assert got["Target"]["Input"] == request["Target"]["Input"]
    assert got["Target"]["Arn"] == HEALER_ARN
    assert got["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}
    assert got["ScheduleExpression"] == "cron(0 2 * * ? *)"
    assert got["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert (got["State"], got["Description"]) == ("DISABLED", "nightly heal")
    assert got["Arn"].endswith(":schedule/drift-healer/app-1")


def test_list_schedules_pages_summaries(scheduler: Any) -> None:
    for i in range(7):
        state = "DISABLED" if i % 3 == 0 else "ENABLED"
        scheduler.create_schedule(
            **schedule_request(f"app-{i}", GroupName="drift-healer", State=state)
        )
    scheduler.create_schedule(**schedule_request("elsewhere"))  # the default group

    pages = list(
        scheduler.get_paginator("list_schedules").paginate(
            GroupName="drift-healer", PaginationConfig={"PageSize": 3}
        )
    )
    listed = [s for page in pages for s in page["Schedules"]]

    assert [len(page["Schedules"]) for page in pages] == [3, 3, 1]
    assert "NextToken" not in pages[-1]
    assert sorted(s["Name"] for s in listed) == [f"app-{i}" for i in range(7)]
    assert set(listed[0]) == {
        "Arn",
        "Name",
        "GroupName",
        "State",
        "CreationDate",
        "LastModificationDate",
        "Target",
    }
    assert listed[0]["Target"] == {"Arn": HEALER_ARN}
    disabled = scheduler.list_schedules(GroupName="drift-healer", State="DISABLED")["Schedules"]
    assert sorted(s["Name"] for s in disabled) == ["app-0", "app-3", "app-6"]
    prefixed = scheduler.list_schedules(NamePrefix="else")["Schedules"]
    assert [s["Name"] for s in prefixed] == ["elsewhere"]


def test_a_listing_survives_schedules_deleted_between_pages(scheduler: Any) -> None:
    for i in range(5):
        scheduler.create_schedule(**schedule_request(f"app-{i}", GroupName="drift-healer"))
    first = scheduler.list_schedules(GroupName="drift-healer", MaxResults=2)
    for name in ("app-2", "app-3"):  # the next page's first items
        scheduler.delete_schedule(Name=name, GroupName="drift-healer")

    rest = scheduler.list_schedules(
        GroupName="drift-healer", MaxResults=2, NextToken=first["NextToken"]
    )

    assert [s["Name"] for s in first["Schedules"]] == ["app-0", "app-1"]
    assert [s["Name"] for s in rest["Schedules"]] == ["app-4"]


@pytest.mark.parametrize("max_results", [101, 1000])
def test_list_schedules_refuses_more_than_100_a_page(scheduler: Any, max_results: int) -> None:
    with pytest.raises(ClientError) as raised:
        scheduler.list_schedules(MaxResults=max_results)
    assert error_of(raised) == ("ValidationException", 400)


def test_list_schedules_of_a_missing_group(scheduler: Any) -> None:
    with pytest.raises(ClientError) as raised:
        scheduler.list_schedules(GroupName="nope")
    assert error_of(raised) == ("ResourceNotFoundException", 404)


def test_create_update_delete_errors(scheduler: Any) -> None:
    scheduler.create_schedule(**schedule_request("app", GroupName="drift-healer"))
    with pytest.raises(ClientError) as raised:
        scheduler.create_schedule(**schedule_request("app", GroupName="drift-healer"))
    assert error_of(raised) == ("ConflictException", 409)
    for call in (
        lambda: scheduler.update_schedule(**schedule_request("gone", GroupName="drift-healer")),
        lambda: scheduler.delete_schedule(Name="gone", GroupName="drift-healer"),
        lambda: scheduler.get_schedule(Name="gone", GroupName="drift-healer"),
        lambda: scheduler.create_schedule(**schedule_request("x", GroupName="no-such-group")),
        lambda: scheduler.delete_schedule_group(Name="no-such-group"),
    ):
        with pytest.raises(ClientError) as raised:
            call()
        assert error_of(raised) == ("ResourceNotFoundException", 404)


def test_update_sets_every_field_and_an_omitted_state_is_enabled(scheduler: Any) -> None:
    scheduler.create_schedule(**schedule_request("app", GroupName="drift-healer", State="DISABLED"))
    scheduler.update_schedule(
        **schedule_request("app", GroupName="drift-healer", ScheduleExpression="rate(1 day)")
    )
    got = scheduler.get_schedule(Name="app", GroupName="drift-healer")
    assert (got["State"], got["ScheduleExpression"]) == ("ENABLED", "rate(1 day)")


@pytest.mark.parametrize("name", ["a b", "x" * 65, "stack:1", "é"])
def test_schedule_names_are_checked(scheduler: Any, name: str) -> None:
    with pytest.raises(ClientError) as raised:
        scheduler.create_schedule(**schedule_request(name, GroupName="drift-healer"))
    assert error_of(raised) == ("ValidationException", 400)
    assert scheduler.list_schedules()["Schedules"] == []


def test_the_longest_name_the_reconciler_makes_is_fine(scheduler: Any) -> None:
    name = "my.stack_name-with-32-characters" + "-0123456789ab-01234567"
    assert len(name) <= 64
    scheduler.create_schedule(**schedule_request(name, GroupName="drift-healer"))
    assert scheduler.get_schedule(Name=name, GroupName="drift-healer")["Name"] == name


@pytest.mark.parametrize(
    "overrides",
    [
        {"ScheduleExpression": "cron(0 2 * * * *)"},  # neither day field is "?"
        {"ScheduleExpression": "cron(0 2 * *)"},
        {"ScheduleExpression": "cron(61 2 * * ? *)"},
        {"ScheduleExpression": "rate(0 minutes)"},
        {"ScheduleExpression": "rate(5 weeks)"},
        {"ScheduleExpression": "every day"},
        {"ScheduleExpression": "at(2026-13-01T00:00:00)"},
        {"ScheduleExpressionTimezone": "Mars/Olympus_Mons"},
        {"FlexibleTimeWindow": {"Mode": "FLEXIBLE"}},
        {"FlexibleTimeWindow": {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 1441}},
        {"Description": "x" * 513},
        {"Target": {"Arn": HEALER_ARN, "RoleArn": "not-a-role"}},
        {
            "Target": {
                "Arn": HEALER_ARN,
                "RoleArn": "arn:aws:iam::123456789012:role/r",
                "RetryPolicy": {"MaximumRetryAttempts": 186},
            }
        },
        {
            "Target": {
                "Arn": HEALER_ARN,
                "RoleArn": "arn:aws:iam::123456789012:role/r",
                "DeadLetterConfig": {"Arn": "arn:aws:sns:us-east-1:123456789012:t"},
            }
        },
    ],
)
def test_create_schedule_refuses_what_scheduler_refuses(
    scheduler: Any, overrides: dict[str, Any]
) -> None:
    with pytest.raises(ClientError) as raised:
        scheduler.create_schedule(**schedule_request("app", GroupName="drift-healer", **overrides))
    assert error_of(raised) == ("ValidationException", 400)


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 2 * * ? *)",
        "cron(15 10 ? * MON-FRI *)",
        "cron(0/5 8-17 ? * 2#1 2026)",
        "cron(0 0 L * ? *)",
        "rate(1 minute)",
        "rate(12 hours)",
        "at(2027-01-01T02:00:00)",
    ],
)
def test_valid_expressions_are_taken(scheduler: Any, expression: str) -> None:
    scheduler.create_schedule(
        **schedule_request("app", GroupName="drift-healer", ScheduleExpression=expression)
    )


def test_schedule_groups(scheduler: Any) -> None:
    with pytest.raises(ClientError) as raised:
        scheduler.create_schedule_group(Name="drift-healer")
    assert error_of(raised) == ("ConflictException", 409)
    scheduler.create_schedule(**schedule_request("app", GroupName="drift-healer"))
    scheduler.create_schedule(**schedule_request("kept"))

    scheduler.delete_schedule_group(Name="drift-healer")

    assert [s["Name"] for s in scheduler.list_schedules()["Schedules"]] == ["kept"]
    scheduler.create_schedule_group(Name="drift-healer")
    assert scheduler.list_schedules(GroupName="drift-healer")["Schedules"] == []


def test_throttled_scheduler_writes_are_counted_per_account(
    sandbox: Sandbox, scheduler: Any
) -> None:
    sandbox.faults.throttle("CreateSchedule", times=3, service="scheduler")
    for _ in range(3):
        with pytest.raises(ClientError) as raised:
            scheduler.create_schedule(**schedule_request("app", GroupName="drift-healer"))
        assert error_of(raised) == ("ThrottlingException", 429)
    scheduler.create_schedule(**schedule_request("app", GroupName="drift-healer"))

    assert sandbox.calls[("scheduler", "CreateSchedule")] == 4
    assert sandbox.calls_by_account[(ACCOUNT_ID, "scheduler", "CreateSchedule")] == 4
    assert sandbox.calls_by_account[(MEMBER, "scheduler", "CreateSchedule")] == 0


def test_a_lost_create_response_then_a_retry_conflicts(sandbox: Sandbox, scheduler: Any) -> None:
    sandbox.faults.lose_response("CreateSchedule", service="scheduler")
    with pytest.raises(ClientError) as raised:
        scheduler.create_schedule(**schedule_request("app", GroupName="drift-healer"))
    assert error_of(raised) == ("InternalServerException", 500)
    with pytest.raises(ClientError) as raised:
        scheduler.create_schedule(**schedule_request("app", GroupName="drift-healer"))
    assert error_of(raised) == ("ConflictException", 409)


# ------------------------------------------------------------------------------ firing
def test_scheduled_event_is_the_target_input_as_scheduler_sends_it(
    sandbox: Sandbox, scheduler: Any, clock: ManualClock
) -> None:
    event = {
        "StackName": "arn:aws:cloudformation:us-east-1:123456789012:stack/app/1",
        "Region": "us-east-1",
        "CreateChangeSetOnly": True,
        "ScheduledAt": "<aws.scheduler.scheduled-time>",
        "Schedule": "<aws.scheduler.schedule-arn>",
    }
    request = schedule_request("app", GroupName="drift-healer")
    request["Target"]["Input"] = json.dumps(event)
    arn = scheduler.create_schedule(**request)["ScheduleArn"]

    fired = sandbox.scheduled_event("drift-healer", "app")

    assert fired == {
        **event,
        "ScheduledAt": clock().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Schedule": arn,
    }
    assert sandbox.calls[("scheduler", "GetSchedule")] == 0


def test_a_disabled_or_missing_schedule_does_not_fire(sandbox: Sandbox, scheduler: Any) -> None:
    scheduler.create_schedule(**schedule_request("app", GroupName="drift-healer", State="DISABLED"))
    with pytest.raises(ValueError, match="DISABLED"):
        sandbox.scheduled_event("drift-healer", "app")
    with pytest.raises(LookupError):
        sandbox.scheduled_event("drift-healer", "gone")


# ------------------------------------------------------------------------------ out of process
def test_the_fleet_apis_out_of_process(clock: ManualClock) -> None:
    with Sandbox(clock=clock, server=True) as sandbox:
        [arn] = sandbox.create_stacks(["s"], ENROLLED, account=MEMBER)
        tagging = sandbox.client("resourcegroupstaggingapi", account=MEMBER)
        page = tagging.get_resources(TagFilters=[{"Key": "drift-healer"}])
        assert [r["ResourceARN"] for r in page["ResourceTagMappingList"]] == [arn]
        assert page["PaginationToken"] == ""

        scheduler = sandbox.client("scheduler")
        scheduler.create_schedule(**schedule_request("app"))
        with pytest.raises(ClientError) as raised:
            scheduler.create_schedule(**schedule_request("a b"))
        assert error_of(raised) == ("ValidationException", 400)
        assert sandbox.scheduled_event("default", "app") == {"StackName": "app"}
