"""Every failure path: a typed error that fails the execution, notified first; and the faults that
must lose nothing (throttling, retries, a failed publish)."""

from __future__ import annotations

from typing import Any

import pytest
from aws_durable_execution_sdk_python.exceptions import ExecutionError

from drift_healer import cloudformation, sns
from drift_sandbox import Timing
from tests.support import STEP_ATTEMPTS, TEMPLATE, Harness, outcomes


@pytest.mark.fault(
    "The stack does not exist",
    "fails `StackNotFound`, notified",
)
def test_missing_stack_fails_typed_and_is_notified(harness: Harness) -> None:
    run = harness.run({"StackName": "ghost"})
    assert run.error.type.endswith("StackNotFound")
    assert "ghost" in run.error.message
    assert "does not exist" in run.failure_note()


@pytest.mark.fault(
    "Drift detection fails for every resource (`DETECTION_FAILED`)",
    "fails `DetectionFailed` naming what was not checked, notified; nothing created",
)
def test_a_detection_that_checked_nothing_fails_typed_and_is_notified(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    harness.sandbox.faults.fail_detection("app", reason="Rate exceeded", checked=0)
    run = harness.run({"StackName": "app"})
    assert run.error.type.endswith("DetectionFailed")
    note = run.failure_note()
    assert "Rate exceeded" in note and "Param" in note  # what could not be checked
    assert harness.change_sets() == []


def test_a_complete_detection_that_could_not_tell_is_skipped_not_failed(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DETECTION_COMPLETE with NOT_CHECKED (no resource type of the stack supports drift
    detection): not a failed detection, and nothing to heal."""
    harness.stack()
    read = cloudformation.drift_detection_status

    def not_checked(*args: Any) -> Any:
        return {**read(*args), "StackDriftStatus": "NOT_CHECKED"}

    monkeypatch.setattr(cloudformation, "drift_detection_status", not_checked)
    run = harness.run({"StackName": "app"})
    assert run.outcome == "SKIPPED"
    assert "NOT_CHECKED" in run.result["Reason"]
    assert harness.change_sets() == []


def test_a_verification_that_could_not_tell_does_not_claim_in_sync(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.stack()
    harness.drift()
    read = cloudformation.drift_detection_status
    executed: list[bool] = []
    harness.sandbox.faults.before_call("ExecuteChangeSet", lambda: executed.append(True))

    def not_checked_after_execution(*args: Any) -> Any:
        status = read(*args)
        return {**status, "StackDriftStatus": "NOT_CHECKED"} if executed else status

    monkeypatch.setattr(cloudformation, "drift_detection_status", not_checked_after_execution)
    run = harness.run({"StackName": "app"})
    assert run.outcome == "HEALED"
    assert "verified in sync" not in run.result["Reason"]
    assert "inconclusive" in run.result["Reason"]
    assert run.result["Verification"] == {"StackDriftStatus": "NOT_CHECKED"}


@pytest.mark.fault(
    "Drift detection fails for some resources",
    "reports the drift found and what was not checked; proposes the change set, never executes it",
)
def test_a_partial_detection_reports_what_it_found_and_never_executes(harness: Harness) -> None:
    """DETECTION_FAILED after checking the parameter (drifted) but not the rest: the drift found
    is reported and a change set proposed, but a REVERT_DRIFT change set reverts all drift, also
    the drift nobody could see, so it is not executed unattended."""
    harness.stack()
    harness.drift()
    harness.sandbox.faults.fail_detection("app", reason="Rate exceeded", checked=1)
    run = harness.run({"StackName": "app"})
    assert run.outcome == "CHANGE_SET_CREATED"
    assert [r["LogicalResourceId"] for r in run.result["DriftedResources"]] == ["Param"]
    assert "partial" in run.result["Reason"] and "Queue" in run.result["Reason"]
    assert harness.param_value() == "off"  # nothing executed
    assert harness.executions() == 0


@pytest.mark.fault(
    "The verifying detection fails for some resources after a successful revert",
    "`HEALED`, the reason says which resources were not verified",
)
def test_a_partial_verification_after_a_revert_is_not_a_failed_heal(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    faults = harness.sandbox.faults
    faults.before_call(
        "ExecuteChangeSet", lambda: faults.fail_detection("app", "Rate exceeded", checked=2)
    )
    run = harness.run({"StackName": "app"})
    assert run.outcome == "HEALED"
    assert "verification incomplete" in run.result["Reason"]
    assert "Queue" not in run.result["Reason"]  # checked (the second resource)
    assert "Topic" in run.result["Reason"]  # not checked
    assert harness.param_value() == "on"


@pytest.mark.fault(
    "CloudFormation takes longer than `MAX_WAIT_SECONDS`",
    "fails `WaitTimedOut`, notified",
)
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


@pytest.mark.fault(
    'The change set ends `FAILED` (not for "no changes")',
    "fails `ChangeSetFailed` with CloudFormation's reason, notified",
)
def test_failed_change_set_fails_typed_and_is_notified(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    harness.sandbox.faults.fail_change_set("app", "Requires capabilities : [CAPABILITY_IAM]")
    run = harness.run({"StackName": "app"})
    assert run.error.type.endswith("ChangeSetFailed")
    assert "CAPABILITY_IAM" in run.failure_note()


@pytest.mark.fault(
    "The execution fails and rolls back",
    "fails `ExecutionFailed` with the stack's reason, notified",
)
def test_failed_execution_reports_the_stack_reason(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    harness.sandbox.faults.fail_execution("app", "Param")
    run = harness.run({"StackName": "app"})
    assert run.error.type.endswith("ExecutionFailed")
    assert "UPDATE_ROLLBACK_COMPLETE" in run.error.message
    assert "failed to update: [Param]" in run.failure_note()
    assert harness.param_value() == "off"


@pytest.mark.fault(
    "Someone deploys the stack while the change set is made (`OBSOLETE`)",
    "fails `ExecutionFailed`; nothing executed",
)
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


@pytest.mark.fault(
    "Throttling while polling",
    "each throttled poll counts as a poll; the heal finishes",
)
def test_throttled_polls_only_delay_the_heal(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    harness.sandbox.faults.throttle("DescribeStackDriftDetectionStatus", times=6)
    run = harness.run({"StackName": "app"})
    assert run.outcome == "HEALED"


@pytest.mark.fault(
    "Throttling of a write (`CreateChangeSet`)",
    "retried durably with backoff; one change set",
)
def test_throttled_create_is_retried_durably_and_makes_one_change_set(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    # the harness gives botocore one attempt: every throttle is a durable step retry
    harness.sandbox.faults.throttle("CreateChangeSet", times=STEP_ATTEMPTS - 1)
    run = harness.run({"StackName": "app", "CreateChangeSetOnly": True})
    assert run.outcome == "CHANGE_SET_CREATED"
    assert len(harness.change_sets()) == 1
    assert run.attempts("create change set") == STEP_ATTEMPTS


@pytest.mark.fault(
    "Throttling that outlasts every retry",
    "fails `AwsUnavailable`, notified; nothing created",
)
def test_exhausted_retries_fail_and_are_notified(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    harness.sandbox.faults.throttle("CreateChangeSet", times=STEP_ATTEMPTS)
    run = harness.run({"StackName": "app"})
    assert "Rate exceeded" in run.error.message
    assert "Throttling" in run.failure_note()
    assert harness.change_sets() == []
    assert harness.param_value() == "off"


@pytest.mark.fault(
    "5xx on `ExecuteChangeSet`",
    "retried durably; executed once",
)
def test_transient_server_errors_are_retried(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    harness.sandbox.faults.server_error("ExecuteChangeSet", times=STEP_ATTEMPTS - 1)
    run = harness.run({"StackName": "app"})
    assert run.outcome == "HEALED"
    assert run.attempts("execute change set") == STEP_ATTEMPTS
    assert harness.executions() == 1


@pytest.mark.fault(
    "SNS `Publish` fails a few times",
    "retried durably; one message",
)
def test_a_briefly_failing_publish_is_retried(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    harness.sandbox.faults.throttle("Publish", times=STEP_ATTEMPTS - 1, service="sns")
    run = harness.run({"StackName": "app"})
    assert run.outcome == "HEALED"
    assert outcomes(run.notifications) == ["HEALED"]


@pytest.mark.fault(
    "SNS `Publish` never succeeds",
    "the result is returned all the same; the message is logged",
)
def test_a_publish_that_never_succeeds_does_not_lose_the_result(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    harness.sandbox.faults.throttle("Publish", times=1000, service="sns")
    run = harness.run({"StackName": "app"})
    assert run.outcome == "HEALED"
    assert run.result["Verification"] == {"StackDriftStatus": "IN_SYNC"}
    assert run.notifications == []


@pytest.mark.fault(
    "The stack is being updated by someone",
    "`SKIPPED`; the next run tries again",
)
def test_busy_stack_is_skipped(harness: Harness) -> None:
    harness.stack()
    harness.sandbox.make_busy("app", seconds=3600)
    run = harness.run({"StackName": "app"})
    assert run.outcome == "SKIPPED"
    assert "UPDATE_IN_PROGRESS" in run.result["Reason"]


@pytest.mark.fault(
    "Another drift detection is running on the stack",
    "waits for it to end, then detects again and finishes",
)
def test_a_running_detection_is_waited_for_then_the_heal_detects_again(
    harness: Harness,
) -> None:
    """One detection per stack at a time: someone else's (or this heal's own, whose answer was
    lost) is waited for, then the heal starts its own and finishes."""
    harness.stack()
    harness.drift()
    harness.sandbox.engine.timing = Timing(detection_base=600)
    harness.sandbox.client("cloudformation").detect_stack_drift(StackName="app")
    run = harness.run({"StackName": "app"})
    assert run.outcome == "HEALED"
    assert run.attempts("detect drift: start") > 1  # refused while the other one ran


@pytest.mark.fault(
    "`DetectStackDrift` took effect but its response was lost "
    "(before the revert or while verifying)",
    "waits for its own detection to end, starts again, finishes",
)
@pytest.mark.parametrize("phase", ["detect drift", "verify"])
def test_a_lost_detect_stack_drift_response_is_recovered(harness: Harness, phase: str) -> None:
    """DetectStackDrift took effect but its answer was lost (a 5xx): asking again is refused
    with "already in progress". The heal waits for its own detection to end, starts another,
    and finishes, whether that happens before the revert or while verifying it."""
    harness.stack()
    harness.drift()
    faults = harness.sandbox.faults
    if phase == "detect drift":
        faults.lose_response("DetectStackDrift")
    else:
        faults.before_call("ExecuteChangeSet", lambda: faults.lose_response("DetectStackDrift"))
    run = harness.run({"StackName": "app"})
    assert run.outcome == "HEALED"
    assert run.result["Verification"] == {"StackDriftStatus": "IN_SYNC"}
    assert harness.executions() == 1
    # the lost answer, then "already in progress" while its own detection ran, then accepted
    assert run.attempts(f"{phase}: start") >= 3


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


@pytest.mark.fault(
    "`ExecuteChangeSet` took effect but its response was lost (a crash before the checkpoint)",
    "the retry sees the execution under way; executed once",
)
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


@pytest.mark.fault(
    "`CreateChangeSet` took effect but its response was lost",
    "the retry's `ClientToken` finds it; one change set",
)
def test_lost_create_response_makes_one_change_set(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    harness.sandbox.faults.lose_response("CreateChangeSet")
    run = harness.run({"StackName": "app", "CreateChangeSetOnly": True})
    assert run.outcome == "CHANGE_SET_CREATED"
    assert len(harness.change_sets()) == 1
    assert harness.sandbox.calls[("cloudformation", "CreateChangeSet")] == 2  # idempotent retry


@pytest.mark.fault(
    "The durable SDK fails (checkpointing, replay)",
    "the error reaches the SDK untouched (Lambda retries the invocation); "
    "no email, no further step",
)
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


@pytest.mark.fault(
    "The durable SDK fails inside a poll",
    "not taken for a transient error: the execution ends as the SDK ends it, no email",
)
def test_the_sdks_own_errors_while_polling_are_not_taken_for_transient_ones(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.stack()
    harness.drift()

    def broken(*_: object) -> None:
        raise ExecutionError("checkpoint service unavailable")

    monkeypatch.setattr(cloudformation, "drift_detection_status", broken)
    run = harness.run({"StackName": "app"})
    assert run.error.type.endswith("ExecutionError")
    # the check at once (it asks nothing), then the one poll that failed: not again and again
    assert run.attempts("detect drift: wait") <= 2
    assert run.notifications == []


@pytest.mark.fault(
    "The durable SDK fails while the message is published",
    "the error reaches the SDK untouched",
)
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


@pytest.mark.fault(
    "5xx, a dropped connection or throttling while waiting for the execution",
    "each failed poll counts as a poll; the heal finishes, executed once",
)
# ------------------------------------------------------------------ faults while waiting
@pytest.mark.parametrize("fault", ["server_error", "disconnect", "throttle"])
def test_a_poll_rides_out_transient_errors_after_the_change_set_was_executed(
    harness: Harness, fault: str
) -> None:
    """5xx, a dropped connection or throttling while waiting for the execution: each failed
    poll counts as a poll; the heal finishes."""
    harness.stack()
    harness.drift()
    inject = getattr(harness.sandbox.faults, fault)
    harness.sandbox.faults.before_call(
        "ExecuteChangeSet", lambda: inject("DescribeStacks", times=4)
    )
    run = harness.run({"StackName": "app"})
    assert run.outcome == "HEALED"
    assert harness.executions() == 1


@pytest.mark.fault(
    "Every poll fails (`POLL_MAX_CONSECUTIVE_ERRORS` in a row)",
    "fails `AwsUnavailable` with the last error, notified",
)
def test_a_wait_that_keeps_failing_ends_typed_and_notified(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    harness.sandbox.faults.server_error("DescribeStackDriftDetectionStatus", times=1000)
    run = harness.run({"StackName": "app"}, poll_max_consecutive_errors=4)
    assert run.error.type.endswith("AwsUnavailable")
    assert "4 polls in a row failed" in run.error.message
    assert "InternalFailure" in run.failure_note()
    assert harness.change_sets() == []


@pytest.mark.fault(
    "`AccessDenied` on a call",
    "fails `AccessDenied` at once, naming the action and the policy to change, notified",
)
# ------------------------------------------------------------------ errors that retrying cannot fix
def test_access_denied_is_not_retried_and_names_the_action_and_the_policy(
    harness: Harness,
) -> None:
    harness.stack()
    harness.drift()
    harness.sandbox.faults.deny("CreateChangeSet", times=1000)
    run = harness.run({"StackName": "app"})
    assert run.error.type.endswith("AccessDenied")
    assert "cloudformation:CreateChangeSet" in run.error.message
    assert "template.yaml" in run.error.message
    assert run.attempts("create change set") == 1
    assert "AccessDenied" in run.failure_note()


@pytest.mark.fault(
    "`AccessDenied` while polling",
    "fails `AccessDenied` after one poll",
)
def test_access_denied_while_polling_ends_at_once(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    harness.sandbox.faults.deny("DescribeStackDriftDetectionStatus", times=1000)
    run = harness.run({"StackName": "app"})
    assert run.error.type.endswith("AccessDenied")
    assert harness.sandbox.calls[("cloudformation", "DescribeStackDriftDetectionStatus")] == 1


@pytest.mark.fault(
    "A `ValidationError`",
    "fails `AwsRequestRefused` at once with AWS's message",
)
def test_a_validation_error_is_not_retried(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    harness.sandbox.faults.refuse(
        "CreateChangeSet", "ValidationError", "Parameters: [Env] must have values", times=1000
    )
    run = harness.run({"StackName": "app"})
    assert run.error.type.endswith("AwsRequestRefused")
    assert "Parameters: [Env] must have values" in run.error.message
    assert harness.sandbox.calls[("cloudformation", "CreateChangeSet")] == 1


@pytest.mark.fault(
    "No AWS credentials",
    "fails `MissingCredentials` at once",
)
def test_missing_credentials_are_not_retried(harness: Harness) -> None:
    harness.stack()
    harness.sandbox.faults.no_credentials("DescribeStacks", times=1000)
    run = harness.run({"StackName": "app"})
    assert run.error.type.endswith("MissingCredentials")
    assert "credentials" in run.error.message
    assert run.attempts("pre-flight") == 1


@pytest.mark.fault(
    "The stack is deleted while it is healed",
    "fails `StackNotFound` at once, notified",
)
def test_a_stack_deleted_mid_run_ends_at_once(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    harness.sandbox.faults.before_call(
        "DescribeStackResourceDrifts", lambda: harness.sandbox.delete_stack("app")
    )
    run = harness.run({"StackName": "app"})
    assert run.error.type.endswith("StackNotFound")
    assert "deleted while it was being healed" in run.failure_note()
    assert run.attempts("read drift") == 1


@pytest.mark.fault(
    "A reviewer deletes the change set while the heal waits",
    "fails `ChangeSetGone` at once; nothing executed",
)
@pytest.mark.fault(
    "The stack is deleted while its change set is made",
    "fails `StackNotFound` (its change set went with it), notified",
)
def test_a_stack_deleted_while_its_change_set_is_made_is_reported_as_deleted(
    harness: Harness,
) -> None:
    harness.stack()
    harness.drift()
    harness.sandbox.faults.before_call(
        "DescribeChangeSet", lambda: harness.sandbox.delete_stack("app")
    )
    run = harness.run({"StackName": "app"})
    assert run.error.type.endswith("StackNotFound")
    assert "deleted while it was being healed" in run.failure_note()


def test_a_change_set_deleted_by_a_reviewer_ends_at_once(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    cfn = harness.sandbox.client("cloudformation")

    def delete_it() -> None:
        [mine] = cfn.list_change_sets(StackName="app")["Summaries"]
        cfn.delete_change_set(ChangeSetName=mine["ChangeSetId"])

    harness.sandbox.faults.before_call("DescribeChangeSet", delete_it)
    run = harness.run({"StackName": "app"})
    assert run.error.type.endswith("ChangeSetGone")
    assert "no longer exists" in run.failure_note()
    assert harness.executions() == 0
