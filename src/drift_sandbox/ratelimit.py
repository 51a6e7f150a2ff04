"""An account's API rate limits: a token bucket per action, refilled on the sandbox's clock.

AWS throttles each API action per account and region: requests spend tokens from a bucket that
holds at most ``burst`` and refills at ``rate`` a second; a request that finds it empty is
answered "Rate exceeded" and takes effect nowhere. CloudFormation does not publish its rates, so
the limits are whatever the caller states (the benchmark states its own). No limit is set at
first: every call is admitted, as before limits existed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Limit:
    """A steady ``rate`` of requests a second, and ``burst`` more at once after a quiet spell."""

    rate: float
    burst: int

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError(f"a limit needs rate > 0 and burst >= 1, not {self}")


@dataclass
class _Bucket:
    limit: Limit
    tokens: float
    updated: datetime

    def take(self, now: datetime) -> bool:
        elapsed = max((now - self.updated).total_seconds(), 0.0)
        self.tokens = min(self.limit.burst, self.tokens + elapsed * self.limit.rate)
        self.updated = max(now, self.updated)
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class RateLimits:
    """Token buckets per (account, region, service, action), for the actions given a limit."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._limits: dict[tuple[str, str], Limit] = {}
        self._buckets: dict[tuple[str, str, str, str], _Bucket] = {}
        #: (service, action) -> calls answered "Rate exceeded" by a limit
        self.throttled: Counter[tuple[str, str]] = Counter()

    def limit(
        self, service: str, limits: Mapping[str, Limit], default: Limit | None = None
    ) -> RateLimits:
        """Limit these actions of ``service`` (action name -> limit), and every other action of
        it to ``default`` if given; buckets start full."""
        for action, limit in limits.items():
            self._limits[(service, action)] = limit
        if default is not None:
            self._limits[(service, "*")] = default
        self._buckets.clear()
        return self

    def clear(self) -> None:
        """No limits any more, and nothing counted."""
        self._limits.clear()
        self._buckets.clear()
        self.throttled.clear()

    def limits(self) -> dict[tuple[str, str], Limit]:
        """(service, action) -> its limit, as set ("*": every other action of the service)."""
        return dict(self._limits)

    def admit(self, account: str, region: str, service: str, action: str) -> bool:
        """Spend a token of this action's bucket in that account and region; False (and counted)
        when it is empty. Actions without a limit are always admitted."""
        limit = self._limits.get((service, action)) or self._limits.get((service, "*"))
        if limit is None:
            return True
        key = (account, region, service, action)
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(limit, float(limit.burst), now)
        if bucket.take(now):
            return True
        self.throttled[(service, action)] += 1
        return False
