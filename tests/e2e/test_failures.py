"""Every failure path: a typed error that fails the execution, notified first; and the faults that
must lose nothing (throttling, retries, a failed publish)."""

from __future__ import annotations

import pytest
from aws_durable_execution_sdk_python.exceptions import ExecutionError

from drift_healer import cloudformation, sns
from drift_sandbox import Timing
from tests.support import STEP_ATTEMPTS, TEMPLATE, Harness


def test_missing_stack_fails_typed_and_is_notified(harness: Harness) -> None:
    run = harness.run({"StackName": "ghost"})
    assert run.error.type.endswith("StackNotFound")
    assert "ghost" in run.error.message
    assert "does not exist" in run.failure_note()


def test_failed_detection_fails_typed_and_is_notified(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    harness.sandbox.faults.fail_detection("app", reason="Rate exceeded", checked=1)
    run = harness.run({"StackName": "app"})
    assert run.error.type.endswith("DetectionFailed")
    assert "Rate exceeded" in run.failure_note()
    assert harness.change_sets() == []


def test_detection_longer_than_the_bound_ends_loudly(harness: Harness) -> None:
    harness.sandbox.engine.timing = Timing(detection_base=5 * 3600)
    harness.stack()
    run = harness.run({"StackName": "app"}, max_wait_seconds=1800)
    assert run.error.type.endswith("WaitTimedOut")
    assert "1800" in run.error.message
    assert "MAX_WAIT_SECONDS" in run.failure_note()


def test_long_detection_within_the_bound_polls_with_growing_delays(harness: Harness) -> None:
    """A 40-minute detection (a large stack) is waited for with a handful of polls, not one
    every 30 seconds, and does not give up after 10 attempts."""
    harness.sandbox.engine.timing = Timing(detection_base=40 * 60)
    harness.stack()
    harness.drift()
    run = harness.run({"StackName": "app", "DryRun": True})
    assert run.outcome == "DRIFT_REPORTED"
    polls = run.attempts("detect drift: wait")
    assert 10 < polls < 40


def test_failed_change_set_fails_typed_and_is_notified(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    harness.sandbox.faults.fail_change_set("app", "Requires capabilities : [CAPABILITY_IAM]")
    run = harness.run({"StackName": "app"})
    assert run.error.type.endswith("ChangeSetFailed")
    assert "CAPABILITY_IAM" in run.failure_note()


def test_failed_execution_reports_the_stack_reason(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    harness.sandbox.faults.fail_execution("app", "Param")
    run = harness.run({"StackName": "app"})
    assert run.error.type.endswith("ExecutionFailed")
    assert "UPDATE_ROLLBACK_COMPLETE" in run.error.message
    assert "failed to update: [Param]" in run.failure_note()
    assert harness.param_value() == "off"


def test_obsolete_change_set_is_not_executed(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    cfn = harness.sandbox.client("cloudformation")
    harness.sandbox.faults.before_call(
        "DescribeChangeSet",
        lambda: cfn.update_stack(  # someone deploys while the change set is being made
            StackName="app",
            TemplateBody=TEMPLATE + "Outputs:\n  Deployed: {Value: again}\n",
            Parameters=[{"ParameterKey": "Env", "UsePreviousValue": True}],
        ),
    )
    run = harness.run({"StackName": "app"})
    assert run.error.type.endswith("ExecutionFailed")
    assert "OBSOLETE" in run.failure_note()
    assert harness.param_value() == "off"


def test_throttled_polls_only_delay_the_heal(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    harness.sandbox.faults.throttle("DescribeStackDriftDetectionStatus", times=6)
    run = harness.run({"StackName": "app"})
    assert run.outcome == "HEALED"


def test_throttled_create_is_retried_durably_and_makes_one_change_set(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    # the harness gives botocore one attempt: every throttle is a durable step retry
    harness.sandbox.faults.throttle("CreateChangeSet", times=STEP_ATTEMPTS - 1)
    run = harness.run({"StackName": "app", "CreateChangeSetOnly": True})
    assert run.outcome == "CHANGE_SET_CREATED"
    assert len(harness.change_sets()) == 1
    assert run.attempts("create change set") == STEP_ATTEMPTS


def test_exhausted_retries_fail_and_are_notified(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    harness.sandbox.faults.throttle("CreateChangeSet", times=STEP_ATTEMPTS)
    run = harness.run({"StackName": "app"})
    assert "Rate exceeded" in run.error.message
    assert "Throttling" in run.failure_note()
    assert harness.change_sets() == []
    assert harness.param_value() == "off"


def test_transient_server_errors_are_retried(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    harness.sandbox.faults.server_error("ExecuteChangeSet", times=STEP_ATTEMPTS - 1)
    run = harness.run({"StackName": "app"})
    assert run.outcome == "HEALED"
    assert run.attempts("execute change set") == STEP_ATTEMPTS
    assert harness.executions() == 1


def test_a_briefly_failing_publish_is_retried(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    harness.sandbox.faults.throttle("Publish", times=STEP_ATTEMPTS - 1, service="sns")
    run = harness.run({"StackName": "app"})
    assert run.outcome == "HEALED"
    assert [n.attributes["outcome"] for n in run.notifications] == ["HEALED"]


def test_a_publish_that_never_succeeds_does_not_lose_the_result(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    harness.sandbox.faults.throttle("Publish", times=1000, service="sns")
    run = harness.run({"StackName": "app"})
    assert run.outcome == "HEALED"
    assert run.result["Verification"] == {"StackDriftStatus": "IN_SYNC"}
    assert run.notifications == []


def test_busy_stack_is_skipped(harness: Harness) -> None:
    harness.stack()
    harness.sandbox.make_busy("app", seconds=3600)
    run = harness.run({"StackName": "app"})
    assert run.outcome == "SKIPPED"
    assert "UPDATE_IN_PROGRESS" in run.result["Reason"]


def test_running_detection_means_another_heal_is_in_flight(harness: Harness) -> None:
    harness.stack()
    harness.sandbox.client("cloudformation").detect_stack_drift(StackName="app")
    harness.sandbox.engine.timing = Timing(detection_base=3600)
    run = harness.run({"StackName": "app"})
    assert run.outcome == "SKIPPED"
    assert "already running" in run.result["Reason"]


def test_healer_never_heals_its_own_stack(harness: Harness) -> None:
    harness.stack("drift-healer", env="healer")
    run = harness.run({"StackName": "drift-healer"})
    assert run.outcome == "SKIPPED"
    assert "own stack" in run.result["Reason"]


def test_opt_in_tag_restricts_which_stacks_are_healed(harness: Harness) -> None:
    harness.stack("app", Tags=[{"Key": "drift-healer", "Value": "enabled"}])
    harness.drift()
    harness.stack("other", env="other")
    assert harness.run({"StackName": "other"}, opt_in_tag_key="drift-healer").outcome == "SKIPPED"
    run = harness.run({"StackName": "app"}, opt_in_tag_key="drift-healer")
    assert run.outcome == "HEALED"


@pytest.mark.parametrize("aws_max_attempts", [1, 3])
def test_lost_execute_response_is_retried_without_executing_twice(
    harness: Harness, aws_max_attempts: int
) -> None:
    """A crash between ExecuteChangeSet and its checkpoint. With botocore retries the call is
    re-sent with the same ClientRequestToken (idempotent); without, the durable step retry sees
    the execution under way and does not call again. Either way: executed once."""
    harness.stack()
    harness.drift()
    harness.sandbox.faults.lose_response("ExecuteChangeSet")
    run = harness.run({"StackName": "app"}, aws_max_attempts=aws_max_attempts)
    assert run.outcome == "HEALED"
    assert harness.executions() == 1
    if aws_max_attempts == 1:
        assert harness.sandbox.calls[("cloudformation", "ExecuteChangeSet")] == 1


def test_lost_create_response_makes_one_change_set(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    harness.sandbox.faults.lose_response("CreateChangeSet")
    run = harness.run({"StackName": "app", "CreateChangeSetOnly": True})
    assert run.outcome == "CHANGE_SET_CREATED"
    assert len(harness.change_sets()) == 1
    assert harness.sandbox.calls[("cloudformation", "CreateChangeSet")] == 2  # idempotent retry


def test_the_sdks_own_errors_reach_the_sdk_untouched(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fatal SDK error inside a step (the checkpoint service broke, say) must end the
    invocation as the SDK decides: the heal sends no FAILED email and runs no further step."""
    harness.stack()
    harness.drift()

    def broken(*_: object) -> None:
        raise ExecutionError("checkpoint service unavailable")

    monkeypatch.setattr(cloudformation, "drifted_resources", broken)
    run = harness.run({"StackName": "app"})
    assert run.error.type.endswith("ExecutionError")
    assert run.notifications == []
    assert [p.name for p in run.local.phases if p.name in ("record metrics", "notify FAILED")] == []


def test_an_sdk_error_while_publishing_is_not_swallowed(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.stack()
    harness.drift()

    def broken(*_: object) -> str:
        raise ExecutionError("checkpoint service unavailable")

    monkeypatch.setattr(sns, "publish", broken)
    run = harness.run({"StackName": "app"})
    assert run.error.type.endswith("ExecutionError")
