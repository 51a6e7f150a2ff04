"""RequireApproval end to end: the heal asks a person, waits durably, and executes only exactly
what was approved; a rejection or the deadline deletes the change set."""

from __future__ import annotations

import json
from typing import Any

import pytest

from drift_healer_cli import errors as cli_errors
from drift_healer_cli.local import LocalRun, LocalRunner
from drift_healer_cli.main import main
from tests.support import Harness, colleague_change_set

APPROVER = {"Approver": "arn:aws:sts::123456789012:assumed-role/oncall/ana", "Ticket": "CHG-42"}


class Pending:
    """A RequireApproval execution waiting for its callback."""

    def __init__(
        self,
        harness: Harness,
        event: dict[str, Any] | None = None,
        **settings: Any,
    ) -> None:
        self.harness = harness
        self.inbox = harness.sandbox.inbox(harness.topic_arn)
        self.runner = LocalRunner(harness.settings(**settings), skip_time=True)
        harness.runners.append(self.runner)
        self.arn = self.runner.start(
            event or {"StackName": "app", "RequireApproval": True}, name="ask"
        )
        self.callback_id = self.runner.callback(self.arn)
        # the request first; with a deadline of a second, the outcome may already follow it
        self.request, *self.later = self.inbox.messages()
        assert self.request.attributes["outcome"] == "APPROVAL_REQUESTED"

    def answer(self, approve: bool, **document: str) -> LocalRun:
        self.runner.answer(self.callback_id, approve, document)
        return self.runner.finish(self.arn)


@pytest.fixture
def pending(harness: Harness) -> Pending:
    harness.stack()
    harness.drift()
    return Pending(harness)


def test_the_request_carries_the_plan_the_deadline_and_the_commands(pending: Pending) -> None:
    request = pending.request
    assert request.subject == "[drift-healer] app: approval needed"
    assert request.attributes["outcome"] == "APPROVAL_REQUESTED"
    body = request.message
    assert '/Value: expected "on", actual "off"' in body  # the drift
    assert "Risk:       LOW" in body and "Fingerprint: sha256:" in body
    assert "Deadline: " in body and "(then the change set is deleted: REJECTED)" in body
    assert f"--callback-id {pending.callback_id}" in body
    assert "send-durable-execution-callback-success" in body
    assert "send-durable-execution-callback-failure" in body
    assert pending.harness.executions() == 0  # nothing runs while it waits


def test_approved_executes_verifies_and_records_who(pending: Pending) -> None:
    run = pending.answer(True, Comment="looks right", **APPROVER)
    result = run.result
    assert result is not None and result["Outcome"] == "HEALED"
    assert result["Approval"] == {
        "Decision": "APPROVED",
        "Approver": APPROVER["Approver"],
        "Ticket": "CHG-42",
        "Comment": "looks right",
        "Fingerprint": pending.request.message.split("Fingerprint: ")[1].split()[0],
    }
    assert pending.harness.executions() == 1 and pending.harness.param_value() == "on"
    [done] = pending.inbox.messages()
    assert "Approval:   APPROVED by arn:aws:sts::123456789012:assumed-role/oncall/ana" in (
        done.message
    )
    assert "Ticket:     CHG-42" in done.message


def test_rejected_deletes_the_change_set(pending: Pending) -> None:
    run = pending.answer(False, Approver="bob", Comment="not during the sale")
    result = run.result
    assert result is not None and result["Outcome"] == "REJECTED"
    assert result["Reason"] == ("rejected by bob: not during the sale; the change set was deleted")
    assert result["Approval"]["Decision"] == "REJECTED"
    assert pending.harness.change_sets() == [] and pending.harness.executions() == 0
    [done] = pending.inbox.messages()
    assert done.attributes["outcome"] == "REJECTED"


def test_no_answer_before_the_deadline_rejects(harness: Harness) -> None:
    """Callback timeouts run on real time in the local runner: a one-second deadline."""
    harness.stack()
    harness.drift()
    waiting = Pending(harness, approval_timeout_seconds=1)
    run = waiting.runner.finish(waiting.arn)
    result = run.result
    assert result is not None and result["Outcome"] == "REJECTED"
    assert (
        result["Reason"] == "no approval within 0 min 1 s (timed out); the change set was deleted"
    )
    assert result["Approval"]["Decision"] == "TIMED_OUT"
    assert harness.change_sets() == [] and harness.executions() == 0


def test_a_change_set_that_appeared_after_review_stops_the_execution(pending: Pending) -> None:
    colleague_change_set(pending.harness.sandbox.client("cloudformation"))
    run = pending.answer(True, **APPROVER)
    result = run.result
    assert result is not None and result["Outcome"] == "CHANGE_SET_CREATED"
    assert (
        "but not executed: other change sets appeared on the stack: release-42"
        in (result["Reason"])
    )
    assert pending.harness.executions() == 0


def test_a_stack_updated_after_review_stops_the_execution(pending: Pending) -> None:
    pending.harness.sandbox.tag_stack("app", {"team": "checkout"})
    run = pending.answer(True, **APPROVER)
    result = run.result
    assert result is not None and result["Outcome"] == "CHANGE_SET_CREATED"
    assert "but not executed: the change set is no longer available" in result["Reason"]
    assert pending.harness.param_value() == "off"  # the drift is still there: nothing ran


