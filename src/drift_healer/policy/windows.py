"""When a change may run: weekly change windows in their own time zones, minus freezes.

A window is a weekly interval in local time ("Mon-Fri 22:00-06:00 Europe/Berlin"): it opens on the
days it names, at its start, and closes at its end, the next day when the end comes before the
start. Local times are turned into instants day by day, so daylight saving moves a window with the
wall clock: a start that does not exist (the hour skipped in spring) opens at the end of the gap,
a start that happens twice (the hour repeated in autumn) opens at its first occurrence.

A hard freeze stops every execution while it lasts; a soft one stops all but LOW risk ones. A heal
that is ready outside a window, or inside a freeze, waits for the earliest instant at which both
allow it (``when_allowed``); an execution must be able to start, not finish, inside the window.

Pure: instants in, instants out; the caller says what "now" is (a checkpointed clock), so a replay
decides the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

#: An opening must leave at least this long before it closes for an execution to start in it.
MIN_OPEN = timedelta(minutes=1)


class Weekly(Protocol):
    """A weekly window as the change policy describes it (policy.change_policy.WindowSpec)."""

    @property
    def days(self) -> tuple[int, ...]: ...  # 0 = Monday: the days it opens
    @property
    def start(self) -> time: ...
    @property
    def end(self) -> time: ...
    @property
    def timezone(self) -> str: ...


class Frozen(Protocol):
    """A freeze as the change policy describes it (policy.change_policy.FreezeSpec)."""

    @property
    def name(self) -> str: ...
    @property
    def start(self) -> datetime: ...  # aware
    @property
    def end(self) -> datetime: ...
    @property
    def hard(self) -> bool: ...


@dataclass(frozen=True)
class Opening:
    """One opening of a window, in UTC."""

    window: str
    opens: datetime
    closes: datetime


@dataclass(frozen=True)
class Allowed:
    """When a heal may execute, and what decided it."""

    #: The earliest instant it may start (now, if now); None: not before the horizon.
    at: datetime | None
    #: The opening it falls in; None when no window applies (any time).
    opening: Opening | None
    #: The freezes that keep it from running sooner (their names), if any.
    freezes: tuple[str, ...]


def openings(windows: Mapping[str, Weekly], since: datetime, until: datetime) -> list[Opening]:
    """Every opening of ``windows`` that overlaps [since, until), earliest first."""
    found: list[Opening] = []
    for name, window in windows.items():
        zone = ZoneInfo(window.timezone)
        first = since.astimezone(zone).date() - timedelta(days=1)
        last = until.astimezone(zone).date()
        day = first
        while day <= last:
            if day.weekday() in window.days:
                opens = _instant(day, window.start, zone)
                closes_on = day + timedelta(days=1) if window.end <= window.start else day
                closes = _instant(closes_on, window.end, zone)
                if closes > since and opens < until and closes > opens:
                    found.append(Opening(name, opens, closes))
            day += timedelta(days=1)
    return sorted(found, key=lambda o: (o.opens, o.closes, o.window))


def when_allowed(
    windows: Mapping[str, Weekly],
    freezes: Sequence[Frozen],
    low_risk: bool,
    now: datetime,
    horizon: datetime,
) -> Allowed:
    """The earliest instant in [now, horizon) at which a heal may start executing: inside one of
    ``windows`` (any time when there are none), outside every hard freeze, and outside every
    soft freeze unless it is ``low_risk``; with at least MIN_OPEN of its opening left (or, with
    no windows, any time before the horizon)."""
    blocking = [f for f in freezes if f.hard or not low_risk]
    candidates: list[tuple[datetime, datetime, Opening | None]] = (
        [(o.opens, o.closes, o) for o in openings(windows, now, horizon)]
        if windows
        else [(now, horizon, None)]
    )
    passed: list[tuple[datetime, datetime]] = []  # window time before the answer
    for opens, closes, opening in candidates:
        start, end = max(opens, now), min(closes, horizon)
        for free_start, free_end in _minus(start, end, blocking):
            if free_end - free_start >= MIN_OPEN or (opening is None and free_end > free_start):
                passed.append((start, free_start))
                return Allowed(free_start, opening, _holding(blocking, passed))
        passed.append((start, end))
    return Allowed(None, None, _holding(blocking, passed))


def _holding(
    freezes: Sequence[Frozen], passed: Sequence[tuple[datetime, datetime]]
) -> tuple[str, ...]:
    """The freezes that cover some of the window time that went by unused."""
    return tuple(
        dict.fromkeys(
            f.name
            for f in freezes
            for a, b in passed
            if a < b and _utc(f.start) < b and _utc(f.end) > a
        )
    )


def _minus(
    start: datetime, end: datetime, freezes: Iterable[Frozen]
) -> list[tuple[datetime, datetime]]:
    """[start, end) without the freezes, as intervals, earliest first."""
    parts = [(start, end)] if start < end else []
    for freeze in freezes:
        f_start, f_end = _utc(freeze.start), _utc(freeze.end)
        cut: list[tuple[datetime, datetime]] = []
        for a, b in parts:
            if f_end <= a or f_start >= b:
                cut.append((a, b))
                continue
            if a < f_start:
                cut.append((a, f_start))
            if f_end < b:
                cut.append((f_end, b))
        parts = cut
    return sorted(parts)


def _instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """``day`` at local time ``at`` in ``zone``, in UTC."""
    return local_instant(datetime.combine(day, at), zone).astimezone(UTC)


def local_instant(local: datetime, zone: ZoneInfo) -> datetime:
    """``local`` in ``zone``: a time that daylight saving skips moves forward to the end of the
    gap (the instant the clocks jumped); a time that happens twice takes its first occurrence."""
    first = local.replace(tzinfo=zone, fold=0)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == local:
        return first
    # In a gap, fold=1 reads the time with the offset after the jump (an instant before the
    # jump), fold=0 with the offset before it (an instant after): the jump lies between.
    lo, hi = int(local.replace(tzinfo=zone, fold=1).timestamp()), int(first.timestamp())
    before = datetime.fromtimestamp(lo, zone).utcoffset()
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, zone).utcoffset() == before:
            lo = mid
        else:
            hi = mid
    return datetime.fromtimestamp(hi, zone)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
