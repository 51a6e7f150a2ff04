"""Everything configurable, from environment variables (the SAM template sets them)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration of the healer. Each field reads the environment variable of its upper-case
    name, e.g. ``SNS_TOPIC_ARN``."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    #: Where notifications go. Empty: notifications are logged, not published.
    sns_topic_arn: str = ""
    #: Only stacks carrying this tag (any value, or OPT_IN_TAG_VALUE if set) are healed.
    opt_in_tag_key: str = ""
    opt_in_tag_value: str = ""
    #: The healer's own stack: never healed by itself.
    healer_stack_name: str = ""
    #: Send a notification when a stack is in sync (noisy for nightly runs).
    notify_in_sync: bool = False
    #: Longest a single wait on CloudFormation (detection, change set, execution) may take.
    max_wait_seconds: int = Field(default=3600, ge=60)
    #: First poll delay and its ceiling; delays grow geometrically in between.
    poll_initial_seconds: int = Field(default=5, ge=1)
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
    #: Hide every property value (drift, change sets, result, email, logs); show only paths.
    hide_values: bool = False
    log_level: str = "INFO"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once per container."""
    return Settings()
