"""Modeled time: how long CloudFormation takes, on an injectable clock, and stacks kept busy.

Nothing here sleeps. An operation records when it is due (its ``ready_at``) and stays IN_PROGRESS
until the clock has passed it; the engine settles due operations before every CloudFormation
request. A test (or the local durable runner) moves the clock, and hours pass in no time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from moto.cloudformation.models import Stack

from .stacks import stack_by_id

Clock = Callable[[], datetime]


def wall_clock() -> datetime:
    """The default clock: real UTC time."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Timing:
    """How long CloudFormation takes, in seconds (detection grows with the stack), and how much
    it answers per page."""

    detection_base: float = 4.0
    detection_per_resource: float = 1.5
    change_set_creation: float = 8.0
    execution_base: float = 15.0
    execution_per_change: float = 5.0
    #: Items per page of the paged reads the healer must follow to the end: changes per
    #: DescribeChangeSet page, summaries per ListChangeSets page, and drifts per
    #: DescribeStackResourceDrifts page (that one also at most the request's MaxResults). The
    #: default, 100, is what AWS answers at most; a page size of 1 makes every reader show that
    #: it reads every page.
    page_size: int = 100

    def __post_init__(self) -> None:
        if self.page_size < 1:
            raise ValueError(f"page_size must be at least 1, not {self.page_size}")

    def for_stack(self, stack_name: str, resources: int) -> Timing:
        """The timing of one stack (of ``resources`` resources): the same for every stack here;
        a model that draws each stack's own durations overrides it (``durations.StackTiming``)."""
        return self

    def detection(self, resources: int) -> timedelta:
        return timedelta(seconds=self.detection_base + self.detection_per_resource * resources)

    def creation(self) -> timedelta:
        return timedelta(seconds=self.change_set_creation)

    def execution(self, changes: int) -> timedelta:
        return timedelta(seconds=self.execution_base + self.execution_per_change * changes)


@dataclass
class _Busy:
    stack_id: str
    until: datetime
    then: str


@dataclass
class BusyStacks:
    """Stacks someone else is deploying: UPDATE_IN_PROGRESS until their time is up, then back
    to the status they had (unless something else changed it meanwhile)."""

    busy: list[_Busy] = field(default_factory=list)

    def make_busy(self, stack: Stack, until: datetime) -> None:
        self.busy.append(_Busy(stack.stack_id, until, stack.status))
        stack.status = "UPDATE_IN_PROGRESS"

    def settle(self, now: datetime) -> None:
        for due in [b for b in self.busy if b.until <= now]:
            self.busy.remove(due)
            stack = stack_by_id(due.stack_id)
            if stack.status == "UPDATE_IN_PROGRESS":
                stack.status = due.then
