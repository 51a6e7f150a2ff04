"""When a wait on CloudFormation polls: at once, at the time it expects CloudFormation to be done,
then every few seconds; and when it gives up.

A wait that knows roughly how long CloudFormation will take (an estimate from the stack's size, or
from how long the same operation took earlier in this heal) polls once at once, then at its
*first look* (a little before the estimate: CloudFormation's durations vary), then every few
seconds, the gaps growing gently. A wait that knows nothing polls on the geometric schedule of the
settings (from ``POLL_INITIAL_SECONDS``, growing by ``POLL_BACKOFF_RATE`` up to
``POLL_MAX_SECONDS``).

Two guarantees, whatever the estimate (tests/unit/test_polling.py checks them over estimates and
durations):

- no wait lasts longer than ``MAX_WAIT_SECONDS``: its last poll is at that bound;
- a wrong estimate costs at most one poll more than knowing nothing: an informed wait's poll n + 1
  never comes before the geometric schedule's poll n (a later poll keeps to the later of the two).

Everything is computed from the first look and the poll's number, both checkpointed: a replay
decides the same delays without reading a clock or AWS.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

#: The first look comes at this share of the modelled duration: CloudFormation often takes less
#: than the model says (it varies by about half either way), and a look too early costs only a
#: short gap, a look too late the whole difference.
LEAD = 0.8
#: After the first look, polls come every this share of it (a few seconds for a small stack) ...
STEP = 0.12
#: ... each gap this much longer than the one before ...
GROWTH = 1.1
#: ... and none shorter than this, in seconds (a second more or less is not worth a poll).
SHORTEST = 2


@dataclass(frozen=True)
class Model:
    """How long a CloudFormation operation takes, roughly: a base and a part per item."""

    base: float
    per_item: float

    def seconds(self, items: int) -> float:
        return self.base + self.per_item * max(0, items)


#: Drift detection reads every resource of the stack.
DETECTION = Model(base=4.0, per_item=1.5)
#: Making a change set takes about the same time whatever the stack, a little more for a large one.
CHANGE_SET = Model(base=8.0, per_item=0.02)
#: Executing it updates every drifted resource.
EXECUTION = Model(base=15.0, per_item=5.0)


def first_look(model: Model, items: int) -> int:
    """Seconds after a wait begins of its first poll after the one at once."""
    return max(1, math.ceil(LEAD * model.seconds(items)))


def look_again(took: int, before: int) -> int:
    """The first look of a wait for an operation that took at most ``took`` seconds the last
    time (its wait saw it running ``before`` seconds in): it will take as long again. Seen done
    at the first look (nothing after the poll at once), it may have taken much less: look a
    little earlier."""
    return max(1, took if before else math.ceil(LEAD * took))


@dataclass(frozen=True)
class Backoff:
    """The geometric schedule of a wait that knows nothing, and the bound of every wait."""

    initial: int
    rate: float
    ceiling: int
    max_wait: int

    def gap(self, n: int) -> int:
        """Seconds between poll ``n`` and poll ``n + 1`` (as the durable SDK's wait strategy
        computes them: whole seconds, at least one)."""
        return _grown(self.initial, self.rate, n - 1, self.ceiling)


@lru_cache(maxsize=512)
def poll_times(backoff: Backoff, look: int | None = None) -> tuple[int, ...]:
    """Seconds after the wait began of each of its polls: the first at once, the last at the
    bound. ``look``: the first look (None: no estimate, the geometric schedule alone)."""
    bound = backoff.max_wait
    times = [0]
    if look is None:
        while times[-1] < bound:
            times.append(min(bound, times[-1] + backoff.gap(len(times))))
        return tuple(times)
    geometric = poll_times(backoff)
    times.append(min(bound, max(1, look)))
    while times[-1] < bound:
        n = len(times) - 1  # gaps after the first look so far
        short = _grown(STEP * look, GROWTH, n - 1, backoff.ceiling, SHORTEST)
        # poll n + 2 never comes before the geometric schedule's poll n + 1: at most one poll
        # more than knowing nothing
        times.append(min(bound, max(times[-1] + short, geometric[n])))
    return tuple(times)


def _grown(first: float, rate: float, times: int, ceiling: int, shortest: int = 1) -> int:
    """``first`` grown ``times`` by ``rate``, in whole seconds: at least ``shortest`` (and one),
    at most ``ceiling``."""
    try:
        grown = first * rate**times
    except OverflowError:
        grown = math.inf
    return max(1, min(ceiling, max(shortest, math.ceil(min(ceiling, grown)))))


def polls_within(max_wait: int, delay_after: Callable[[int], int]) -> int:
    """How many polls a wait makes before giving up: the first poll at once, then one after each
    delay (``delay_after(n)`` seconds after poll ``n``), until the delays add up to ``max_wait``."""
    waited, polls = 0, 1
    while waited < max_wait:
        waited += max(1, delay_after(polls))
        polls += 1
    return polls
