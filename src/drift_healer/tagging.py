"""Discovery: the stacks of an account and region that carry the enrolment tag, from the
Resource Groups Tagging API (one call per 100 enrolled stacks, however many stacks there are)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_resourcegroupstaggingapi import ResourceGroupsTaggingAPIClient


def tagged_stacks(client: ResourceGroupsTaggingAPIClient, key: str) -> dict[str, dict[str, str]]:
    """Stack ARN -> its tags, for every stack tagged ``key`` (any value)."""
    pages = client.get_paginator("get_resources").paginate(
        TagFilters=[{"Key": key}],
        ResourceTypeFilters=["cloudformation:stack"],
        PaginationConfig={"PageSize": 100},
    )
    return {
        r["ResourceARN"]: {t["Key"]: t["Value"] for t in r.get("Tags", [])}
        for page in pages
        for r in page["ResourceTagMappingList"]
    }