def test_a_second_answer_changes_nothing(pending: Pending) -> None:
    run = pending.answer(True, **APPROVER)
    assert run.result is not None and run.result["Outcome"] == "HEALED"
    with pytest.raises(Exception, match=r"(?i)callback"):
        pending.runner.answer(pending.callback_id, True, APPROVER)
    assert pending.harness.executions() == 1


def test_the_deployments_ceiling_turns_an_approval_into_a_proposal(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    run = harness.run({"StackName": "app", "RequireApproval": True}, heal_mode="propose")
    assert run.outcome == "CHANGE_SET_CREATED"
    assert "lowered from heal to propose" in run.result["Reason"]
    assert json.dumps(run.result["Approval"]) == "null"


# ------------------------------------------------------------------------------- the CLI
def test_drift_healer_approve_answers_over_the_lambda_api(
    pending: Pending, capsys: pytest.CaptureFixture[str]
) -> None:
    """``drift-healer approve`` finds the pending approval in the execution's history and
    answers it through the Lambda durable-execution API (here the local runner's), recording
    the caller's AWS identity."""
    endpoint = pending.runner.serve()
    with pending.harness.sandbox.environ():
        code = main(["approve", pending.arn, "--endpoint-url", endpoint, "--ticket", "CHG-9"])
    assert code == 0, capsys.readouterr().err
    run = pending.runner.finish(pending.arn)
    result = run.result
    assert result is not None and result["Outcome"] == "HEALED"
    assert result["Approval"]["Ticket"] == "CHG-9"
    assert result["Approval"]["Approver"].startswith("arn:aws:")  # STS: who called
    with pending.harness.sandbox.environ():
        again = main(["approve", pending.arn, "--endpoint-url", endpoint])
    assert again == 2
    assert "waits for no approval" in capsys.readouterr().err


def test_drift_healer_approve_sends_no_answer_without_an_aws_identity(
    pending: Pending, capsys: pytest.CaptureFixture[str]
) -> None:
    """An answer records who gave it: when STS cannot say who is calling, nothing is sent, the
    heal still waits, and the error says what to do (a setup error, exit 3)."""
    endpoint = pending.runner.serve()
    pending.harness.sandbox.faults.deny("GetCallerIdentity", service="sts")
    with pending.harness.sandbox.environ():
        code = main(["approve", pending.arn, "--endpoint-url", endpoint])
    err = capsys.readouterr().err
    assert code == 3, err
    assert "who you are in AWS could not be read" in err and "--profile" in err
    assert "Traceback" not in err
    with pending.harness.sandbox.environ():
        assert main(["approve", pending.arn, "--endpoint-url", endpoint]) == 0  # still waiting
    result = pending.runner.finish(pending.arn).result
    assert result is not None and result["Outcome"] == "HEALED"


def test_drift_healer_reject_deletes_the_change_set(
    pending: Pending, capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint = pending.runner.serve()
    with pending.harness.sandbox.environ():
        code = main(["reject", pending.arn, "--endpoint-url", endpoint, "--comment", "freeze"])
    assert code == 0, capsys.readouterr().err
    result = pending.runner.finish(pending.arn).result
    assert result is not None and result["Outcome"] == "REJECTED"
    assert result["Reason"].endswith(": freeze; the change set was deleted")
    assert pending.harness.change_sets() == []


# ------------------------------------------------------------------------------- the deployment
def test_approval_for_high_asks_instead_of_only_proposing(harness: Harness) -> None:
    """APPROVAL_FOR=high: a HIGH risk change set (here a phantom replacement) waits for a
    person instead of only being proposed; the person sees why it is HIGH."""
    harness.stack()
    harness.drift()
    harness.sandbox.faults.phantom_change("app", "Bucket", replacement="True")
    waiting = Pending(harness, {"StackName": "app"}, approval_for="high")
    assert "Risk:       HIGH" in waiting.request.message
    run = waiting.answer(False, Approver="ana", Comment="a replacement? no")
    assert run.result is not None and run.result["Outcome"] == "REJECTED"


def test_approval_for_high_still_heals_low_risk_alone(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    assert harness.run({"StackName": "app"}, approval_for="high").outcome == "HEALED"


def test_approval_for_all_asks_even_for_low_risk(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    waiting = Pending(harness, {"StackName": "app"}, approval_for="all")
    assert "(LOW risk)" in waiting.request.message
    assert waiting.answer(True, **APPROVER).result["Outcome"] == "HEALED"  # type: ignore[index]


def test_approval_for_all_never_asks_for_a_proposal(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    run = harness.run({"StackName": "app", "CreateChangeSetOnly": True}, approval_for="all")
    assert run.outcome == "CHANGE_SET_CREATED" and run.notifications[0].attributes["outcome"] == (
        "CHANGE_SET_CREATED"
    )


def test_every_phase_of_an_approved_heal_tells_ctrl_c_what_it_leaves(pending: Pending) -> None:
    """The CLI's Ctrl-C message says what the stack is left with from the last phase reached
    (drift_healer_cli.errors): every phase of an approval round must be one it knows."""
    run = pending.answer(True, **APPROVER)
    assert run.result is not None and run.result["Outcome"] == "HEALED"
    names = [phase.name for phase in run.phases]
    assert [name for name in names if not name.startswith(cli_errors.KNOWN)] == []
    assert any(name.startswith("re-validate approved") for name in names)
