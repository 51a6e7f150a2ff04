"""Pre-flight, naming, polling and the decide step, with plain data."""

from __future__ import annotations

import re
from typing import Any

import pytest

from drift_healer.models import HealRequest, Risk
from drift_healer.policy import naming, polling, preflight
from drift_healer.settings import Settings
from drift_healer.workflow import decide


def stack(status: str = "UPDATE_COMPLETE", name: str = "app", **tags: str) -> dict[str, Any]:
    return {"StackName": name, "StackStatus": status, "Tags": tags}


@pytest.mark.parametrize(
    "status", ["CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE"]
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
    assert naming.execute_token(name) != name


def test_poll_delays_grow_to_a_ceiling() -> None:
    delays = [polling.poll_delay(n, 5, 120, 1.6) for n in range(1, 15)]
    assert delays[0] == 5
    assert delays == sorted(delays)
    assert delays[-1] == 120
    assert len(set(delays)) > 5  # it adapts, it is not one fixed interval
    assert polling.timed_out(3600, 3600) and not polling.timed_out(3599, 3600)


def request(**flags: bool) -> HealRequest:
    return HealRequest.model_validate({"StackName": "app", **flags})


def test_decide() -> None:
    assert decide(request(), Risk.LOW, []).execute
    assert not decide(request(CreateChangeSetOnly=True), Risk.LOW, []).execute
    high = decide(request(), Risk.HIGH, ["X: Replacement is True"])
    assert not high.execute and "X: Replacement is True" in high.reason
