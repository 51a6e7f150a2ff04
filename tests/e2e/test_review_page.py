"""The review page end to end: a RequireApproval heal emails a signed link; the page, served by the
review function's own code against the heal's local run (its history and callbacks over the
Lambda API), shows the plan, changes nothing on GET, and answers once on POST. Forged, expired
and replayed links get a page that says so and change nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from drift_healer import aws, review, secrets
from drift_healer.settings import Settings
from drift_healer_cli.local import LocalRunner
from drift_healer_cli.review_server import function_url_event
from tests.support import Harness

REVIEW_URL = "https://review.example.lambda-url.eu-west-1.on.aws/"


class Reviewed:
    """A RequireApproval heal waiting for its answer, its emailed link, and the review page."""

    def __init__(self, harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
        self.harness = harness
        secret = harness.sandbox.client("secretsmanager").create_secret(
            Name="drift-healer-review", SecretString="r" * 64
        )
        self.settings: Settings = harness.settings(
            review_url=REVIEW_URL, review_secret_arn=secret["ARN"]
        )
        self.runner = LocalRunner(self.settings, skip_time=True)
        harness.runners.append(self.runner)
        self.inbox = harness.sandbox.inbox(harness.topic_arn)
        self.arn = self.runner.start({"StackName": "app", "RequireApproval": True}, name="ask")
        self.callback_id = self.runner.callback(self.arn)
        [self.request] = self.inbox.messages()
        found = re.search(re.escape(REVIEW_URL) + r"\?t=(\S+)", self.request.message)
        assert found, self.request.message
        self.token = found[1]
        # the review function reaches the run's Lambda API; its own key comes from the sandbox
        monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", self.runner.serve())
        aws.reset()
        secrets.forget()

    def get(self, token: str | None = None, now: datetime | None = None) -> dict[str, Any]:
        target = "/?" + urlencode({"t": self.token if token is None else token})
        return review.handle(function_url_event("GET", target), self.settings, now or _now())

    def post(self, **form: str) -> dict[str, Any]:
        fields = {"t": self.token, "confirm": "yes", "name": "Ana Ops", **form}
        event = function_url_event("POST", "/", urlencode(fields))
        return review.handle(event, self.settings, _now())

    def still_waiting(self) -> bool:
        status = self.runner._runner._executor.get_execution(self.arn)
        return not status.is_complete and self.harness.executions() == 0


def _now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def reviewed(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> Iterator[Reviewed]:
    harness.stack()
    harness.drift()
    yield Reviewed(harness, monkeypatch)
    aws.reset()
    secrets.forget()


def test_the_email_links_to_the_review_page_with_a_signed_token(reviewed: Reviewed) -> None:
    body = reviewed.request.message
    assert "in your browser" in body and "works once, until the deadline" in body
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
    assert "script-src" not in page["headers"]["Content-Security-Policy"]  # none allowed
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
    forged = reviewed.token[:-2] + ("AA" if not reviewed.token.endswith("AA") else "BB")
    for page in (reviewed.get(forged), reviewed.post(t=forged, decision="approve")):
        assert page["statusCode"] == 403 and "This link is not valid" in page["body"]
    later = _now() + timedelta(hours=73)  # past the 72-hour deadline
    expired = reviewed.get(now=later)
    assert expired["statusCode"] == 410 and "This link has expired" in expired["body"]
    missing = review.handle(function_url_event("GET", "/"), reviewed.settings, _now())
    assert missing["statusCode"] == 400 and "No review link" in missing["body"]
    assert reviewed.still_waiting()


def test_other_methods_and_oversized_forms_are_refused(reviewed: Reviewed) -> None:
    put = review.handle(function_url_event("PUT", "/"), reviewed.settings, _now())
    assert put["statusCode"] == 405
    huge = function_url_event("POST", "/", "t=" + "a" * (review.MAX_BODY + 1))
    assert review.handle(huge, reviewed.settings, _now())["statusCode"] == 400
    assert reviewed.still_waiting()
