"""When a wait polls (policy.polling): its guarantees over any estimate and any duration, and how
the healer reads a stack's size for the estimate."""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from drift_healer import cloudformation
from drift_healer.policy import polling
from drift_healer.policy.polling import Backoff, poll_times
from drift_healer.settings import Settings

SETTINGS = Settings()
DEFAULT = Backoff(
    initial=SETTINGS.poll_initial_seconds,
    rate=SETTINGS.poll_backoff_rate,
    ceiling=SETTINGS.poll_max_seconds,
    max_wait=SETTINGS.max_wait_seconds,
)

backoffs = st.builds(
    Backoff,
    initial=st.integers(1, 60),
    rate=st.floats(1.0, 3.0),
    ceiling=st.integers(1, 600),
    max_wait=st.integers(60, 4 * 3600),
)
looks = st.one_of(st.none(), st.integers(0, 10 * 3600))


def polls_to_see(times: tuple[int, ...], duration: float) -> int | None:
    """How many polls a wait makes until one sees CloudFormation done (None: it gave up)."""
    return next((n for n, at in enumerate(times, 1) if at >= duration), None)


@given(backoffs, st.integers(0, 10 * 3600), st.floats(0.001, 4 * 3600), st.booleans())
# without the geometric floor, this one costs two polls more (found by hypothesis, pinned)
@example(Backoff(initial=1, rate=3.0, ceiling=4, max_wait=60), 0, 8.0, True)
def test_a_wrong_estimate_costs_at_most_one_poll(
    backoff: Backoff, look: int, duration: float, past: bool
) -> None:
    """Whatever the estimate (the model's, or the stack's past: ``past``) and whatever
    CloudFormation takes, an informed wait sees the end with at most one poll more than a wait
    that knows nothing, or both give up."""
    informed = polls_to_see(poll_times(backoff, look, past), duration)
    blind = polls_to_see(poll_times(backoff), duration)
    if blind is None:
        assert informed is None
    else:
        assert informed is not None and informed <= blind + 1


@given(backoffs, looks, st.booleans())
def test_no_estimate_makes_a_wait_longer_than_the_bound(
    backoff: Backoff, look: int | None, past: bool
) -> None:
    times = poll_times(backoff, look, past)
    assert times[0] == 0  # the first poll asks at once
    assert times[-1] == backoff.max_wait  # the last poll at the bound, not after
    assert all(later > earlier for earlier, later in pairwise(times))
    # whole seconds, and no gap after the first look longer than the ceiling
    assert all(b - a <= max(1, backoff.ceiling) for a, b in pairwise(times[1:]))


@given(backoffs, st.integers(1, 3600), st.floats(0.001, 1.0), st.booleans())
def test_an_estimate_at_or_after_the_end_sees_it_at_the_first_look(
    backoff: Backoff, look: int, share: float, past: bool
) -> None:
    duration = share * min(look, backoff.max_wait)
    assert polls_to_see(poll_times(backoff, look, past), duration) == 2


def test_after_the_first_look_each_poll_comes_a_little_later_than_the_one_before() -> None:
    """A 30-resource stack's detection is modelled at 30 s: first look at 15 s, then polls
    spread over the window to 45 s (as many as the geometric schedule allows); a 500-resource
    one at 312 s: first look at 156 s, then each poll a tenth later than the one before."""
    small = poll_times(DEFAULT, polling.first_look(polling.DETECTION, 30))
    assert small[:6] == (0, 15, 19, 23, 28, 34)
    large = poll_times(DEFAULT, polling.first_look(polling.DETECTION, 500))
    assert large[:5] == (0, 156, 172, 190, 209)
    assert all(b / a <= polling.LATER + 0.01 for a, b in pairwise(large[1:8]))


def test_after_a_first_look_from_the_stacks_past_polls_come_closer() -> None:
    """The stack's own past is off by a little, not by half: after its first look, each poll
    comes a twentieth later than the one before (CLOSER), not spread to three times the look,
    and never less than SHORTEST apart."""
    past = poll_times(DEFAULT, 200, informed=True)
    assert past[:5] == (0, 200, 210, 221, 233)
    assert poll_times(DEFAULT, 200)[2] > past[2]
    assert poll_times(DEFAULT, 15, informed=True)[:4] == (0, 15, 17, 19)


@pytest.mark.parametrize(("looks", "late"), [(range(50, 200), 0.15), (range(200, 1200), 0.11)])
def test_inside_the_window_of_its_estimate_a_wait_sees_the_end_soon_after_it(
    looks: range, late: float
) -> None:
    """CloudFormation done anywhere from the first look to three times it (its durations vary by
    half either way around the model): the default schedule sees it within ``late`` of its time.
    (Short waits, with fewer polls allowed, are seen within a few seconds instead.)"""
    for look in looks:
        times = poll_times(DEFAULT, look)
        for step in range(101):
            duration = look * (1 + step / 50)
            seen = next(at for at in times if at >= duration)
            assert seen - duration <= late * duration, (look, duration, seen)


def test_the_geometric_schedule_is_the_settings_bounded_by_the_wait() -> None:
    times = poll_times(DEFAULT)
    assert times[:7] == (0, 1, 3, 6, 11, 18, 29)
    assert len(times) == polling.polls_within(DEFAULT.max_wait, DEFAULT.gap)


def test_first_looks_lead_the_model() -> None:
    """At half the model's time: CloudFormation varies by about half either way."""
    assert polling.LEAD == 0.5
    assert polling.first_look(polling.DETECTION, 5) == math.ceil(0.5 * (12 + 0.6 * 5)) == 8
    assert polling.first_look(polling.EXECUTION, 2) == math.ceil(0.5 * (40 + 0.66 * 2))
    assert polling.first_look(polling.CHANGE_SET, 0) == math.ceil(0.5 * 15)
    assert polling.first_look(polling.DETECTION, -3) == math.ceil(0.5 * 12)


def count(body: Any) -> int | None:
    return cloudformation.resource_count(body)


def test_the_stack_size_is_counted_in_its_template() -> None:
    yaml = """AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Env: {Type: String}
Resources:
  # the queue
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      Tags:
        - Key: team
          Value: core
  "Topic":
    Type: AWS::SNS::Topic
  Bucket: {Type: AWS::S3::Bucket}
Outputs:
  Arn: {Value: !GetAtt Queue.Arn}
"""
    assert count(yaml) == 3
    assert count({"Resources": {"A": {}, "B": {}}}) == 2  # boto3 decodes JSON bodies
    assert count('{"Resources": {"A": {"Type": "AWS::SNS::Topic"}}}') == 1
    assert count("Resources: {A: {Type: AWS::SNS::Topic}}") is None  # not plainly: no estimate
    assert count("{not json") is None
    assert count({"Resources": []}) is None
