"""A thin adapter over the Lambda durable-execution API, for what answers a heal waiting for a
person (``drift-healer approve|reject`` and the review page): read an execution's history to
find the approval it waits for and what was reviewed, and send the answer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from aws_durable_execution_sdk_python.serdes import ExtendedTypeSerDes

#: What the durable SDK names the callback of the heal's ``wait_for_callback(name="approval")``.
APPROVAL = "approval create callback id"
#: The heal's step that records what an approval is bound to (records.Review).
REVIEW_STEP = "request approval: review"
_ENDED = ("CallbackSucceeded", "CallbackFailed", "CallbackTimedOut")
#: How the durable SDK records a step's result: JSON in its own typed envelope.
_SERDES: ExtendedTypeSerDes[Any] = ExtendedTypeSerDes()  # type: ignore[no-untyped-call]


def pending_approval(client: Any, execution: str) -> str | None:
    """The id of the approval callback the execution waits for now; None when it waits for none
    (answered, timed out, or not asked yet). ClientError when the execution cannot be read."""
    return _pending(_history(client, execution, data=False))[0]


def pending_review(client: Any, execution: str) -> tuple[str | None, dict[str, Any] | None]:
    """``pending_approval``, and what it was asked for (the REVIEW_STEP's result:
    records.Review; None when the history does not hold it whole: not recorded yet, or cut by
    the service), in one reading of the history."""
    return _pending(_history(client, execution, data=True))


def _pending(events: Iterator[dict[str, Any]]) -> tuple[str | None, dict[str, Any] | None]:
    started: dict[str, str] = {}
    ended: set[str] = set()
    review: dict[str, Any] | None = None
    for event in events:
        kind = event.get("EventType")
        if kind == "CallbackStarted" and event.get("Name") == APPROVAL:
            started[event["Id"]] = event["CallbackStartedDetails"]["CallbackId"]
        elif kind in _ENDED:
            ended.add(event.get("Id", ""))
        elif kind == "StepSucceeded" and event.get("Name") == REVIEW_STEP:
            review = _review(event.get("StepSucceededDetails", {}).get("Result", {}))
    waiting = [callback for op, callback in started.items() if op not in ended]
    return (waiting[-1] if waiting else None), review


def _review(result: dict[str, Any]) -> dict[str, Any] | None:
    if result.get("Truncated") or not result.get("Payload"):
        return None
    try:
        review = _SERDES.deserialize(result["Payload"])
    except Exception:  # not the SDK's envelope: not a record this module can read
        return None
    return review if isinstance(review, dict) else None


def answer(client: Any, callback_id: str, approve: bool, document: dict[str, str]) -> None:
    """Approve (SendDurableExecutionCallbackSuccess with ``document``) or reject (-Failure, the
    document as its ErrorData and the comment as its message)."""
    if approve:
        client.send_durable_execution_callback_success(
            CallbackId=callback_id, Result=json.dumps(document).encode()
        )
        return
    client.send_durable_execution_callback_failure(
        CallbackId=callback_id,
        Error={
            "ErrorMessage": document.get("Comment") or "rejected",
            "ErrorType": "Rejected",
            "ErrorData": json.dumps(document),
        },
    )


def region_of(execution: str) -> str | None:
    """The region in a durable execution's ARN (arn:aws:lambda:REGION:...), if it is one."""
    parts = execution.split(":")
    return parts[3] if execution.startswith("arn:") and len(parts) > 3 else None


def _history(client: Any, execution: str, data: bool) -> Iterator[dict[str, Any]]:
    marker: str | None = None
    while True:
        page = client.get_durable_execution_history(
            DurableExecutionArn=execution,
            IncludeExecutionData=data,
            **({"Marker": marker} if marker else {}),
        )
        yield from page.get("Events", [])
        marker = page.get("NextMarker")
        if not marker:
            return
