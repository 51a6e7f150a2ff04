"""The review page: ``drift_healer.review.lambda_handler``, behind a Lambda Function URL (the
template's ReviewLinks=enabled).

The approval email links here with a signed token (policy.links). Opening the link (GET, or HEAD)
shows the heal to approve and changes nothing: mail scanners follow links. Approving or rejecting
is a POST from the page's form, with the reviewer's name and a confirmation; it answers the
durable callback the heal waits on, once. The token is checked before anything is read: a forged
or expired one gets a page that says so, and so does one whose approval was already answered or
timed out. Nothing the page shows comes from the request: it comes from the heal's own record
(its history), redacted as in the email.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from . import aws, executions, review_page, secrets
from .models import HealResult
from .policy import links
from .redact import RedactingFilter
from .settings import Settings, get_settings

logger = Logger(service="drift-healer-review")
logger.addFilter(RedactingFilter())

#: A form this page sends is far smaller; anything bigger is refused unread.
MAX_BODY = 32 * 1024
#: Sent with every page: nothing cached (a token is a credential), no referrer (the token is in
#: the URL), no framing, no scripts, forms post back here only.
HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}


@dataclass(frozen=True)
class Request:
    """What the page needs of a Function URL request (payload format 2.0)."""

    method: str
    token: str
    form: dict[str, str]
    #: Who sent it, as the Function URL saw it (logged with an answer, for the audit trail).
    source_ip: str = ""
    user_agent: str = ""

    @classmethod
    def of(cls, event: Mapping[str, Any]) -> Request:
        """ValueError for a request that is not one the page sends (too big, not a form)."""
        http = (event.get("requestContext") or {}).get("http") or {}
        method = str(http.get("method", "GET")).upper()
        query = event.get("queryStringParameters") or {}
        form: dict[str, str] = {}
        if method == "POST":
            raw = event.get("body") or ""
            if len(raw) > MAX_BODY * 2:
                raise ValueError("the form is too large")
            try:
                body = base64.b64decode(raw).decode() if event.get("isBase64Encoded") else raw
            except (binascii.Error, UnicodeDecodeError):
                raise ValueError("the form could not be read") from None
            if len(body) > MAX_BODY:
                raise ValueError("the form is too large")
            parsed = parse_qs(body, keep_blank_values=True, max_num_fields=20)
            form = {key: values[0].strip() for key, values in parsed.items() if values}
        token = form.get("t") or str(query.get("t", ""))
        return cls(
            method=method,
            token=token,
            form=form,
            source_ip=str(http.get("sourceIp", "")),
            user_agent=str(http.get("userAgent", ""))[:200],
        )


def lambda_handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, get_settings(), datetime.now(UTC))


def handle(event: Mapping[str, Any], settings: Settings, now: datetime) -> dict[str, Any]:
    """Answer one request with a page; never raises."""
    try:
        request = Request.of(event)
    except ValueError as error:
        return _page(400, review_page.refused("This request was not understood", f"{error}."))
    if request.method not in ("GET", "HEAD", "POST"):
        return _page(405, review_page.refused("Not allowed", "Open the link from the email."))
    try:
        status, html = _answer(request, settings, now)
    except links.KeyTooShort as error:
        logger.error("the review secret cannot sign links", extra={"error": str(error)})
        status, html = (
            503,
            review_page.refused(
                "Review links are not set up right",
                "The deployment's review secret is too short. Nothing was changed; answer with "
                "the commands in the approval email.",
            ),
        )
    except (ClientError, BotoCoreError) as error:
        logger.error("AWS refused or failed a call", extra={"error": str(error)})
        status, html = (
            502,
            review_page.refused(
                "The review could not be loaded or sent",
                "AWS did not answer as expected. Nothing was changed; try again in a minute, or "
                "answer with the commands in the approval email.",
            ),
        )
    except Exception as error:  # a bug: logged in full, never shown
        logger.exception("the review page failed", extra={"error": str(error)})
        status, html = (
            500,
            review_page.refused(
                "Something went wrong",
                "Nothing was changed. Answer with the commands in the approval email.",
            ),
        )
    return _page(status, "" if request.method == "HEAD" else html)


def _answer(request: Request, settings: Settings, now: datetime) -> tuple[int, str]:
    if not settings.review_secret_arn:
        return 503, review_page.refused(
            "Review links are not set up",
            "This deployment has no review secret (REVIEW_SECRET_ARN). Answer with the commands "
            "in the approval email.",
        )
    if not request.token:
        return 400, review_page.refused(
            "No review link", "Open the link from the approval email as it is."
        )
    key = secrets.review_key(aws.secrets(settings.aws_max_attempts), settings.review_secret_arn)
    try:
        link = links.verify(key, request.token, now)
    except links.LinkRefused as refused:
        expired = refused.why == "expired"
        return (410 if expired else 403), review_page.refused(
            "This link has expired" if expired else "This link is not valid", str(refused)
        )
    client = aws.durable_executions(executions.region_of(link.execution), settings.aws_max_attempts)
    try:
        pending, review = executions.pending_review(client, link.execution)
    except ClientError as error:
        if aws.error_code(error) != "ResourceNotFoundException":
            raise
        pending, review = None, None
    if pending != link.callback_id:
        return 409, _already_answered()
    if review is None:
        return 502, review_page.refused(
            "The review could not be loaded",
            "The heal's record of what it asks could not be read whole (too large for its "
            "history, or not written yet). Nothing was changed; review the change set in the "
            "console and answer with the commands in the approval email.",
        )
    if review.get("Fingerprint") != link.fingerprint:
        return 409, review_page.refused(
            "This link is for another review",
            "The heal's record of what it asks does not match this link. Nothing was changed; "
            "use the link of the latest approval email.",
        )
    plan = HealResult.model_validate(review["Plan"])
    # the stack's region (console links); the execution's is the healer's
    region = executions.region_of(plan.stack_id or "") or executions.region_of(link.execution) or ""

    def page(problem: str | None = None) -> str:
        return review_page.review(
            plan,
            region,
            request.token,
            str(review.get("Deadline", link.expires.isoformat())),
            link.fingerprint,
            problem,
            request.form,
        )

    if request.method != "POST":
        return 200, page()
    problem, document = _document(request.form)
    if problem is not None:
        return 400, page(problem)
    approve = request.form.get("decision") == "approve"
    try:
        executions.answer(client, link.callback_id, approve, document)
    except (ClientError, BotoCoreError):
        # the answer may have arrived before its response was lost (or a retry found it taken)
        if executions.pending_approval(client, link.execution) != link.callback_id:
            return 409, review_page.refused(
                "This approval is answered",
                "The heal no longer waits: your answer may have been recorded, or someone "
                "else's, or it timed out. The result email says which. Do not answer again.",
            )
        raise
    logger.info(
        "approval answered from the review page",
        extra={
            "execution": link.execution,
            "decision": "approved" if approve else "rejected",
            "approver": document["Approver"],
            "source_ip": request.source_ip,
            "user_agent": request.user_agent,
        },
    )
    return 200, review_page.answered(plan.stack_name, approve, request.form["name"])


def _document(form: Mapping[str, str]) -> tuple[str | None, dict[str, str]]:
    """The callback's document from the form, or what is missing."""
    decision, name = form.get("decision"), form.get("name", "")
    if decision not in ("approve", "reject"):
        return "Choose Approve or Reject.", {}
    if not name:
        return "Enter your name or email: the answer records who gave it.", {}
    if form.get("confirm") != "yes":
        return "Tick the box to confirm that you have reviewed the changes.", {}
    if (
        len(name) > review_page.NAME_LIMIT
        or len(form.get("ticket", "")) > review_page.TICKET_LIMIT
        or len(form.get("comment", "")) > review_page.COMMENT_LIMIT
    ):
        return "A field is too long: shorten the name, the ticket or the comment.", {}
    document = {
        "Approver": f"{name}{review_page.VIA_LINK}",
        "Ticket": form.get("ticket", ""),
        "Comment": form.get("comment", ""),
    }
    return None, {key: value for key, value in document.items() if value}


def _already_answered() -> str:
    return review_page.refused(
        "This approval was already answered",
        "The heal no longer waits for an answer: someone approved or rejected it, or it timed "
        "out. A review link works once. Nothing was changed; the result was sent by email.",
    )


def _page(status: int, html: str) -> dict[str, Any]:
    return {"statusCode": status, "headers": dict(HEADERS), "body": html}
