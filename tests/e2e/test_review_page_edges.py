"""The review page at its edges: the link dies at the heal's deadline to the second, the form's
limits hold at one character, a link signed for another review of the callback answers nothing,
HEAD shows nothing and answers nothing, an answer whose response was lost is not sent twice, and
drifted values that hold HTML are shown as text."""

from __future__ import annotations

import http.client
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from drift_healer import aws, executions, review, review_page, secrets
from drift_healer.policy import links
from drift_healer_cli.review_server import function_url_event
from tests.support import Harness, Reviewed, forged, outcomes


@pytest.fixture
def review_drifted_to(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str], Reviewed]]:
    """``reviewed`` with the parameter drifted to a value of the test's choosing, started when
    the test says (after it has set the environment)."""

    def start(value: str) -> Reviewed:
        harness.stack()
        harness.drift(value)
        return Reviewed(harness, monkeypatch)

    yield start
    aws.reset()
    secrets.forget()


def _secret(reviewed: Reviewed) -> str:
    """The key the heal signed its link with (the deployment's review secret)."""
    secretsmanager = reviewed.harness.sandbox.client("secretsmanager")
    value = secretsmanager.get_secret_value(SecretId=reviewed.settings.review_secret_arn)
    return str(value["SecretString"])


def _unanswered(reviewed: Reviewed) -> bool:
    """Nothing was sent: the heal still waits on the callback it asked with (its history records
    an answer as it arrives, before the heal goes on), has executed nothing and told no one."""
    return reviewed.still_waiting() and reviewed.inbox.messages() == []


def _head(reviewed: Reviewed, token: str, body: str = "") -> dict[str, Any]:
    event = function_url_event("HEAD", "/?" + urlencode({"t": token}), body)
    page: dict[str, Any] = review.handle(event, reviewed.settings, datetime.now(UTC))
    return page


