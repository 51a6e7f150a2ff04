"""The contracts at the edges: the event (HealRequest) and the result (HealResult).

Field names are the PascalCase of DESIGN §3; Python code uses snake_case attributes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_pascal
from pydantic_core import ErrorDetails, from_json

from .errors import InvalidRequest

#: The AWS partitions and the shape of their region names: a verbatim copy of botocore 1.44.5's
#: botocore/data/partitions.json ("id": "regionRegex"). This module may not import botocore (it
#: is the ground floor of the layers); tests/unit/test_events.py compares this copy with the
#: installed botocore's file, so the two cannot drift apart.
PARTITION_REGIONS: dict[str, str] = {
    "aws": r"^(us|eu|ap|sa|ca|me|af|il|mx)\-\w+\-\d+$",
    "aws-cn": r"^cn\-\w+\-\d+$",
    "aws-eusc": r"^eusc\-(de)\-\w+\-\d+$",
    "aws-iso": r"^us\-iso\-\w+\-\d+$",
    "aws-iso-b": r"^us\-isob\-\w+\-\d+$",
    "aws-iso-e": r"^eu\-isoe\-\w+\-\d+$",
    "aws-iso-f": r"^us\-isof\-\w+\-\d+$",
    "aws-us-gov": r"^us\-gov\-\w+\-\d+$",
}


def _strict_region(pattern: str) -> re.Pattern[str]:
    """botocore's region regex, stricter: a lowercase ASCII word (\\w also takes digits, "_" and,
    in Python, any letter) and a number 1-99 (no leading zero); matched with fullmatch, so a
    trailing newline (which "$" lets through) is refused."""
    core = pattern.removeprefix("^").removesuffix("$")
    return re.compile(core.replace(r"\w+", "[a-z]{1,32}").replace(r"\d+", "[1-9][0-9]?"))


_REGIONS = {partition: _strict_region(p) for partition, p in PARTITION_REGIONS.items()}
# The parts of the ARNs are checked one by one below, so that the error says which one is wrong.
# Every pattern is used with fullmatch (never "$", which accepts a trailing newline) and spells
# its classes out in ASCII (in Python 3, \d and \w also match non-ASCII digits and letters).
_STACK_ARN = re.compile(
    r"arn:([^:]*):cloudformation:([^:]*):([0-9]{12}):stack/([^/]*)/(.*)", re.DOTALL
)
_STACK_NAME = re.compile(r"[a-zA-Z][-a-zA-Z0-9]{0,127}")
_STACK_ID = re.compile(r"[-a-zA-Z0-9]{1,128}")
_ROLE_ARN = re.compile(r"arn:([^:]*):iam::([0-9]{12}):role(/(?:.*/)?)(.*)", re.DOTALL)
_ROLE_PATH = re.compile(r"/(?:[-a-zA-Z0-9_+=,.@]+/){0,255}")  # IAM: at most 512 characters
_ROLE_NAME = re.compile(r"[-a-zA-Z0-9_+=,.@]{1,64}")
_EXAMPLE_STACK_ARN = "arn:aws:cloudformation:us-east-1:123456789012:stack/app/<id>"
_EXAMPLE_ROLE_ARN = "arn:aws:iam::123456789012:role/DriftHealer"
#: At most this many characters of a value are quoted in an error message.
SHOWN = 64
_MAX_PROBLEMS = 5


class _Contract(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_pascal, populate_by_name=True, frozen=True, extra="forbid"
    )

    def dump(self) -> dict[str, Any]:
        """Plain JSON-ready dict with the contract's field names (what steps and results hold)."""
        return self.model_dump(mode="json", by_alias=True)


class HealMode(StrEnum):
    """How far a heal may go, least first: report drift, propose a change set, or execute a
    LOW risk one. The deployment's ``HealMode``, a stack's ``drift-healer`` tag and the event
    each name one; the heal goes no further than the lowest."""

    DRY_RUN = "dry-run"
    PROPOSE = "propose"
    HEAL = "heal"

    @property
    def rank(self) -> int:
        return _MODE_ORDER.index(self)

    def allows(self, other: HealMode) -> bool:
        """Whether ``other`` goes at least as far as this mode (so this one fits under it)."""
        return self.rank <= other.rank


_MODE_ORDER = (HealMode.DRY_RUN, HealMode.PROPOSE, HealMode.HEAL)


