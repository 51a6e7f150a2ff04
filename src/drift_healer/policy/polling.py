"""When a wait on CloudFormation polls: when it expects CloudFormation to be done, then a little
later each time; and when it gives up.

A wait that knows roughly how long CloudFormation will take polls at its *first look*: when the
same operation on the same stack was seen done before (in this heal, or its last heal:
policy.timings), else when the quickest stacks of its size are done (CloudFormation's durations
vary by about half either way). Then each poll comes a tenth later than the one before, so that
it sees CloudFormation done within a tenth of its time (a twentieth on average; short waits,
allowed fewer polls by the second guarantee below, a few seconds). A wait that knows nothing
polls on the geometric schedule of the settings (from ``POLL_INITIAL_SECONDS``, growing by
``POLL_BACKOFF_RATE`` up to ``POLL_MAX_SECONDS``). The check at once that every wait begins with
(the durable SDK's ``wait_for_condition`` checks first) asks CloudFormation only when the work
may be done already.

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

#: The first look comes at this share of the modelled duration: CloudFormation takes anywhere
#: from about half the model to one and a half times it, and a look too early costs only a
#: short gap, a look too late the whole difference.
LEAD = 0.5
#: After the first look, each poll comes this many times as long after the wait began as the one
#: before (a poll at 40 s, the next at 44 s), or more when the polls the guarantee below allows
#: until the slowest stacks are done (three times the first look) are fewer: then they are spread
#: evenly over that window ...
LATER = 1.1
#: ... and never sooner than this many seconds after it (a second more or less is not worth a
#: poll).
SHORTEST = 2
#: A first look the stack's own past gave (policy.timings) is off by a little, not by half:
#: each later poll comes this many times as long after the wait began as the one before.
CLOSER = 1.05


@dataclass(frozen=True)
class Model:
    """How long a CloudFormation operation takes, roughly: a base and a part per item."""

    base: float
    per_item: float

    def seconds(self, items: int) -> float:
        return self.base + self.per_item * max(0, items)


#: How long each operation takes on a stack of n resources, on average: drift detection reads
#: every resource; the REVERT_DRIFT change set compares the template with each of them; the
#: execution walks the stack's dependency graph, whatever few resources it updates. The numbers
#: are the benchmark's model (bench/model.py: ~90 s for a heal of 5 resources, ~1,160 s for
#: 500). A stack that takes longer or shorter costs at most one poll more than no estimate.
DETECTION = Model(base=12.0, per_item=0.6)
CHANGE_SET = Model(base=15.0, per_item=0.3)
EXECUTION = Model(base=40.0, per_item=0.66)


def first_look(model: Model, items: int) -> int:
    """Seconds after a wait begins of its first poll after the check at once: half the
    model's time (LEAD)."""
    return max(1, math.ceil(LEAD * model.seconds(items)))


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
def poll_times(
    backoff: Backoff, look: int | None = None, informed: bool = False
) -> tuple[int, ...]:
    """Seconds after the wait began of each of its polls: the first at once, the last at the
    bound. ``look``: the first look (None: no estimate, the geometric schedule alone);
    ``informed``: it is what the stack itself took before, so later polls come CLOSER."""
    bound = backoff.max_wait
    times = [0]
    if look is None:
        while times[-1] < bound:
            times.append(min(bound, times[-1] + backoff.gap(len(times))))
        return tuple(times)
    geometric = poll_times(backoff)
    times.append(min(bound, max(1, look)))
    allowed = sum(t <= 3 * look for t in geometric) + 1 - len(times)
    later = CLOSER if informed else max(LATER, 3 ** (1 / max(1, allowed)))
    while times[-1] < bound:
        n = len(times) - 1  # gaps after the first look so far
        gap = min(backoff.ceiling, max(SHORTEST, math.ceil(round(times[-1] * (later - 1), 9))))
        # poll n + 2 never comes before the geometric schedule's poll n + 1: at most one poll
        # more than knowing nothing
        times.append(min(bound, max(times[-1] + gap, geometric[n])))
    return tuple(times)


def _grown(first: float, rate: float, times: int, ceiling: int) -> int:
    """``first`` grown ``times`` by ``rate``, in whole seconds: at least one, at most
    ``ceiling``."""
    try:
        grown = first * rate**times
    except OverflowError:
        grown = math.inf
    return max(1, min(ceiling, math.ceil(min(ceiling, grown))))


def polls_within(max_wait: int, delay_after: Callable[[int], int]) -> int:
    """How many polls a wait makes before giving up: the first poll at once, then one after each
    delay (``delay_after(n)`` seconds after poll ``n``), until the delays add up to ``max_wait``."""
    waited, polls = 0, 1
    while waited < max_wait:
        waited += max(1, delay_after(polls))
        polls += 1
    return polls
