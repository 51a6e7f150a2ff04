"""How long to wait before asking CloudFormation again.

Geometric growth from a short first delay to a ceiling: a small stack's detection is seen within
seconds, a large one's minutes-long detection costs a handful of polls, and the total is bounded
by a maximum wait, after which the heal fails loudly instead of polling forever.
"""

from __future__ import annotations

import math


def poll_delay(attempt: int, initial: int, ceiling: int, rate: float) -> int:
    """Seconds to wait after poll number ``attempt`` (1-based)."""
    return max(1, min(ceiling, math.ceil(initial * rate ** max(0, attempt - 1))))


def timed_out(waited_seconds: float, max_wait: int) -> bool:
    return waited_seconds >= max_wait