# ------------------------------------------------------------------------------ the deadline
def test_the_link_expires_at_the_deadline_to_the_second(
    review_drifted_to: Callable[[str], Reviewed], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APPROVAL_TIMEOUT_SECONDS", "7200")
    reviewed = review_drifted_to("off")
    found = re.search(r"^Deadline: (\S+)", reviewed.request.message, re.MULTILINE)
    assert found, reviewed.request.message
    deadline = datetime.fromisoformat(found[1])
    assert links.verify(_secret(reviewed), reviewed.token, datetime.now(UTC)).expires == deadline

    # the deadline: APPROVAL_TIMEOUT_SECONDS after the review step read the clock, which was
    # after the checkpoint before it and before its own (a synchronous one), cut to the second
    events = list(executions._history(aws.durable_executions(None, 1), reviewed.arn, data=False))
    [started] = [
        i
        for i, e in enumerate(events)
        if e["EventType"] == "StepStarted" and e.get("Name") == executions.REVIEW_STEP
    ]
    [succeeded] = [
        e["EventTimestamp"]
        for e in events
        if e["EventType"] == "StepSucceeded" and e.get("Name") == executions.REVIEW_STEP
    ]
    before = events[started - 1]["EventTimestamp"]
    asked = deadline - timedelta(seconds=7200)
    assert before.replace(microsecond=0) <= asked <= succeeded
    assert asked.microsecond == 0

    second = timedelta(seconds=1)
    page = reviewed.get(now=deadline - second)
    assert page["statusCode"] == 200 and f"<dd>{found[1]}</dd>" in page["body"]
    for late in (deadline, deadline + second):
        page = reviewed.get(now=late)
        assert page["statusCode"] == 410 and "This link has expired" in page["body"]
    assert reviewed.post(now=deadline, decision="approve")["statusCode"] == 410
    assert _unanswered(reviewed)


# ------------------------------------------------------------------------------ the form
#: Each field of the form: its limit, where the result records it, and a letter to fill it with
#: (not a hex digit: a long hex run is masked as a key).
FIELDS = [
    ("name", review_page.NAME_LIMIT, "Approver", "n"),
    ("ticket", review_page.TICKET_LIMIT, "Ticket", "t"),
    ("comment", review_page.COMMENT_LIMIT, "Comment", "m"),
]


def test_each_field_is_taken_at_its_limit_and_refused_one_character_over(
    reviewed: Reviewed,
) -> None:
    for field, limit, _, letter in FIELDS:
        over: dict[str, Any] = {field: letter * (limit + 1)}
        page = reviewed.post(decision="approve", **over)
        assert page["statusCode"] == 400, field
        assert 'role="alert"' in page["body"] and "A field is too long" in page["body"]
    assert _unanswered(reviewed)

    typed: dict[str, Any] = {field: letter * limit for field, limit, _, letter in FIELDS}
    page = reviewed.post(decision="approve", **typed)
    assert page["statusCode"] == 200 and "Approved: app" in page["body"]
    run = reviewed.runner.finish(reviewed.arn)
    assert run.result is not None and run.result["Outcome"] == "HEALED"
    # recorded whole: what the page accepts, the answer keeps (policy.approval.FIELD_LIMITS)
    approval = run.result["Approval"]
    assert approval["Approver"] == typed["name"] + review_page.VIA_LINK
    assert (approval["Ticket"], approval["Comment"]) == (typed["ticket"], typed["comment"])
    assert reviewed.harness.executions() == 1


# ------------------------------------------------------------------------------ the binding
def test_a_link_for_another_review_of_the_callback_is_refused_and_changes_nothing(
    reviewed: Reviewed,
) -> None:
    """Signed with the deployment's key for the callback the heal waits on, but for changes with
    another fingerprint: the page must not show this plan under it, nor answer with it."""
    secret = _secret(reviewed)
    link = links.verify(secret, reviewed.token, datetime.now(UTC))
    other = links.sign(secret, replace(link, fingerprint="sha256:" + "0" * 32))
    for page in (reviewed.get(other), reviewed.post(t=other, decision="approve")):
        assert page["statusCode"] == 409
        assert "This link is for another review" in page["body"]
        assert "Nothing was changed" in page["body"]
        assert "Approve the heal" not in page["body"] and "<form" not in page["body"]
    assert _unanswered(reviewed)
    assert reviewed.get()["statusCode"] == 200  # the link that was sent still works


# ------------------------------------------------------------------------------ HEAD
def test_head_gets_the_status_and_headers_of_get_without_a_body_and_answers_nothing(
    reviewed: Reviewed,
) -> None:
    get = reviewed.get()
    head = _head(reviewed, reviewed.token)
    assert (head["statusCode"], head["headers"], head["body"]) == (200, get["headers"], "")
    refused = _head(reviewed, forged(reviewed.token))
    assert (refused["statusCode"], refused["body"]) == (403, "")
    # a form in a HEAD's body is not read: only a POST answers
    form = {"t": reviewed.token, "name": "Ana Ops", "confirm": "yes", "decision": "approve"}
    head = _head(reviewed, reviewed.token, urlencode(form))
    assert (head["statusCode"], head["body"]) == (200, "")
    assert _unanswered(reviewed)


# ------------------------------------------------------------------------------ lost responses
@contextmanager
def relayed(monkeypatch: pytest.MonkeyPatch, lose_answers: bool) -> Iterator[list[str]]:
    """Put a relay between the review page and the heal's Lambda API; yields the callback
    answers that went through it. ``lose_answers``: the answer reaches the heal, and the
    connection drops before its response gets back (the page cannot tell that it arrived)."""
    upstream = urlsplit(os.environ["AWS_ENDPOINT_URL_LAMBDA"])
    answers: list[str] = []

    class Relay(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._relay()

        def do_POST(self) -> None:
            self._relay()

        def _relay(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            skip = {"host", "content-length", "connection"}
            headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
            connection = http.client.HTTPConnection(upstream.hostname or "", upstream.port)
            connection.request(self.command, self.path, body, headers)
            response = connection.getresponse()
            payload = response.read()
            connection.close()
            if self.command == "POST" and self.path.endswith(("/succeed", "/fail")):
                answers.append(self.path.rsplit("/", 1)[-1])
                if lose_answers:
                    return  # nothing sent back: the connection closes
            self.send_response(response.status)
            for name, value in response.getheaders():
                if name.lower() not in {"content-length", "connection", "transfer-encoding"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Relay)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", f"http://{host!s}:{port}")
    try:
        yield answers
    finally:
        server.shutdown()
        server.server_close()


def _healed_once_by_ana(reviewed: Reviewed) -> None:
    run = reviewed.runner.finish(reviewed.arn)
    assert run.result is not None and run.result["Outcome"] == "HEALED"
    assert run.result["Approval"]["Approver"] == "Ana Ops (review link)"
    assert reviewed.harness.executions() == 1
    assert outcomes(reviewed.inbox.messages()) == ["HEALED"]


def test_an_answer_sent_again_after_its_page_was_lost_is_refused_and_not_sent(
    reviewed: Reviewed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer went through, the reviewer's browser never showed the page, they submit again."""
    with relayed(monkeypatch, lose_answers=False) as answers:
        assert reviewed.post(decision="approve")["statusCode"] == 200
        again = reviewed.post(decision="approve")
    assert again["statusCode"] == 409
    assert "This approval was already answered" in again["body"]
    assert "Nothing was changed" in again["body"]
    assert answers == ["succeed"]
    _healed_once_by_ana(reviewed)


def test_an_answer_whose_response_was_lost_says_so_and_is_not_sent_again(
    reviewed: Reviewed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The heal has the answer; the page's call to send it failed on the way back."""
    with relayed(monkeypatch, lose_answers=True) as answers:
        lost = reviewed.post(decision="approve")
        again = reviewed.post(decision="approve")
    assert lost["statusCode"] == 409
    assert "This approval is answered" in lost["body"]
    assert "your answer may have been recorded" in lost["body"]
    assert "Do not answer again" in lost["body"]
    assert again["statusCode"] == 409 and "already answered" in again["body"]
    assert answers == ["succeed"]
    _healed_once_by_ana(reviewed)


# ------------------------------------------------------------------------------ escaping
def test_a_drifted_value_holding_html_is_shown_as_text(
    review_drifted_to: Callable[[str], Reviewed],
) -> None:
    value = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
    reviewed = review_drifted_to(value)
    page = reviewed.get()
    assert page["statusCode"] == 200
    assert f"<td><code>{escape(value)}</code></td>" in page["body"]
    assert "<script" not in page["body"] and "<img" not in page["body"]
    assert _unanswered(reviewed)
