"""Paging like AWS: with a small page size, every paged read needs every page.

botocore has paginators for ListChangeSets and DescribeChangeSet; DescribeStackResourceDrifts has
none, so its readers follow NextToken by hand.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from drift_sandbox import Sandbox, Timing
from tests.support import TEMPLATE, ManualClock, create_change_set, detect, drift_param


def drift_three(sandbox: Sandbox, stack: dict[str, str]) -> None:
    """Drift the parameter, the topic and the queue out of band."""
    drift_param(sandbox)
    sandbox.client("sns").set_topic_attributes(
        TopicArn=stack["Topic"], AttributeName="DisplayName", AttributeValue="x"
    )
    sandbox.client("sqs").set_queue_attributes(
        QueueUrl=stack["Queue"], Attributes={"VisibilityTimeout": "5"}
    )


def test_a_page_holds_at_least_one_item() -> None:
    with pytest.raises(ValueError, match="page_size"):
        Timing(page_size=0)


def test_list_change_sets_pages_and_the_paginator_reads_every_page(
    sandbox: Sandbox, cfn: Any, stack: Any
) -> None:
    sandbox.engine.timing = Timing(page_size=1)
    create_change_set(cfn, name="heal-1")
    create_change_set(cfn, name="heal-2")
    # one of moto's own (template-diff) change sets: listed too
    cfn.create_change_set(
        StackName="app",
        ChangeSetName="diff-1",
        ChangeSetType="UPDATE",
        TemplateBody=TEMPLATE,
        Parameters=[{"ParameterKey": "Env", "ParameterValue": "staging"}],
    )

    first = cfn.list_change_sets(StackName="app")
    assert len(first["Summaries"]) == 1
    assert first["NextToken"]

    pages = list(cfn.get_paginator("list_change_sets").paginate(StackName="app"))
    assert len(pages) == 3
    assert [s["ChangeSetName"] for p in pages for s in p["Summaries"]] == [
        "heal-1",
        "heal-2",
        "diff-1",
    ]
    assert "NextToken" not in pages[-1]


def test_describe_change_set_paginator_reads_every_page(
    sandbox: Sandbox, cfn: Any, clock: ManualClock, stack: dict[str, str]
) -> None:
    sandbox.engine.timing = Timing(page_size=1)
    drift_three(sandbox, stack)
    arn = create_change_set(cfn)["Id"]
    clock.advance(60)

    pages = list(cfn.get_paginator("describe_change_set").paginate(ChangeSetName=arn))

    assert [len(p["Changes"]) for p in pages] == [1, 1, 1]
    ids = [c["ResourceChange"]["LogicalResourceId"] for p in pages for c in p["Changes"]]
    assert sorted(ids) == ["Param", "Queue", "Topic"]
    assert all(p["Status"] == "CREATE_COMPLETE" for p in pages)  # every page has every field


@pytest.mark.parametrize(
    ("page_size", "max_results", "per_page"), [(1, 100, 1), (2, 5, 2), (3, 2, 2)]
)
def test_resource_drifts_page_at_most_max_results_and_the_page_size(
    sandbox: Sandbox,
    cfn: Any,
    clock: ManualClock,
    stack: dict[str, str],
    page_size: int,
    max_results: int,
    per_page: int,
) -> None:
    sandbox.engine.timing = Timing(page_size=page_size)
    drift_three(sandbox, stack)
    detect(cfn, clock)

    seen: list[str] = []
    request: dict[str, Any] = {"StackName": "app", "MaxResults": max_results}
    while True:
        page = cfn.describe_stack_resource_drifts(**request)
        assert len(page["StackResourceDrifts"]) <= per_page
        seen += [d["LogicalResourceId"] for d in page["StackResourceDrifts"]]
        if "NextToken" not in page:
            break
        assert len(page["StackResourceDrifts"]) == per_page
        request["NextToken"] = page["NextToken"]

    assert sorted(seen) == ["Bucket", "Logs", "Param", "Queue", "Topic"]


def test_filtered_resource_drifts_page_too(
    sandbox: Sandbox, cfn: Any, clock: ManualClock, stack: dict[str, str]
) -> None:
    sandbox.engine.timing = Timing(page_size=1)
    drift_three(sandbox, stack)
    detect(cfn, clock)
    request: dict[str, Any] = {
        "StackName": "app",
        "StackResourceDriftStatusFilters": ["MODIFIED", "DELETED"],
    }
    first = cfn.describe_stack_resource_drifts(**request)
    second = cfn.describe_stack_resource_drifts(**request, NextToken=first["NextToken"])
    third = cfn.describe_stack_resource_drifts(**request, NextToken=second["NextToken"])
    assert "NextToken" not in third
    drifted = [d for p in (first, second, third) for d in p["StackResourceDrifts"]]
    assert sorted(d["LogicalResourceId"] for d in drifted) == ["Param", "Queue", "Topic"]


def test_a_token_that_is_not_ours_is_a_validation_error(cfn: Any, stack: Any) -> None:
    with pytest.raises(ClientError) as error:
        cfn.list_change_sets(StackName="app", NextToken="not-a-token")
    assert error.value.response["Error"]["Code"] == "ValidationError"
