"""When a wait polls (policy.polling): its guarantees over any estimate and any duration, and how
the healer reads a stack's size for the estimate."""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any

from hypothesis import given
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


@given(backoffs, st.integers(0, 10 * 3600), st.floats(0.001, 4 * 3600))
def test_a_wrong_estimate_costs_at_most_one_poll(
    backoff: Backoff, look: int, duration: float
) -> None:
    """Whatever the estimate and whatever CloudFormation takes, an informed wait sees the end
    with at most one poll more than a wait that knows nothing, or both give up."""
    informed = polls_to_see(poll_times(backoff, look), duration)
    blind = polls_to_see(poll_times(backoff), duration)
    if blind is None:
        assert informed is None
    else:
        assert informed is not None and informed <= blind + 1


@given(backoffs, looks)
def test_no_estimate_makes_a_wait_longer_than_the_bound(backoff: Backoff, look: int | None) -> None:
    times = poll_times(backoff, look)
    assert times[0] == 0  # the first poll asks at once
    assert times[-1] == backoff.max_wait  # the last poll at the bound, not after
    assert all(later > earlier for earlier, later in pairwise(times))
    # whole seconds, and no gap after the first look longer than the ceiling
    assert all(b - a <= max(1, backoff.ceiling) for a, b in pairwise(times[1:]))


@given(backoffs, st.integers(1, 3600), st.floats(0.001, 1.0))
def test_an_estimate_at_or_after_the_end_sees_it_at_the_first_look(
    backoff: Backoff, look: int, share: float
) -> None:
    duration = share * min(look, backoff.max_wait)
    assert polls_to_see(poll_times(backoff, look), duration) == 2


def test_after_the_first_look_polls_come_every_few_seconds_growing_gently() -> None:
    """A 30-resource stack's detection is expected after 49 s: first look at 40 s, then every
    5 or 6 s; a 500-resource one after 754 s: first look at 604 s, then every 73 s or so."""
    small = poll_times(DEFAULT, polling.first_look(polling.DETECTION, 30))
    assert small[:5] == (0, 40, 45, 51, 57)
    large = poll_times(DEFAULT, polling.first_look(polling.DETECTION, 500))
    assert large[:4] == (0, 604, 677, 757)
    gaps = [b - a for a, b in pairwise(large[1:])][:4]
    assert gaps == sorted(gaps) and gaps[-1] / gaps[0] < 1.5


def test_the_geometric_schedule_is_the_settings_bounded_by_the_wait() -> None:
    times = poll_times(DEFAULT)
    assert times[:7] == (0, 1, 3, 6, 11, 18, 29)
    assert len(times) == polling.polls_within(DEFAULT.max_wait, DEFAULT.gap)


def test_first_looks_lead_the_model() -> None:
    """A little before the model's time: CloudFormation varies by about half either way."""
    assert polling.first_look(polling.DETECTION, 5) == math.ceil(polling.LEAD * 11.5) == 10
    assert polling.first_look(polling.EXECUTION, 2) == math.ceil(polling.LEAD * 25)
    assert polling.first_look(polling.CHANGE_SET, 0) == math.ceil(polling.LEAD * 8)
    assert polling.first_look(polling.DETECTION, -3) == math.ceil(polling.LEAD * 4)


def test_looking_again_for_an_operation_measured_earlier() -> None:
    """The verifying detection takes as long as the first: look when that one was seen done;
    seen done at its first look, it may have taken much less: look a little earlier."""
    assert polling.look_again(took=57, before=51) == 57
    assert polling.look_again(took=40, before=0) == 32
    assert polling.look_again(took=1, before=0) == 1


class Templates:
    """A CloudFormation client that only answers GetTemplate."""

    def __init__(self, body: Any) -> None:
        self.body = body

    def get_template(self, **_: Any) -> dict[str, Any]:
        return {"TemplateBody": self.body}


def count(body: Any) -> int | None:
    return cloudformation.resource_count(Templates(body), "stack")  # type: ignore[arg-type]


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
