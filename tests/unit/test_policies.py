"""Pre-flight, naming, polling and the decide step, with plain data."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from drift_healer import aws
from drift_healer.errors import InvalidRequest
from drift_healer.models import ChangeSetInfo, HealRequest, HealResult, Outcome, Risk
from drift_healer.policy import decisions, naming, polling, preflight
from drift_healer.policy import record as change_record
from drift_healer.policy.decisions import decide
from drift_healer.settings import Settings


def stack(status: str = "UPDATE_COMPLETE", name: str = "app", **tags: str) -> dict[str, Any]:
    return {"StackName": name, "StackStatus": status, "Tags": tags}


@pytest.mark.parametrize(
    "status", ["CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"]
)
def test_settled_stacks_may_be_healed(status: str) -> None:
    assert preflight.skip_reason(stack(status), Settings()) is None


@pytest.mark.parametrize(
    ("status", "why"),
    [
        ("UPDATE_IN_PROGRESS", "busy"),
        ("UPDATE_ROLLBACK_IN_PROGRESS", "busy"),
        ("UPDATE_ROLLBACK_FAILED", "cannot be updated"),
        ("ROLLBACK_COMPLETE", "cannot be updated"),
        ("REVIEW_IN_PROGRESS", "busy"),
        # AWS detects drift only in CREATE_COMPLETE, UPDATE_COMPLETE, UPDATE_ROLLBACK_COMPLETE
        # and UPDATE_ROLLBACK_FAILED (drift-considerations.html)
        ("IMPORT_COMPLETE", "does not detect drift"),
        ("IMPORT_ROLLBACK_COMPLETE", "does not detect drift"),
    ],
)
def test_unsettled_stacks_are_skipped(status: str, why: str) -> None:
    reason = preflight.skip_reason(stack(status), Settings())
    assert reason is not None and why in reason and status in reason


def test_own_stack_and_opt_in_tag() -> None:
    assert "own stack" in str(
        preflight.skip_reason(stack(name="healer"), Settings(healer_stack_name="healer"))
    )
    required = Settings(opt_in_tag_key="drift-healer")
    for value in ("enabled", "propose", "heal", "dry-run"):
        assert preflight.skip_reason(stack(**{"drift-healer": value}), required) is None
    assert "does not carry the tag drift-healer" in str(preflight.skip_reason(stack(), required))
    typo = preflight.skip_reason(stack(**{"drift-healer": "yes"}), required)
    assert "drift-healer='yes' is not a value" in str(typo)
    paused = preflight.skip_reason(stack(**{"drift-healer": "paused"}), required)
    assert "paused" in str(paused) and "resume" in str(paused)


def test_a_drift_healer_tag_is_obeyed_even_when_the_tag_is_not_required() -> None:
    """RequireOptInTag=false lets untagged stacks be healed; a stack whose owner tagged it
    paused, or with a typo, is still not healed at full power."""
    assert preflight.skip_reason(stack(), Settings()) is None
    assert "paused" in str(preflight.skip_reason(stack(**{"drift-healer": "paused"}), Settings()))
    assert "not a value" in str(preflight.skip_reason(stack(**{"drift-healer": "on"}), Settings()))


HEAL = HealRequest(stack_name="app")


@pytest.mark.parametrize(
    ("event", "deployment", "tag", "expected", "because"),
    [
        ({}, "heal", None, "heal", None),
        ({}, "propose", None, "propose", "the deployment's HealMode is propose"),
        ({}, "heal", "propose", "propose", "the stack is tagged drift-healer=propose"),
        ({}, "propose", "dry-run", "dry-run", "the stack is tagged drift-healer=dry-run"),
        ({}, "dry-run", "heal", "dry-run", "the deployment's HealMode is dry-run"),
        ({"dry_run": True}, "heal", "propose", "dry-run", None),
        ({"create_change_set_only": True}, "propose", "enabled", "propose", None),
        ({"create_change_set_only": True}, "dry-run", None, "dry-run", "HealMode is dry-run"),
    ],
)
def test_the_mode_ceiling_lowers_a_request_never_raises_it(
    event: dict[str, Any], deployment: str, tag: str | None, expected: str, because: str | None
) -> None:
    request = HealRequest(stack_name="app", **event)
    tags = {} if tag is None else {"drift-healer": tag}
    settings = Settings(heal_mode=deployment)  # type: ignore[arg-type]
    capped, note = preflight.ceiling(request, stack(**tags), settings)
    assert capped.heal_mode.value == expected
    if because is None:
        assert note is None and capped == request
    else:
        assert note is not None and because in note
        assert note.startswith(f"lowered from {request.heal_mode.value} to {expected}")


def test_change_set_names_are_valid_deterministic_and_per_execution() -> None:
    arn = "arn:aws:lambda:us-east-1:1:function:f:live/durable-execution/x/abc"
    name = naming.change_set_name("drift-heal", arn)
    assert name == naming.change_set_name("drift-heal", arn)
    assert name != naming.change_set_name("drift-heal", arn + "2")
    assert re.fullmatch(r"[a-zA-Z][-a-zA-Z0-9]*", name) and len(name) <= 128


def test_execute_token_is_a_valid_client_request_token_for_the_longest_prefix() -> None:
    name = naming.change_set_name("p" * 41, "arn:aws:lambda:us-east-1:1:function:f:1/x/y/z")
    token = naming.execute_token(name)
    assert re.fullmatch(r"[a-zA-Z0-9][-a-zA-Z0-9]*", token) and len(token) <= 128
    assert token == naming.execute_token(name)


def test_execution_id_is_the_id_of_the_arn_or_a_digest() -> None:
    aws_arn = "arn:aws:lambda:us-east-1:1:function:f:3/durable-execution/nightly/ce67da72-3701"
    assert naming.execution_id(aws_arn) == "ce67da72-3701"
    local = [f"{n}/inv-12345678-1234" for n in ("5a805ed9", "0d1f2c3b")]  # the local runner's
    assert naming.execution_id(local[0]) != naming.execution_id(local[1])
    assert len(naming.execution_id(local[0])) == 16


def test_polls_within_the_bound() -> None:
    assert polling.polls_within(3600, lambda _: 10) == 361  # the last poll at t = 3600 s
    assert polling.polls_within(60, lambda n: [5, 10, 20, 40][n - 1]) == 5  # 5+10+20+40 ≥ 60
    assert polling.polls_within(60, lambda _: 0) == 61  # a delay is at least a second


def request(**flags: bool) -> HealRequest:
    return HealRequest.model_validate({"StackName": "app", **flags})


def test_decide() -> None:
    assert decide(request(), Risk.LOW, []).execute
    assert not decide(request(CreateChangeSetOnly=True), Risk.LOW, []).execute
    high = decide(request(), Risk.HIGH, ["X: Replacement is True"])
    assert not high.execute and "X: Replacement is True" in high.reason


def test_no_region_is_a_typed_error_that_names_the_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    with pytest.raises(InvalidRequest, match="pass Region in the event"):
        aws.default_region()


def test_the_healers_s3_gives_up_on_a_silent_connection_in_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Change records and timings are small objects: S3 that does not answer within 10 s is a
    fault (retried, or a hint given up on), not a minute's wait per attempt; other clients keep
    botocore's timeouts."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    aws.reset()
    try:
        config = aws.s3(3).meta.config
        assert (config.connect_timeout, config.read_timeout) == (10, 10)
        assert aws.sns(3).meta.config.read_timeout == 60
    finally:
        aws.reset()


@pytest.mark.parametrize(
    ("deployment", "tier", "stricter"),
    [
        ("none", "never", "none"),
        ("none", "high", "high"),
        ("none", "always", "all"),
        ("high", "never", "high"),
        ("high", "high", "high"),
        ("high", "always", "all"),
        ("all", "never", "all"),
        ("all", "high", "all"),
        ("all", "always", "all"),
    ],
)
def test_the_stricter_of_the_deployment_and_the_tier_asks(
    deployment: str, tier: str, stricter: str
) -> None:
    assert decisions.stricter_approval(deployment, tier) == stricter


def test_high_asks_for_what_the_heal_would_not_execute_alone() -> None:
    """LOW risk after a full detection, nothing accepted: executed alone; anything else asks."""
    heal = request()
    assert not decisions.asks_a_person(heal, "high", Risk.LOW, None)
    assert decisions.asks_a_person(heal, "high", Risk.HIGH, None)
    assert decisions.asks_a_person(heal, "high", Risk.LOW, "Queue not checked")
    assert decisions.asks_a_person(heal, "high", Risk.LOW, None, accepted="Flag Value")
    assert decisions.asks_a_person(heal, "all", Risk.LOW, None)
    assert not decisions.asks_a_person(heal, "none", Risk.HIGH, None)
    assert decisions.asks_a_person(request(RequireApproval=True), "none", Risk.LOW, None)


def test_accepted_drift_in_the_change_set_is_never_executed_unattended() -> None:
    decided = decide(request(), Risk.LOW, [], accepted="Flag Value")
    assert not decided.execute and "Flag Value" in decided.reason


def result(outcome: Outcome, change_set: bool = False) -> HealResult:
    info = (
        ChangeSetInfo(id="arn:cs", name="drift-heal-1", url="https://console")
        if change_set
        else None
    )
    return HealResult(stack_name="app", outcome=outcome, reason="r", change_set=info)


@pytest.mark.parametrize(
    ("outcome", "change_set", "recorded"),
    [
        (Outcome.HEALED, True, True),
        (Outcome.CHANGE_SET_CREATED, True, True),
        (Outcome.RESIDUAL_DRIFT, True, True),
        (Outcome.REJECTED, True, True),
        (Outcome.FAILED, True, True),
        (Outcome.FAILED, False, False),
        (Outcome.IN_SYNC, False, False),
        (Outcome.DRIFT_REPORTED, False, False),
        (Outcome.SKIPPED, False, False),
        (Outcome.NOTHING_TO_REVERT, False, False),
    ],
)
def test_a_change_record_is_left_by_what_changed_or_proposed_a_change(
    outcome: Outcome, change_set: bool, recorded: bool
) -> None:
    assert change_record.wanted(result(outcome, change_set)) is recorded


def test_a_change_records_key_is_by_stack_name_day_and_execution() -> None:
    written = datetime(2030, 1, 2, 22, 5, tzinfo=UTC)
    execution = "arn:aws:lambda:eu-west-1:123456789012:function:h:live/durable-execution/n/abc"
    stack = "arn:aws:cloudformation:eu-west-1:123456789012:stack/app/0a1b"
    assert change_record.key(stack, execution, written) == "change-records/app/2030/01/02/abc.json"
    assert change_record.key("app", execution, written) == "change-records/app/2030/01/02/abc.json"