class HealRequest(_Contract):
    """The event of ``lambda_handler``: which stack to heal, and how far to go.

    An event uses the PascalCase names of DESIGN §3.1 only: ``model_validate`` (and its JSON
    and strings variants) refuse the snake_case names, while Python code builds a request by
    attribute name, ``HealRequest(stack_name="app", dry_run=True)``.
    """

    stack_name: Annotated[str, StringConstraints(min_length=1)]
    create_change_set_only: bool = False
    dry_run: bool = False
    require_approval: bool = False
    region: str | None = None
    role_arn: str | None = None

    model_config = ConfigDict(strict=True)

    @classmethod
    def model_validate(cls, obj: Any, **options: Any) -> Self:
        """Validate an event: by the contract's names only, unless ``by_name=True``."""
        return super().model_validate(obj, **_by_alias_only(options))

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, **options: Any) -> Self:
        """Validate an event's JSON: by the contract's names only, unless ``by_name=True``.

        pydantic-core 2.46 validating JSON by alias silently drops a key that is a field's
        name (``{"dry_run": true}``) instead of refusing it as an unknown field; so the JSON is
        parsed first and the object validated like an event."""
        try:
            event = from_json(json_data)
        except ValueError:
            return super().model_validate_json(json_data, **options)  # raises the JSON error
        return cls.model_validate(event, **options)

    @classmethod
    def model_validate_strings(cls, obj: Any, **options: Any) -> Self:
        """Validate an event of strings: by the contract's names only, unless ``by_name=True``."""
        return super().model_validate_strings(obj, **_by_alias_only(options))

    @field_validator("stack_name")
    @classmethod
    def _check_stack_name(cls, value: str) -> str:
        _require_ascii(value)
        if value.startswith("arn:"):
            _check_stack_arn(value)
        elif _STACK_NAME.fullmatch(value) is None:
            raise ValueError(
                f"{_quote(value)} is neither a stack name (a letter, then letters, digits and "
                f"hyphens, at most 128 characters) nor a stack ARN like {_EXAMPLE_STACK_ARN}"
            )
        return value

    @field_validator("region")
    @classmethod
    def _check_region(cls, value: str | None) -> str | None:
        if value is None:
            return None
        _require_ascii(value)
        if _partition_of(value) is None:
            raise ValueError(
                f"{_quote(value)} is not an AWS region name like eu-west-1, us-gov-west-1 or "
                "cn-north-1 (lowercase)"
            )
        return value

    @field_validator("role_arn")
    @classmethod
    def _check_role_arn(cls, value: str | None) -> str | None:
        if value is None:
            return None
        _require_ascii(value)
        parts = _ROLE_ARN.fullmatch(value)
        if parts is None:
            raise ValueError(f"{_quote(value)} is not an IAM role ARN like {_EXAMPLE_ROLE_ARN}")
        partition, _account, path, name = parts.groups()
        wrong = f"{_quote(value)} is not a valid IAM role ARN:"
        _require_partition(wrong, partition)
        if len(path) > 512 or _ROLE_PATH.fullmatch(path) is None:
            raise ValueError(
                f"{wrong} its path {_quote(path)} is not / nor /segment/.../ of letters, digits "
                "and _+=,.@- (at most 512 characters)"
            )
        if _ROLE_NAME.fullmatch(name) is None:
            raise ValueError(
                f"{wrong} its role name {_quote(name)} is not 1 to 64 letters, digits and _+=,.@-"
            )
        return value

    @model_validator(mode="after")
    def _check(self) -> HealRequest:
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
        arn = _STACK_ARN.fullmatch(self.stack_name)
        if arn is not None and self.region is not None and self.region != arn[2]:
            raise ValueError(
                f"Region {self.region} contradicts the region of the StackName ARN ({arn[2]}); "
                "drop Region or fix it"
            )
        role = _ROLE_ARN.fullmatch(self.role_arn) if self.role_arn is not None else None
        if role is not None:
            if arn is not None:
                stack_partition, source = arn[1], "the StackName ARN"
            elif self.region is not None:
                stack_partition, source = _partition_of(self.region), f"Region {self.region}"
            else:
                return self  # the stack is in the function's own region and partition
            if role[1] != stack_partition:
                raise ValueError(
                    f"RoleArn is in the partition {role[1]}, the stack in {stack_partition} "
                    f"({source}): a role can only reach stacks of its own partition"
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
    def heal_mode(self) -> HealMode:
        """How far this request lets the heal go (approval executes, so it counts as heal)."""
        if self.dry_run:
            return HealMode.DRY_RUN
        if self.create_change_set_only:
            return HealMode.PROPOSE
        return HealMode.HEAL

    def limited_to(self, mode: HealMode) -> HealRequest:
        """This request, asking for no more than ``mode`` (a ceiling lowers it, never raises)."""
        if self.heal_mode.allows(mode):
            return self
        return self.model_copy(
            update={
                "dry_run": mode is HealMode.DRY_RUN,
                "create_change_set_only": mode is HealMode.PROPOSE,
                "require_approval": False,
            }
        )

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


def _by_alias_only(options: dict[str, Any]) -> dict[str, Any]:
    """Validation options for an event: by alias, not by name (unless asked for explicitly)."""
    if options.get("by_name") is None:
        options = {**options, "by_name": False}
    return options


def _partition_of(region: str) -> str | None:
    """The partition whose region names have this shape (their shapes do not overlap)."""
    return next((p for p, shape in _REGIONS.items() if shape.fullmatch(region)), None)


def _require_ascii(value: str) -> None:
    if not value.isascii():
        where = next(i for i, c in enumerate(value) if not c.isascii())
        raise ValueError(
            f"{_quote(value)} has a non-ASCII character at position {where} "
            f"({value[where]!a}): AWS names and ARNs are ASCII"
        )


def _require_partition(wrong: str, partition: str) -> None:
    if partition not in PARTITION_REGIONS:
        raise ValueError(
            f"{wrong} its partition {_quote(partition)} is not one of AWS's: "
            f"{', '.join(PARTITION_REGIONS)}"
        )


def _check_stack_arn(value: str) -> None:
    parts = _STACK_ARN.fullmatch(value)
    if parts is None:
        raise ValueError(f"{_quote(value)} is not a stack ARN like {_EXAMPLE_STACK_ARN}")
    partition, region, _account, name, stack_id = parts.groups()
    wrong = f"{_quote(value)} is not a valid stack ARN:"
    _require_partition(wrong, partition)
    if _REGIONS[partition].fullmatch(region) is None:
        raise ValueError(f"{wrong} its region {_quote(region)} is not one of partition {partition}")
    if _STACK_NAME.fullmatch(name) is None:
        raise ValueError(
            f"{wrong} its stack name {_quote(name)} is not a letter, then letters, digits and "
            "hyphens, at most 128 characters (no wildcards)"
        )
    if _STACK_ID.fullmatch(stack_id) is None:
        raise ValueError(
            f"{wrong} its stack id {_quote(stack_id)} is not letters, digits and hyphens, like "
            "a UUID (no path, no wildcards)"
        )


def _quote(value: str) -> str:
    """A value as an error message shows it: ASCII-escaped (so that a trailing newline or a
    look-alike letter shows), and of a long value only a prefix, at most SHOWN characters
    once escaped."""
    shown = min(len(value), SHOWN)
    while len(ascii(value[:shown])) > SHOWN + 2:  # + 2: the quotes
        shown -= 1
    if shown == len(value):
        return ascii(value)
    return f"{value[:shown]!a}… ({len(value)} characters)"


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
        errors = error.errors(include_url=False)
        problems = [_problem(e) for e in errors[:_MAX_PROBLEMS]]
        if len(errors) > _MAX_PROBLEMS:
            problems.append(f"and {len(errors) - _MAX_PROBLEMS} more")
        raise InvalidRequest(f"invalid heal request: {'; '.join(problems)}") from None
    return request


def _problem(error: ErrorDetails) -> str:
    """``Field: what is wrong``; the field as the event spells it (a long or odd key quoted
    short). The errors of the whole request (no field) name their fields themselves."""
    where = ".".join(
        str(p) if re.fullmatch(r"[!-~]{1,64}", str(p)) else _quote(str(p)) for p in error["loc"]
    )
    return f"{where}: {_explain(error)}" if where else _explain(error)


def _explain(error: ErrorDetails) -> str:
    """What is wrong, never quoting more than SHOWN characters of the input."""
    if error["type"] == "extra_forbidden":
        aliases = [str(f.alias) for f in HealRequest.model_fields.values()]
        meant = {a.lower(): a for a in aliases}.get(str(error["loc"][-1]).replace("_", "").lower())
        hint = f"; did you mean {meant}?" if meant else ""
        return f"unknown field (allowed: {', '.join(aliases)}; names are case-sensitive){hint}"
    if error["type"] == "missing":
        return "required"
    if error["type"] == "value_error":  # ours: each quotes its values with _quote
        return str(error["msg"]).removeprefix("Value error, ")
    # pydantic's own messages are short templates ("Input should be a valid boolean"); should
    # one ever include the input, it is cut to its prefix, and the message to a bounded length
    message, value = str(error["msg"]), error.get("input")
    if isinstance(value, str) and len(value) > SHOWN and value in message:
        message = message.replace(value, _quote(value))
    return message if len(message) <= 2 * SHOWN else f"{message[: 2 * SHOWN]}…"


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
    #: Differences left out to keep checkpoints and messages within AWS's size limits.
    omitted_differences: int = 0


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


class Approval(_Contract):
    """Who decided on a RequireApproval heal, and when (the approver's AWS identity, as the
    ``drift-healer approve`` command records it, or what the callback's document says)."""

    decision: str  # APPROVED, REJECTED or TIMED_OUT
    approver: str | None = None
    ticket: str | None = None
    comment: str | None = None
    #: The change set's content hash that was reviewed (policy.approval.fingerprint).
    fingerprint: str | None = None


class AcceptedDrift(_Contract):
    """A drifted property the change policy accepts (its rule's reason, owner and end date)."""

    logical_resource_id: str
    #: "" for a DELETED resource.
    property_path: str
    reason: str
    owner: str
    #: YYYY-MM-DD: the rule applies through this day.
    expires: str


class Deferral(_Contract):
    """A wait for the change policy: until when, and what made it wait."""

    #: ISO 8601, UTC.
    until: str
    #: The change window it waited for (None: no window, only a freeze).
    window: str | None = None
    #: The freezes that pushed it later.
    freezes: list[str] = []


class PolicyTrail(_Contract):
    """What the change policy made of this heal (only when a policy is configured)."""

    #: The stack's criticality tier (its tag ``drift-healer:tier``, or the default).
    tier: str | None = None
    #: The change window the change set was executed in.
    window: str | None = None
    deferrals: list[Deferral] = []
    accepted_drift: list[AcceptedDrift] = []
    #: Accepted-drift rules past their end date, whose drift counts again.
    expired_rules: list[str] = []
    #: The health gates' alarms (name -> state) before the execution, and after its bake time:
    #: at most 50 of them, those not OK first; ``alarms_watched`` counts them all.
    health_before: dict[str, str] = {}
    health_after: dict[str, str] = {}
    alarms_watched: int = 0
    #: Alarms that were OK before the change and were not after it.
    regressions: list[str] = []


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
    #: How many resources drifted; DriftedResources lists at most as many as fit the limits.
    drifted_resource_count: int = 0
    change_set: ChangeSetInfo | None = None
    verification: Verification | None = None
    #: Only for RequireApproval: the decision and who made it.
    approval: Approval | None = None
    #: Only with a change policy (CHANGE_POLICY or CHANGE_POLICY_PARAMETER): tier, windows,
    #: deferrals, accepted drift.
    policy: PolicyTrail | None = None
    #: s3://bucket/key of this execution's change record (CHANGE_RECORD_BUCKET), if it wrote one.
    change_record: str | None = None


class ReconcileRequest(_Contract):
    """The reconciler's event: ``{}`` (its schedule, or on demand), or ``{"DryRun": true}`` to
    see the plan without writing."""

    dry_run: bool = False

    model_config = ConfigDict(strict=True)


class FleetProblem(_Contract):
    """A stack whose tags do not enrol it, or a place or write that failed."""

    where: str
    reason: str


class ReconcileResult(_Contract):
    """What one reconciler run found and wrote. ``Complete`` is false when a region could not be
    read, a write failed or time ran out; the next run converges from wherever this one left."""

    dry_run: bool = False
    complete: bool = True
    places: int = 0
    enrolled: int = 0
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    #: At most FLEET_PROBLEMS_SHOWN of each; the counts say how many in all.
    invalid: list[FleetProblem] = []
    invalid_count: int = 0
    errors: list[FleetProblem] = []
    error_count: int = 0
