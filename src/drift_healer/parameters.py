"""SSM for the change policy (a thin adapter, I/O only): the policy document in Parameter Store,
and Change Calendars as the authority on freezes."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def read(client: Any, name: str) -> str:
    """The parameter's value (a SecureString decrypted): the change policy's JSON text."""
    return str(client.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"])


def calendar_state(client: Any, name: str, at: datetime) -> tuple[bool, datetime | None]:
    """Whether the Change Calendar ``name`` is OPEN at ``at``, and when that next changes (None:
    never, as far as the calendar knows)."""
    answer = client.get_calendar_state(CalendarNames=[name], AtTime=at.isoformat())
    changes = answer.get("NextTransitionTime")
    return answer["State"] == "OPEN", datetime.fromisoformat(changes) if changes else None
