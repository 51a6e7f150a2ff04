"""The review page end to end: a RequireApproval heal emails a signed link; the page, served by the
review function's own code against the heal's local run (its history and callbacks over the
Lambda API), shows the plan, changes nothing on GET, and answers once on POST. Forged, expired
and replayed links get a page that says so and change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from drift_healer import review
from drift_healer_cli.local import LocalRunner
from drift_healer_cli.review_server import function_url_event
from tests.support import REVIEW_URL, Harness, Reviewed, forged


def test_the_email_links_to_the_review_page_with_a_signed_token(reviewed: Reviewed) -> None:
    body = reviewed.request.message
    assert "in your browser" in body and "can answer, once, until the deadline" in body
    assert f"--callback-id {reviewed.callback_id}" in body  # the commands stay
    assert reviewed.callback_id not in reviewed.token  # the token is not the callback id


def test_opening_the_link_shows_the_plan_and_changes_nothing(reviewed: Reviewed) -> None:
    for _ in range(3):  # a mail scanner, a preview, the reviewer
        page = reviewed.get()
        assert page["statusCode"] == 200
    html = page["body"]
    assert "Approve the heal of app?" in html
    assert '<span class="risk-LOW">LOW</span>' in html
    assert (
        "<code>/Value</code>" in html and "<code>on</code>" in html and "<code>off</code>" in html
    )
    assert 'method="post"' in html and "required" in html
    assert page["headers"]["Cache-Control"] == "no-store"
    assert page["headers"]["Referrer-Policy"] == "no-referrer"
    policy = page["headers"]["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "script-src" not in policy  # none allowed
    assert "<script" not in html
    assert reviewed.still_waiting()


def test_approving_on_the_page_executes_verifies_and_records_who(reviewed: Reviewed) -> None:
    page = reviewed.post(decision="approve", ticket="CHG-7", comment="as reviewed")
    assert page["statusCode"] == 200 and "Approved: app" in page["body"]
    run = reviewed.runner.finish(reviewed.arn)
    assert run.result is not None and run.result["Outcome"] == "HEALED"
    approval = run.result["Approval"]
    assert approval["Decision"] == "APPROVED"
    assert approval["Approver"] == "Ana Ops (review link)"
    assert (approval["Ticket"], approval["Comment"]) == ("CHG-7", "as reviewed")
    assert reviewed.harness.executions() == 1 and reviewed.harness.param_value() == "on"


def test_rejecting_on_the_page_deletes_the_change_set(reviewed: Reviewed) -> None:
    page = reviewed.post(decision="reject", comment="not tonight")
    assert page["statusCode"] == 200 and "Rejected: app" in page["body"]
    run = reviewed.runner.finish(reviewed.arn)
    assert run.result is not None and run.result["Outcome"] == "REJECTED"
    assert run.result["Approval"]["Approver"] == "Ana Ops (review link)"
    assert reviewed.harness.change_sets() == [] and reviewed.harness.executions() == 0


def test_a_link_works_once(reviewed: Reviewed) -> None:
    assert reviewed.post(decision="approve")["statusCode"] == 200
    for again in (reviewed.post(decision="reject"), reviewed.get()):
        assert again["statusCode"] == 409
        assert "already answered" in again["body"] and "Nothing was changed" in again["body"]
    run = reviewed.runner.finish(reviewed.arn)
    assert run.result is not None and run.result["Outcome"] == "HEALED"


@pytest.mark.parametrize(
    ("form", "problem"),
    [
        ({"confirm": ""}, "Tick the box"),
        ({"name": ""}, "Enter your name"),
        ({"decision": "maybe"}, "Choose Approve or Reject"),
        ({"name": "x" * 201}, "too long"),
    ],
)
def test_an_incomplete_answer_is_asked_again_and_sends_nothing(
    reviewed: Reviewed, form: dict[str, str], problem: str
) -> None:
    page = reviewed.post(**{"decision": "approve", **form})
    assert page["statusCode"] == 400
    assert 'role="alert"' in page["body"] and problem in page["body"]
    assert reviewed.still_waiting()


def test_a_forged_or_expired_link_gets_a_clear_page_and_changes_nothing(
    reviewed: Reviewed,
) -> None:
    bad = forged(reviewed.token)
    for page in (reviewed.get(bad), reviewed.post(t=bad, decision="approve")):
        assert page["statusCode"] == 403 and "This link is not valid" in page["body"]
    later = datetime.now(UTC) + timedelta(hours=73)  # past the 72-hour deadline
    expired = reviewed.get(now=later)
    assert expired["statusCode"] == 410 and "This link has expired" in expired["body"]
    missing = review.handle(function_url_event("GET", "/"), reviewed.settings, datetime.now(UTC))
    assert missing["statusCode"] == 400 and "No review link" in missing["body"]
    assert reviewed.still_waiting()


def test_other_methods_and_oversized_forms_are_refused(reviewed: Reviewed) -> None:
    put = review.handle(function_url_event("PUT", "/"), reviewed.settings, datetime.now(UTC))
    assert put["statusCode"] == 405
    huge = function_url_event("POST", "/", "t=" + "a" * (review.MAX_BODY + 1))
    assert review.handle(huge, reviewed.settings, datetime.now(UTC))["statusCode"] == 400
    assert reviewed.still_waiting()


@pytest.mark.fault(
    "The review links' secret cannot be read (missing, or access denied)",
    "the approval request goes out without the link, with the commands; the error is logged",
)
def test_an_unreadable_secret_sends_the_request_without_a_link(harness: Harness) -> None:
    harness.stack()
    harness.drift()
    settings = harness.settings(
        review_url=REVIEW_URL,
        review_secret_arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf",
    )
    runner = LocalRunner(settings, skip_time=True)
    harness.runners.append(runner)
    inbox = harness.sandbox.inbox(harness.topic_arn)
    arn = runner.start({"StackName": "app", "RequireApproval": True}, name="ask")
    callback_id = runner.callback(arn)
    [request] = inbox.messages()
    assert REVIEW_URL not in request.message and "in your browser" not in request.message
    assert f"--callback-id {callback_id}" in request.message
    runner.answer(callback_id, True, {"Approver": "ana"})
    run = runner.finish(arn)
    assert run.result is not None and run.result["Outcome"] == "HEALED"


def test_an_unticked_box_is_left_out_of_the_form_and_refused(reviewed: Reviewed) -> None:
    """A browser sends no field for an unticked box (the tests above send an empty one)."""
    page = reviewed.post(omit=("confirm",), decision="approve")
    assert page["statusCode"] == 400 and "Tick the box" in page["body"]
    assert reviewed.still_waiting()


def test_what_was_typed_is_shown_back_escaped(reviewed: Reviewed) -> None:
    page = reviewed.post(confirm="", name='"><i>y', decision="approve")
    assert page["statusCode"] == 400
    assert "&quot;&gt;&lt;i&gt;y" in page["body"] and '"><i>y' not in page["body"]


def test_an_expired_link_answers_nothing_by_post_either(reviewed: Reviewed) -> None:
    later = datetime.now(UTC) + timedelta(days=30)
    page = reviewed.post(now=later, decision="approve")
    assert page["statusCode"] == 410 and "expired" in page["body"]
    assert reviewed.still_waiting()
