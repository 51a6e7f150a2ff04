"""Change windows and freezes: a heal ready outside a window waits for the next opening, a freeze
pushes it past, daylight saving moves windows with the wall clock, and no answer comes before
now or after the horizon."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from drift_healer.policy import windows
from drift_healer.policy.windows import Opening, when_allowed

BERLIN = ZoneInfo("Europe/Berlin")


@dataclass(frozen=True)
class Window:
    days: tuple[int, ...]
    start: time
    end: time
    timezone: str


@dataclass(frozen=True)
class Freeze:
    name: str
    start: datetime
    end: datetime
    hard: bool


#: Mon-Fri 22:00-06:00 Europe/Berlin: the example of the issue.
NIGHTS = {"weeknights": Window((0, 1, 2, 3, 4), time(22), time(6), "Europe/Berlin")}


def open_now(chosen: dict[str, Window], now: datetime) -> Opening | None:
    """The opening of ``chosen`` that ``now`` falls in (None: outside all of them)."""
    for opening in windows.openings(chosen, now, now + timedelta(seconds=1)):
        if opening.opens <= now < opening.closes:
            return opening
    return None


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


def test_ready_at_14_00_executes_at_22_00() -> None:
    now = berlin(2026, 12, 2, 14, 0)  # a Wednesday
    allowed = when_allowed(NIGHTS, [], False, now, now + timedelta(days=7))
    assert allowed.at == berlin(2026, 12, 2, 22, 0)
    assert allowed.opening == Opening("weeknights", berlin(2026, 12, 2, 22), berlin(2026, 12, 3, 6))
    assert allowed.freezes == ()


def test_inside_a_window_it_runs_now_until_a_minute_before_it_closes() -> None:
    now = berlin(2026, 12, 3, 1, 30)  # Thursday night, inside Wednesday's opening
    assert when_allowed(NIGHTS, [], False, now, now + timedelta(days=1)).at == now
    late = berlin(2026, 12, 3, 5, 59, 30)  # 30 s left: next opening, Thursday 22:00
    assert when_allowed(NIGHTS, [], False, late, late + timedelta(days=2)).at == berlin(
        2026, 12, 3, 22
    )


def test_friday_nights_window_runs_into_saturday_and_the_weekend_waits_for_monday() -> None:
    saturday = berlin(2026, 12, 5, 3, 0)
    assert when_allowed(NIGHTS, [], False, saturday, saturday + timedelta(days=1)).at == saturday
    noon = berlin(2026, 12, 5, 12, 0)
    assert when_allowed(NIGHTS, [], False, noon, noon + timedelta(days=7)).at == berlin(
        2026, 12, 7, 22
    )


def test_a_hard_freeze_covering_the_window_defers_past_it() -> None:
    now = berlin(2026, 12, 2, 14, 0)
    freeze = Freeze("year-end", berlin(2026, 12, 2, 0), berlin(2026, 12, 4, 0), hard=True)
    allowed = when_allowed(NIGHTS, [freeze], True, now, now + timedelta(days=7))
    assert allowed.at == berlin(2026, 12, 4, 0)  # Thursday's opening, after the freeze ends
    assert allowed.opening is not None and allowed.opening.opens == berlin(2026, 12, 3, 22)
    assert allowed.freezes == ("year-end",)


def test_a_soft_freeze_holds_all_but_low_risk() -> None:
    now = berlin(2026, 12, 2, 23, 0)
    soft = Freeze("launch", berlin(2026, 12, 1), berlin(2026, 12, 10), hard=False)
    assert when_allowed(NIGHTS, [soft], True, now, now + timedelta(days=30)).at == now
    held = when_allowed(NIGHTS, [soft], False, now, now + timedelta(days=30))
    # the freeze ends at midnight, inside Wednesday night's opening
    assert held.at == berlin(2026, 12, 10, 0) and held.freezes == ("launch",)


def test_nothing_before_the_horizon_says_which_freeze() -> None:
    now = berlin(2026, 12, 2, 14, 0)
    freeze = Freeze("year-end", berlin(2026, 12, 1), berlin(2027, 1, 4), hard=True)
    allowed = when_allowed(NIGHTS, [freeze], True, now, now + timedelta(days=7))
    assert allowed.at is None and allowed.freezes == ("year-end",)


def test_without_windows_any_time_outside_freezes() -> None:
    now = datetime(2026, 12, 2, 14, tzinfo=UTC)
    assert when_allowed({}, [], False, now, now + timedelta(hours=1)).at == now
    freeze = Freeze("f", now - timedelta(hours=1), now + timedelta(hours=2), hard=True)
    assert when_allowed({}, [freeze], False, now, now + timedelta(days=1)).at == now + timedelta(
        hours=2
    )


def test_daylight_saving_moves_the_window_with_the_wall_clock() -> None:
    """Europe/Berlin leaves summer time on Sunday 2026-10-25 at 03:00 (back to 02:00), and
    starts it on Sunday 2027-03-28 at 02:00 (on to 03:00)."""
    autumn = {"w": Window((5,), time(22), time(6), "Europe/Berlin")}  # Saturday night
    [opening] = windows.openings(autumn, berlin(2026, 10, 24, 12), berlin(2026, 10, 25, 12))
    assert opening.opens == datetime(2026, 10, 24, 20, tzinfo=UTC)  # 22:00 CEST
    assert opening.closes == datetime(2026, 10, 25, 5, tzinfo=UTC)  # 06:00 CET
    assert opening.closes - opening.opens == timedelta(hours=9)  # the night is an hour longer
    spring = {"w": Window((5,), time(22), time(6), "Europe/Berlin")}
    [opening] = windows.openings(spring, berlin(2027, 3, 27, 12), berlin(2027, 3, 28, 12))
    assert opening.closes - opening.opens == timedelta(hours=7)


def test_a_start_skipped_by_daylight_saving_opens_at_the_end_of_the_gap() -> None:
    gap = {"w": Window((6,), time(2, 30), time(5), "Europe/Berlin")}
    [opening] = windows.openings(gap, berlin(2027, 3, 27), berlin(2027, 3, 29))
    assert opening.opens == datetime(2027, 3, 28, 1, 0, tzinfo=UTC)  # 03:00 CEST
    twice = {"w": Window((6,), time(2, 30), time(5), "Europe/Berlin")}
    [opening] = windows.openings(twice, berlin(2026, 10, 24), berlin(2026, 10, 26))
    assert opening.opens == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # the first 02:30


#: Zones with daylight saving at 02:00 and 03:00 local, by an hour or by half of one, south and
#: north of the equator, and without any (a half-hour offset).
ZONES = ("Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata")


def first_reading(zone: ZoneInfo, local: datetime) -> datetime:
    """The oracle's instant for a local wall time: the first instant at which the zone's clock
    reads ``local`` or later (a time skipped in spring: when the clocks jumped past it; a time
    read twice in autumn: the first reading). Found by reading the clock every quarter hour (the
    zones above change at whole quarter hours), never by turning local time into UTC."""
    at = local.replace(tzinfo=UTC) - timedelta(hours=15)
    while at.astimezone(zone).replace(tzinfo=None) < local:
        at += timedelta(minutes=15)
    return at


def oracle(window: Window, now: datetime, horizon: datetime) -> datetime | None:
    """When_allowed's answer by the documented rules, brute force: every day the window names,
    its opening from the first reading of its start to the first reading of its end; the
    earliest instant in [now, horizon) inside one with MIN_OPEN left."""
    zone = ZoneInfo(window.timezone)
    day = now.astimezone(zone).date() - timedelta(days=2)
    answers = []
    while day <= horizon.astimezone(zone).date():
        if day.weekday() in window.days:
            opens = first_reading(zone, datetime.combine(day, window.start))
            ends_on = day + timedelta(days=1) if window.end <= window.start else day
            closes = first_reading(zone, datetime.combine(ends_on, window.end))
            at = max(opens, now)
            if closes - at >= windows.MIN_OPEN and at < horizon:
                answers.append(at)
        day += timedelta(days=1)
    return min(answers, default=None)


@cache
def transitions(zone: str) -> list[datetime]:
    """When the zone's clocks changed in 2026 to 2028 (read hour by hour)."""
    tz, found = ZoneInfo(zone), []
    at = datetime(2026, 1, 1, tzinfo=UTC)
    while at.year < 2029:
        if (at + timedelta(hours=1)).astimezone(tz).utcoffset() != at.astimezone(tz).utcoffset():
            found.append(at)
        at += timedelta(hours=1)
    return found


