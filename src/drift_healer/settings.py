"""Everything configurable, from environment variables (the SAM template sets them)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration of the healer. Each field reads the environment variable of its upper-case
    name, e.g. ``SNS_TOPIC_ARN``."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    #: Where notifications go. Empty: notifications are logged, not published.
    sns_topic_arn: str = ""
    #: How far any heal may go (the deployment's HealMode): an event or a stack's tag can ask
    #: for less, never more. The template sets it; unset (the CLI, tests) nothing is capped.
    heal_mode: Literal["dry-run", "propose", "heal"] = "heal"
    #: Only stacks carrying this tag with an enrolment value (enabled, propose, heal, dry-run)
    #: are healed. Empty: any stack may be; a drift-healer tag is still obeyed as a ceiling.
    opt_in_tag_key: str = ""
    #: The healer's own stack: never healed by itself.
    healer_stack_name: str = ""
    #: Send a notification when a stack is in sync (noisy for nightly runs).
    notify_in_sync: bool = False
    #: Longest a single wait on CloudFormation (detection, change set, execution) may take.
    max_wait_seconds: int = Field(default=3600, ge=60)
    #: Estimate how long CloudFormation takes (from the stack's last heal, this heal's first
    #: detection, or the stack's size) and poll when it should be done (policy.polling). Off:
    #: every wait polls on the geometric schedule below, e.g. for an emulator far faster than
    #: AWS (the CLI's ``--sandbox``).
    poll_estimates: bool = True
    #: The geometric schedule of a wait that has no estimate of how long CloudFormation takes:
    #: its first delay, growing by the rate up to the ceiling. A wait with an estimate polls at
    #: half the estimate, then a little later each time, and never makes more than one poll
    #: more than this schedule would (policy.polling); the ceiling caps its gaps too.
    poll_initial_seconds: int = Field(default=1, ge=1)
    poll_max_seconds: int = Field(default=120, ge=1)
    poll_backoff_rate: float = Field(default=1.6, ge=1.0)
    #: Polls in a row that may fail with a transient error (throttling, 5xx, network) before a
    #: wait gives up with AwsUnavailable; each failed poll backs off like any other.
    poll_max_consecutive_errors: int = Field(default=10, ge=1)
    #: Prefix of the change sets the healer creates (so people and the healer recognise them).
    #: The IAM policies of the templates allow only ``drift-heal-*``: change them together.
    change_set_prefix: str = Field(default="drift-heal", pattern=r"^[a-zA-Z][-a-zA-Z0-9]{0,40}$")
    #: Attempts per AWS call inside a step (botocore standard retry mode) before a step retry.
    aws_max_attempts: int = Field(default=3, ge=1)
    #: Durable retries of a failed step (with backoff, costs nothing while waiting).
    step_max_attempts: int = Field(default=6, ge=1)
    #: Which heals ask a person instead of deciding alone (as if the event said
    #: RequireApproval): none; high (a change set that would otherwise only be proposed: HIGH
    #: risk, or after a partial detection); all (every change set). Under the HEAL_MODE ceiling.
    approval_for: Literal["none", "high", "all"] = "none"
    #: How long a RequireApproval heal waits for a person (72 hours); then the change set is
    #: deleted and the heal ends REJECTED. Must fit the function's ExecutionTimeout.
    approval_timeout_seconds: int = Field(default=72 * 3600, ge=1)
    #: Signed review links (the template's ReviewLinks=enabled): the review page's Function URL
    #: and the Secrets Manager secret whose value signs the links. Both empty: the approval email
    #: carries the commands only.
    review_url: str = ""
    review_secret_arn: str = ""
    #: The change policy (windows, freezes, tiers, accepted drift; policy/change_policy.py):
    #: a JSON document inline, or the name of the SSM parameter that holds it (read at every
    #: heal). Both empty: no windows, freezes or accepted drift.
    change_policy: str = ""
    change_policy_parameter: str = ""
    #: The S3 bucket of the change records (the template's ChangeRecords): one JSON record per
    #: execution that changes or proposes a change. Empty: none written.
    change_record_bucket: str = ""
    #: The S3 bucket where the healer keeps how long each stack's operations took
    #: (``timings/<account>/<region>/<stack>.json``, policy/timings.py), so that its next heal
    #: waits for the stack's own times rather than a model's (the template: the ChangeRecords
    #: bucket). Empty: every heal estimates from the stack's size alone.
    history_bucket: str = ""
    #: The function's durable ExecutionTimeout (the template's default, 7 days): under a change
    #: policy, a heal never starts executing later than it, less what executing needs (two
    #: MAX_WAIT_SECONDS after a window open now, three after a deferral; the bake time and a
    #: quarter hour); later windows leave a proposal instead.
    execution_timeout_seconds: int = Field(default=7 * 24 * 3600, ge=3600)
    #: Hide every property value (drift, change sets, result, email, logs); show only paths.
    hide_values: bool = False
    log_level: str = "INFO"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once per container."""
    return Settings()


