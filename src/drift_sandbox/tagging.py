"""GetResources of the Resource Groups Tagging API, paged as AWS pages it.

moto lists every taggable resource of the caller's account and region, CloudFormation stacks
(``cloudformation:stack``, ResourceARN = StackId; a deleted stack is gone) among them. Where it
strays from the API reference
(https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/API_GetResources.html),
this handler, installed over moto's, answers as AWS does:

- The last page carries ``PaginationToken: ""``, not none (boto/boto3#2513, aws/aws-sdk-go#4121):
  a reader that loops "while token is not None" never ends, on AWS and here.
- A listing is read from a snapshot taken at its first page; its tokens can be replayed (a retry
  after a lost response reads the same page again) for 15 minutes of the sandbox's clock, then
  PaginationTokenExpiredException, as the reference says. moto keeps a live generator per token
  instead, good for one use: a stack created or deleted between two pages breaks it
  (RuntimeError, HTTP 500), and a replayed token is "expired". A snapshot is what a reader of
  AWS sees too: the tagging API answers from an eventually consistent copy, so a stack deleted
  mid-listing may still be listed.
- TagsPerPage limits a page only when asked (moto applies 100 unasked, so a page of 100 stacks
  with a tag each stops at 99) and counts a resource without tags as one tag.
- InvalidParameterException for what the reference forbids: ResourceARNList with filters or
  paging, more than 50 TagFilters or 20 values for one key, a TagFilter without Key, paging
  limits out of range.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from moto.core.resource_tagging import (
    TaggedResource,
    iter_taggable_backends,
    make_tag_matcher,
    match_resource_type,
)
from moto.core.responses import ActionResult
from moto.resourcegroupstaggingapi.exceptions import ResourceGroupsTaggingAPIError
from moto.resourcegroupstaggingapi.responses import ResourceGroupsTaggingAPIResponse

#: What moto answers when ResourcesPerPage is not given (the reference names no default).
DEFAULT_RESOURCES_PER_PAGE = 50
#: "A PaginationToken is valid for a maximum of 15 minutes."
TOKEN_LIFETIME = timedelta(minutes=15)


@dataclass(frozen=True)
class _Listing:
    """One GetResources listing: what matched when its first page was asked for."""

    account_id: str
    region: str
    query: str
    started: datetime
    #: (ARN, tags) of every match, in ARN order; tags as they were then.
    resources: list[tuple[str, dict[str, str]]]


_listings: dict[str, _Listing] = {}


def reset() -> None:
    """Forget every listing (a new sandbox starts without any)."""
    _listings.clear()


def _invalid(message: str) -> ResourceGroupsTaggingAPIError:
    return ResourceGroupsTaggingAPIError("InvalidParameterException", message)


def get_resources(self: ResourceGroupsTaggingAPIResponse, now: datetime) -> ActionResult:
    """GetResources: one page of the account's and region's tagged resources that match."""
    tag_filters: list[dict[str, Any]] = self._get_param("TagFilters") or []
    type_filters: list[str] = self._get_param("ResourceTypeFilters") or []
    arns: list[str] = self._get_param("ResourceARNList") or []
    token: str = self._get_param("PaginationToken") or ""
    per_page = self._get_param("ResourcesPerPage")
    tags_per_page = self._get_param("TagsPerPage")
    _validate(tag_filters, type_filters, arns, token, per_page, tags_per_page)

    for key in [k for k, v in _listings.items() if now - v.started > TOKEN_LIFETIME]:
        del _listings[key]
    query = _fingerprint(tag_filters, type_filters)
    if token:
        listing_id, offset = _resume(token, self.current_account, self.region, query)
        listing = _listings[listing_id]
    else:
        listing_id, offset = uuid.uuid4().hex, 0
        found = _matching(self.current_account, self.region, tag_filters, type_filters, arns)
        listing = _Listing(
            self.current_account,
            self.region,
            query,
            now,
            sorted(((r.arn, dict(r.tags)) for r in found), key=lambda r: r[0]),
        )
        _listings[listing_id] = listing
    size = 100 if arns else int(per_page or DEFAULT_RESOURCES_PER_PAGE)  # ARNs: at most 100
    page = _fill(listing.resources[offset:], size, tags_per_page)
    end = offset + len(page)
    return ActionResult(
        {
            "ResourceTagMappingList": [
                {"ResourceARN": arn, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
                for arn, tags in page
            ],
            "PaginationToken": _token(listing_id, end) if end < len(listing.resources) else "",
        }
    )


def _validate(
    tag_filters: list[dict[str, Any]],
    type_filters: list[str],
    arns: list[str],
    token: str,
    per_page: Any,
    tags_per_page: Any,
) -> None:
    if arns and (tag_filters or type_filters):
        raise _invalid(
            "You can't specify both ResourceARNList and TagFilters or ResourceTypeFilters."
        )
    if arns and (token or per_page is not None or tags_per_page is not None):
        raise _invalid("You can't specify both ResourceARNList and the pagination parameters.")
    if len(arns) > 100:
        raise _invalid("ResourceARNList can include up to 100 ARNs.")
    if len(tag_filters) > 50:
        raise _invalid("TagFilters can include up to 50 keys.")
    for tag_filter in tag_filters:
        if not tag_filter.get("Key"):
            raise _invalid("Each TagFilter must contain a key.")
        if len(tag_filter.get("Values") or []) > 20:
            raise _invalid("Each TagFilter key can include up to 20 values.")
    if len(type_filters) > 100:
        raise _invalid("ResourceTypeFilters can include up to 100 items.")
    if per_page is not None and not 1 <= int(per_page) <= 100:
        raise _invalid("ResourcesPerPage must be between 1 and 100")
    if tags_per_page is not None and not 100 <= int(tags_per_page) <= 500:
        raise _invalid("TagsPerPage must be between 100 and 500")


def _matching(
    account_id: str,
    region: str,
    tag_filters: list[dict[str, Any]],
    type_filters: list[str],
    arns: list[str],
) -> Iterator[TaggedResource]:
    """What moto's own listing yields, by the same rules: untagged resources are left out unless
    their service says they were tagged once."""
    matches = make_tag_matcher(tag_filters)
    wanted = set(arns)
    for backend in iter_taggable_backends(account_id, region):
        for resource in backend.iter_tagged_resources():
            if not resource.tags and not resource.extra.get("include_untagged"):
                continue
            if not match_resource_type(resource.resource_type, type_filters):
                continue
            if not matches(resource.tags):
                continue
            if wanted and resource.arn not in wanted:
                continue
            yield resource


def _fill(
    pending: list[tuple[str, dict[str, str]]], per_page: int, tags_per_page: Any
) -> list[tuple[str, dict[str, str]]]:
    """As many resources as the page holds; a resource is never split across pages, and one
    without tags counts as one tag."""
    page: list[tuple[str, dict[str, str]]] = []
    tags = 0
    for resource in pending[:per_page]:
        weight = max(1, len(resource[1]))
        if tags_per_page is not None and page and tags + weight > int(tags_per_page):
            break
        page.append(resource)
        tags += weight
    return page


# ------------------------------------------------------------------------------ tokens
def _fingerprint(tag_filters: list[dict[str, Any]], type_filters: list[str]) -> str:
    query = json.dumps([tag_filters, type_filters], sort_keys=True)
    return hashlib.sha256(query.encode()).hexdigest()[:16]


def _token(listing_id: str, offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([listing_id, offset]).encode()).decode()


def _resume(token: str, account_id: str, region: str, query: str) -> tuple[str, int]:
    """The listing and offset a token continues. A token of no listing, of another account,
    region or query is refused; one whose listing is over 15 minutes old has expired."""
    try:
        listing_id, offset = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, TypeError, binascii.Error):
        raise _invalid("The specified PaginationToken is not valid.") from None
    if not isinstance(listing_id, str) or not isinstance(offset, int) or offset < 0:
        raise _invalid("The specified PaginationToken is not valid.")
    listing = _listings.get(listing_id)
    if listing is None:
        raise ResourceGroupsTaggingAPIError(
            "PaginationTokenExpiredException",
            "A PaginationToken is valid for a maximum of 15 minutes. Your request was denied "
            "because the specified PaginationToken has expired.",
        )
    if (listing.account_id, listing.region, listing.query) != (account_id, region, query):
        raise _invalid("The PaginationToken does not match the request.")
    return listing_id, offset
