"""SSM Change Calendar's GetCalendarState, as AWS documents it
(https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetCalendarState.html).

A calendar is OPEN or CLOSED by default, with events that close (a DEFAULT_OPEN calendar) or open
(a DEFAULT_CLOSED one) it for a while. The state asked for several calendars is CLOSED if any of
them is closed at that time. ``AtTime`` (ISO 8601) defaults to now; ``NextTransitionTime`` is the
next time the state changes, absent when it never does. A calendar that does not exist is an
``InvalidDocument`` error. moto has no Change Calendar: the sandbox keeps them (``Sandbox.
change_calendar``), per account and region.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult


class InvalidDocument(ServiceException):
    code = "InvalidDocument"


@dataclass(frozen=True)
class Calendar:
    """A change calendar: open or closed by default, and the events that invert it."""

    default_open: bool
    #: (start, end), aware instants: while one lasts, the calendar is the opposite of default.
    events: tuple[tuple[datetime, datetime], ...]

    def open_at(self, at: datetime) -> bool:
        inside = any(start <= at < end for start, end in self.events)
        return self.default_open != inside

    def next_transition(self, at: datetime) -> datetime | None:
        edges = sorted({t for event in self.events for t in event if t > at})
        state = self.open_at(at)
        return next((t for t in edges if self.open_at(t) != state), None)


_calendars: dict[tuple[str, str, str], Calendar] = {}


def reset() -> None:
    _calendars.clear()


def put(account: str, region: str, name: str, calendar: Calendar) -> None:
    _calendars[(account, region, name)] = calendar


def get_calendar_state(self: Any, now: datetime) -> ActionResult:
    """GetCalendarState: the combined state of the calendars at ``AtTime`` (default now)."""
    names: Sequence[str] = self._get_param("CalendarNames") or []
    raw = self._get_param("AtTime")
    at = datetime.fromisoformat(raw) if raw else now
    found = []
    for name in names:
        short = name.rsplit("document/", 1)[-1]
        calendar = _calendars.get((str(self.current_account), str(self.region), short))
        if calendar is None:
            raise InvalidDocument(f"The document {name} is not valid or does not exist.")
        found.append(calendar)
    open_now = all(c.open_at(at) for c in found)
    transitions = [t for c in found if (t := c.next_transition(at)) is not None]
    answer: dict[str, Any] = {
        "State": "OPEN" if open_now else "CLOSED",
        "AtTime": at.isoformat(),
    }
    if transitions:
        answer["NextTransitionTime"] = min(transitions).isoformat()
    return ActionResult(answer)