_ACCOUNT = re.compile(r"[0-9]{12}")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[1-9][0-9]?")
_ALIAS_ARN = re.compile(
    r"arn:(?P<partition>[^:]+):lambda:(?P<region>[^:]+):(?P<account>[0-9]{12}):function:.+"
)


class FleetSettings(BaseSettings):
    """Configuration of the reconciler, which keeps one schedule per enrolled stack. The
    template sets every variable; each error names the variable and the fix."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    #: The deployment's HealMode: what a stack tagged ``enabled`` runs in.
    heal_mode: Literal["dry-run", "propose", "heal"] = "propose"
    #: Regions to discover stacks in, comma-separated; empty: the function's own.
    fleet_regions: str = ""
    #: Member accounts, comma-separated 12-digit ids (the healer's own is always included).
    fleet_accounts: str = ""
    #: The role (under /drift-healer/) the healer assumes in member accounts.
    member_role_name: str = ""
    schedule_group: str = Field(min_length=1)
    scheduler_role_arn: str = Field(min_length=1)
    #: The healer's alias ARN: what each schedule invokes (durable functions need a qualifier).
    healer_target_arn: str = Field(min_length=1)
    schedule_dead_letter_arn: str = Field(min_length=1)
    schedule_expression: str = "cron(0 2 * * ? *)"
    schedule_timezone: str = "UTC"
    spread_minutes: int = Field(default=180, ge=0, le=1440)
    flexible_window_minutes: int = Field(default=15, ge=0, le=1440)
    #: Attempts per AWS call (standard retry mode: throttling backs off inside the call).
    aws_max_attempts: int = Field(default=5, ge=1)
    #: Stop writing this long before the invocation's time runs out; the next run goes on.
    reserve_seconds: int = Field(default=30, ge=0)

    @field_validator("fleet_regions", "fleet_accounts")
    @classmethod
    def _check_list(cls, value: str, info: ValidationInfo) -> str:
        shape = _REGION if info.field_name == "fleet_regions" else _ACCOUNT
        bad = [item for item in _items(value) if not shape.fullmatch(item)]
        if bad:
            what = "region names like eu-west-1" if shape is _REGION else "12-digit account ids"
            raise ValueError(f"{', '.join(map(repr, bad[:5]))}: not {what}")
        return value

    @field_validator("healer_target_arn")
    @classmethod
    def _check_target(cls, value: str) -> str:
        if not _ALIAS_ARN.fullmatch(value):
            raise ValueError(f"{value!r} is not a Lambda function ARN with its alias")
        return value

    @model_validator(mode="after")
    def _check_members(self) -> FleetSettings:
        if self.fleet_accounts and not self.member_role_name:
            raise ValueError("FLEET_ACCOUNTS needs MEMBER_ROLE_NAME (the role to assume there)")
        return self

    @property
    def partition(self) -> str:
        return _ALIAS_ARN.fullmatch(self.healer_target_arn)["partition"]  # type: ignore[index]

    @property
    def account(self) -> str:
        """The healer's own account (its function's)."""
        return _ALIAS_ARN.fullmatch(self.healer_target_arn)["account"]  # type: ignore[index]

    @property
    def region(self) -> str:
        """The healer's own region (its function's, where the schedule group is)."""
        return _ALIAS_ARN.fullmatch(self.healer_target_arn)["region"]  # type: ignore[index]

    @property
    def regions(self) -> list[str]:
        return _items(self.fleet_regions) or [self.region]

    @property
    def accounts(self) -> list[str]:
        """The healer's own account first, then the members."""
        return [self.account, *(a for a in _items(self.fleet_accounts) if a != self.account)]

    def member_role(self, account: str) -> str | None:
        """The role to assume for an account's stacks; None for the healer's own."""
        if account == self.account:
            return None
        return f"arn:{self.partition}:iam::{account}:role/drift-healer/{self.member_role_name}"


def _items(value: str) -> list[str]:
    return list(dict.fromkeys(item.strip() for item in value.split(",") if item.strip()))
