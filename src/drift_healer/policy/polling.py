"""How long a wait on CloudFormation may last, counted in polls.

Delays grow geometrically from a short first delay to a ceiling (the durable SDK's wait strategy
computes them): a small stack's detection is seen within seconds, a large one's minutes-long
detection costs a handful of polls. The total is bounded by a maximum wait, after which the heal
fails loudly instead of polling forever. The bound is counted in polls, from the delays alone, so
no clock has to be read (or replayed) to enforce it.
"""

from __future__ import annotations

from collections.abc import Callable


def polls_within(max_wait: int, delay_after: Callable[[int], int]) -> int:
    """How many polls a wait makes before giving up: the first poll at once, then one after each
    delay (``delay_after(n)`` seconds after poll ``n``), until the delays add up to ``max_wait``."""
    waited, polls = 0, 1
    while waited < max_wait:
        waited += max(1, delay_after(polls))
        polls += 1
    return polls
