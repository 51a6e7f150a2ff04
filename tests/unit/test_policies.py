"""Pre-flight, naming, polling and the decide step, with plain data."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from drift_healer import aws
from drift_healer.errors import InvalidRequest
from drift_healer.models import HealRequest, Risk
from drift_healer.policy import naming, polling, preflight
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
    tagged = Settings(opt_in_tag_key="heal", opt_in_tag_value="yes")
    assert preflight.skip_reason(stack(heal="yes"), tagged) is None
    assert "heal=yes" in str(preflight.skip_reason(stack(heal="no"), tagged))
    assert "opt-in" in str(preflight.skip_reason(stack(), Settings(opt_in_tag_key="heal")))


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
