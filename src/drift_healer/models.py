"""The contracts at the edges: the event (HealRequest) and the result (HealResult).

Field names are the PascalCase of DESIGN §3; Python code uses snake_case attributes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError, model_validator
from pydantic.alias_generators import to_pascal
from pydantic_core import ErrorDetails

from .errors import InvalidRequest, NotSupported

_STACK_ARN = re.compile(r"^arn:aws[a-z-]*:cloudformation:[a-z0-9-]+:\d{12}:stack/[^/]+/.+$")
_STACK_NAME = re.compile(r"^[a-zA-Z][-a-zA-Z0-9]{0,127}$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


class _Contract(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_pascal, populate_by_name=True, frozen=True, extra="forbid"
    )

    def dump(self) -> dict[str, Any]:
        """Plain JSON-ready dict with the contract's field names (what steps and results hold)."""
        return self.model_dump(mode="json", by_alias=True)


class HealRequest(_Contract):
    """The event of ``lambda_handler``: which stack to heal, and how far to go."""

    stack_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    create_change_set_only: bool = False
    dry_run: bool = False
    require_approval: bool = False
    region: str | None = None
    role_arn: str | None = None

    model_config = ConfigDict(strict=True)

    @model_validator(mode="after")
    def _check(self) -> HealRequest:
        if not (_STACK_NAME.match(self.stack_name) or _STACK_ARN.match(self.stack_name)):
            raise ValueError(
                f"StackName {self.stack_name!r} is neither a stack name "
                "([a-zA-Z][-a-zA-Z0-9]*, at most 128 characters) nor a stack ARN"
            )
        flags = [
            name
            for name, on in (
                ("DryRun", self.dry_run),
                ("CreateChangeSetOnly", self.create_change_set_only),
                ("RequireApproval", self.require_approval),
            )
            if on
        ]
        if len(flags) > 1:
            raise ValueError(
                f"{' and '.join(flags)} contradict each other: set at most one of DryRun, "
                "CreateChangeSetOnly and RequireApproval"
            )
        if self.region is not None and not _REGION.match(self.region):
            raise ValueError(f"Region {self.region!r} is not an AWS region name like eu-west-1")
        if self.role_arn is not None and not _ROLE_ARN.match(self.role_arn):
            raise ValueError(
                f"RoleArn {self.role_arn!r} is not an IAM role ARN like "
                "arn:aws:iam::123456789012:role/DriftHealer"
            )
        return self

    @property
    def stack_region(self) -> str | None:
        """``Region``, else the region of a stack ARN; None means the function's own region."""
        if self.region is not None:
            return self.region
        return self.stack_name.split(":")[3] if self.stack_name.startswith("arn:") else None

    def event(self) -> dict[str, Any]:
        """This request as an event (only the fields that differ from their defaults)."""
        return self.model_dump(mode="json", by_alias=True, exclude_defaults=True)

    @property
    def mode(self) -> str:
        """The requested mode, for logs and metrics."""
        if self.dry_run:
            return "dry-run"
        if self.create_change_set_only:
            return "create-change-set-only"
        if self.require_approval:
            return "require-approval"
        return "heal"


def parse_request(event: object) -> HealRequest:
    """Validate the event before any AWS call; the error names the field and the fix."""
    if not isinstance(event, dict):
        raise InvalidRequest(
            'the event must be a JSON object like {"StackName": "app"}, '
            f"got {type(event).__name__}"
        )
    try:
        request = HealRequest.model_validate(event)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'event'}: {_explain(e)}"
            for e in error.errors()
        )
        raise InvalidRequest(f"invalid heal request: {problems}") from None
    if request.require_approval:
        raise NotSupported(
            "RequireApproval is not supported yet: use CreateChangeSetOnly and execute the "
            "change set after review"
        )
    return request


def _explain(error: ErrorDetails) -> str:
    if error["type"] == "extra_forbidden":
        allowed = ", ".join(str(f.alias) for f in HealRequest.model_fields.values())
        return f"unknown field (allowed: {allowed}; names are case-sensitive)"
    if error["type"] == "missing":
        return "required"
    return str(error["msg"]).removeprefix("Value error, ")


class Outcome(StrEnum):
    IN_SYNC = "IN_SYNC"
    DRIFT_REPORTED = "DRIFT_REPORTED"
    CHANGE_SET_CREATED = "CHANGE_SET_CREATED"
    HEALED = "HEALED"
    RESIDUAL_DRIFT = "RESIDUAL_DRIFT"
    NOTHING_TO_REVERT = "NOTHING_TO_REVERT"
    REJECTED = "REJECTED"
    SKIPPED = "SKIPPED"
    #: Not a result outcome: the execution failed (typed error). Used for the notification.
    FAILED = "FAILED"


class PropertyDifference(_Contract):
    property_path: str
    expected_value: str | None = None
    actual_value: str | None = None
    difference_type: str


class DriftedResource(_Contract):
    logical_resource_id: str
    physical_resource_id: str | None = None
    resource_type: str
    stack_resource_drift_status: str
    property_differences: list[PropertyDifference] = []


class Risk(StrEnum):
    LOW = "LOW"
    HIGH = "HIGH"


class ChangeSetInfo(_Contract):
    id: str
    name: str
    url: str
    risk: Risk | None = None
    risk_reasons: list[str] = []


class Verification(_Contract):
    stack_drift_status: str


@dataclass(frozen=True)
class Message:
    """One notification (DESIGN §3.3): subject, body, and attributes subscribers filter on."""

    subject: str
    body: str
    attributes: dict[str, str]


class HealResult(_Contract):
    """The durable execution's result (DESIGN §3.2)."""

    stack_name: str
    stack_id: str | None = None
    outcome: Outcome
    reason: str
    drifted_resources: list[DriftedResource] = []
    change_set: ChangeSetInfo | None = None
    verification: Verification | None = None
