"""The CloudFormation drift extension: detections, REVERT_DRIFT change sets and their execution.

A thin façade, one executor per operation kind behind it (as the durable SDK has one per
operation): :mod:`.detection`, :mod:`.planning` (creating change sets), :mod:`.lifecycle`
(describing, listing, deleting them) and :mod:`.execution`. They share one
:class:`~.records.State`. Every operation takes modeled time on an injectable clock: it is
IN_PROGRESS until its ``ready_at``, and :meth:`DriftEngine.settle` (called before every
CloudFormation request) moves due operations on.
"""

from __future__ import annotations

from datetime import timedelta

from moto.cloudformation.models import CloudFormationBackend, Stack

from . import stacks
from .detection import Detector
from .execution import Executor
from .faults import Faults
from .lifecycle import Lifecycle
from .planning import Planner
from .records import State
from .timing import BusyStacks, Clock, Timing


class DriftEngine:
    """Drift detection and drift-aware change sets over moto's stacks and backends."""

    def __init__(self, clock: Clock, timing: Timing, faults: Faults) -> None:
        self.state = State(clock, timing, faults)
        self.busy = BusyStacks()
        self.detection = Detector(self.state)
        self.planning = Planner(self.state)
        self.lifecycle = Lifecycle(self.state)
        self.execution = Executor(self.state)

    # The settings every executor reads through the shared state: swap one here (a test sets
    # ``sandbox.engine.timing = Timing(...)``) and all of them see it.
    @property
    def clock(self) -> Clock:
        return self.state.clock

    @clock.setter
    def clock(self, clock: Clock) -> None:
        self.state.clock = clock

    @property
    def timing(self) -> Timing:
        return self.state.timing

    @timing.setter
    def timing(self, timing: Timing) -> None:
        self.state.timing = timing

    @property
    def faults(self) -> Faults:
        return self.state.faults

    # ----------------------------------------------------------------------------- time
    def settle(self) -> None:
        """Move every operation whose modeled time has passed to its end state."""
        now = self.state.clock()
        self.busy.settle(now)
        self.detection.settle(now)
        self.planning.settle(now)
        self.execution.settle(now)

    def make_busy(self, stack: Stack, seconds: float) -> None:
        """Put the stack in UPDATE_IN_PROGRESS for a while (someone else is deploying)."""
        self.busy.make_busy(stack, self.state.clock() + timedelta(seconds=seconds))

    # ----------------------------------------------------------------------------- stacks
    @staticmethod
    def backend(account_id: str, region: str) -> CloudFormationBackend:
        return stacks.backend(account_id, region)

    @staticmethod
    def stack(account_id: str, region: str, name_or_id: str) -> Stack:
        """A live stack by name or ARN; a deleted one only by ARN, as AWS does."""
        return stacks.stack(account_id, region, name_or_id)

    def on_stack_created(self, stack: Stack) -> None:
        """Complete moto's create: the new stack starts in sync, at generation 0."""
        stacks.start_in_sync(stack)
        self.state.stack_created(stack.stack_id)

    def on_stack_updated(self, stack: Stack) -> None:
        """Someone updated the stack: its change sets made before are OBSOLETE from now on."""
        self.state.stack_updated(stack.stack_id)

    def on_stack_deleted(self, account_id: str, region: str, stack_id: str) -> None:
        """Deleting a stack deletes its change sets, ours and moto's own, as AWS does."""
        for change_set in list(self.state.change_sets.values()):
            if change_set.stack_id == stack_id:
                del self.state.change_sets[change_set.arn]
        moto_sets = stacks.backend(account_id, region).change_sets
        for arn in [arn for arn, c in moto_sets.items() if c.stack_id == stack_id]:
            del moto_sets[arn]