#: The instants the rules are hardest at: the day before each change of the clocks (the next
#: opening is often the one the change moves).
NEAR_CHANGES = st.sampled_from(ZONES).flatmap(
    lambda zone: st.tuples(
        st.just(zone),
        st.sampled_from(transitions(zone) or [datetime(2027, 3, 28, tzinfo=UTC)]).flatmap(
            lambda change: st.datetimes(
                min_value=(change - timedelta(hours=26)).replace(tzinfo=None),
                max_value=(change + timedelta(hours=1)).replace(tzinfo=None),
                timezones=st.just(UTC),
            )
        ),
    )
)
ANY_TIME = st.tuples(
    st.sampled_from(ZONES),
    st.datetimes(
        min_value=datetime(2026, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
        max_value=datetime(2028, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
)
#: Half hours of the day (0: 00:00, 47: 23:30), often those around the clocks' changes (01:00 to
#: 03:30), and 02:00 and 02:30 most of all.
HALF_HOURS = st.one_of(st.integers(0, 47), st.integers(2, 7), st.sampled_from([4, 5]))
#: The days a window opens (0: Monday), often every day (the day of the change among them).
DAYS = st.one_of(
    st.just(list(range(7))), st.lists(st.integers(0, 6), min_size=1, max_size=7, unique=True)
)


@given(st.one_of(NEAR_CHANGES, ANY_TIME), DAYS, HALF_HOURS, HALF_HOURS)
def test_the_answer_is_the_first_instant_the_documented_rules_allow(
    when: tuple[str, datetime], days: list[int], start: int, finish: int
) -> None:
    """Checked against an oracle that shares nothing with the code but the rules: half-hour
    starts and ends, in zones whose clocks jump forward and back, often just then."""
    zone, now = when
    begin = time(start // 2, 30 * (start % 2))
    window = Window(tuple(days), begin, time(finish // 2, 30 * (finish % 2)), zone)
    horizon = now + timedelta(days=8)
    allowed = when_allowed({"w": window}, [], False, now, horizon)
    assert allowed.at == oracle(window, now, horizon)
    if allowed.at is not None:
        assert allowed.opening is not None
        assert allowed.opening.opens <= allowed.at < allowed.opening.closes


def test_exactly_a_minute_left_runs_now_and_less_waits() -> None:
    """MIN_OPEN is the boundary: 60 s left of the opening is enough, 59 s is not."""
    minute = berlin(2026, 12, 3, 5, 59)
    assert when_allowed(NIGHTS, [], False, minute, minute + timedelta(days=2)).at == minute
    less = minute + timedelta(seconds=1)
    assert when_allowed(NIGHTS, [], False, less, less + timedelta(days=2)).at == berlin(
        2026, 12, 3, 22
    )


def test_a_freeze_is_named_only_when_it_held_the_heal_back() -> None:
    """A freeze over the start of the opening that is used is named; one that ended before now,
    or begins after the answer, is not."""
    now = berlin(2026, 12, 2, 14, 0)
    early = Freeze("early", berlin(2026, 12, 2, 21), berlin(2026, 12, 2, 23), True)
    past = Freeze("past", berlin(2026, 11, 1), berlin(2026, 11, 2), True)
    later = Freeze("later", berlin(2026, 12, 3, 3), berlin(2026, 12, 3, 4), True)
    allowed = when_allowed(NIGHTS, [early, past, later], False, now, now + timedelta(days=7))
    assert allowed.at == berlin(2026, 12, 2, 23)
    assert allowed.freezes == ("early",)


def test_a_freeze_past_the_horizon_gives_no_answer_with_or_without_windows() -> None:
    now = berlin(2026, 12, 2, 14, 0)
    horizon = now + timedelta(days=3)
    freeze = Freeze("year", berlin(2026, 12, 1), berlin(2027, 1, 1), True)
    for chosen in (NIGHTS, {}):
        allowed = when_allowed(chosen, [freeze], False, now, horizon)
        assert allowed.at is None and allowed.freezes == ("year",), chosen
