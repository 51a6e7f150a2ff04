"""How long CloudFormation takes for each stack, drawn from a model: the benchmark's timing.

Real stacks differ: a detection, a change set and an execution take longer the more resources a
stack has, and two stacks of one size do not take exactly as long. A stack's own operations,
though, take about the same time every night. :class:`StackTiming` is a :class:`~.timing.Timing`
that gives each stack durations of its own: assigned (the benchmark draws them and gives the same
to the healer's stack and to the baseline's), or else drawn from a :class:`DurationModel`,
deterministically from a seed and the stack's name, and then kept for that stack.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .timing import Timing


@dataclass(frozen=True)
class Durations:
    """Seconds CloudFormation takes on one stack for each kind of operation."""

    detection: float
    creation: float
    execution: float


@dataclass(frozen=True)
class DurationModel:
    """Seconds per operation as a base plus a slope per resource of the stack, each drawn within
    ``spread`` of that mean (0.5: anywhere from half to one and a half times it, uniformly)."""

    detection_base: float = 12.0
    detection_per_resource: float = 0.6
    creation_base: float = 15.0
    creation_per_resource: float = 0.3
    execution_base: float = 40.0
    execution_per_resource: float = 0.66
    spread: float = 0.5

    def __post_init__(self) -> None:
        if not 0 <= self.spread < 1:
            raise ValueError(f"spread must be at least 0 and below 1, not {self.spread}")

    def mean(self, resources: int) -> Durations:
        """The durations of a stack of ``resources`` resources, before the spread."""
        return Durations(
            detection=self.detection_base + self.detection_per_resource * resources,
            creation=self.creation_base + self.creation_per_resource * resources,
            execution=self.execution_base + self.execution_per_resource * resources,
        )

    def draw(self, resources: int, rng: random.Random) -> Durations:
        """One stack's durations: the mean of each operation times its own uniform factor."""
        mean = self.mean(resources)
        low, high = 1 - self.spread, 1 + self.spread
        return Durations(
            detection=mean.detection * rng.uniform(low, high),
            creation=mean.creation * rng.uniform(low, high),
            execution=mean.execution * rng.uniform(low, high),
        )


@dataclass(frozen=True)
class StackTiming(Timing):
    """Each stack's durations: assigned, or drawn from ``model`` on the stack's first operation
    (seeded by ``seed`` and the stack's name, so a run is reproducible whatever the order in
    which stacks are touched) and the same for that stack from then on. Paging as ``Timing``."""

    model: DurationModel = DurationModel()
    seed: int = 0
    #: stack name -> its durations (assigned or drawn so far)
    known: dict[str, Durations] = field(default_factory=dict, compare=False)

    def assign(self, stack_name: str, durations: Durations) -> None:
        """Give the stack these durations from now on."""
        self.known[stack_name] = durations

    def durations(self, stack_name: str, resources: int) -> Durations:
        """The stack's durations (drawn for ``resources`` resources the first time)."""
        found = self.known.get(stack_name)
        if found is None:
            found = self.model.draw(resources, random.Random(f"{self.seed}/{stack_name}"))
            self.known[stack_name] = found
        return found

    def for_stack(self, stack_name: str, resources: int) -> Timing:
        drawn = self.durations(stack_name, resources)
        return Timing(
            detection_base=drawn.detection,
            detection_per_resource=0.0,
            change_set_creation=drawn.creation,
            execution_base=drawn.execution,
            execution_per_change=0.0,
            page_size=self.page_size,
        )
