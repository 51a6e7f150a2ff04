"""One heal at one stack size: the healer and the fixed-interval poller over the same draws.

Each draw gives two identical stacks the same CloudFormation durations (drawn from the model,
fixed seed, then varied a little each night: ``model.tonight``): the healer heals one in the
durable runner, the poller the other. Both stacks had a drift detection the night before their
first heal (a nightly heal's stack has one on record), then the same resources drift, every
night. The healer keeps each stack's timings from one night to the next (HISTORY_BUCKET). Heals
run one at a time on the runner's clock: its waits are skipped, the real time its invocations
run is not (see ``clock.RunnerClock``).
"""

from __future__ import annotations

import random
import statistics
import time
import tracemalloc
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from drift_sandbox import Durations, Sandbox, StackTiming

from . import model
from .baseline import FixedPoller
from .clock import RunnerClock, fast_checkpoint_stop
from .common import (
    TAG,
    TOPIC_ARN,
    cloudformation_seconds,
    healer_settings,
    quiet_process,
)
from .driver import Driver

DAY = 24 * 3600.0


@dataclass(frozen=True)
class Heal:
    """One heal, by the healer or by the poller, measured."""

    completed: bool
    outcome: str
    #: End-to-end seconds on the virtual clock, and CloudFormation's own on the path.
    seconds: float
    cloudformation: float
    calls: int
    #: The same per CloudFormation action.
    calls_by_action: dict[str, int]
    operations: int
    invocations: int
    lambda_seconds: float
    data_bytes: int
    cost: float
    #: Polls of each wait (the poller's) or of each poll phase (the healer's).
    polls: dict[str, int]

    @property
    def overhead(self) -> float:
        return self.seconds - self.cloudformation


def run_size(
    size: int,
    draws: int,
    seed: int = model.SEED,
    measure_memory: bool = False,
    scale: float = 1.0,
    nights: int = model.NIGHTS,
    nightly: float = model.NIGHTLY,
) -> dict[str, Any]:
    """Every draw at ``size`` resources, healed ``nights`` nights in a row, each night's
    durations within ``nightly`` of the stack's own: ``draws`` holds the heals of the second
    and later nights (of the first, when there is one night), ``first_night`` the first's when
    there were more; with ``measure_memory``, one more heal afterwards under tracemalloc (its
    peak); with ``scale``, CloudFormation takes that many times the drawn durations (off the
    model the healer estimates from). JSON-ready."""
    began = time.perf_counter()
    settings = healer_settings()
    driver = Driver(settings, region="us-east-1")
    clock = RunnerClock(driver.runner)
    timing = StackTiming(model=model.MODEL, seed=seed)
    sandbox = Sandbox(clock=clock.now, timing=timing)
    by_night: list[list[dict[str, Any]]] = []
    memory: dict[str, Any] | None = None
    try:
        with quiet_process(sandbox):
            scenario = _Scenario(sandbox, driver, clock, timing, size)
            pairs = [(f"n{size}-d{i:02d}-healer", f"n{size}-d{i:02d}-fixed") for i in range(draws)]
            own = []
            for i in range(draws):
                drawn = model.MODEL.draw(size, random.Random(f"{seed}/{size}/{i}"))
                own.append(
                    Durations(
                        drawn.detection * scale, drawn.creation * scale, drawn.execution * scale
                    )
                )
            names = [name for pair in pairs for name in pair]
            for night in range(1, nights + 1 if pairs else 1):
                for i, pair in enumerate(pairs):
                    tonight = model.tonight(
                        own[i], random.Random(f"{seed}/{size}/{i}/{night}"), nightly
                    )
                    for name in pair:
                        timing.assign(name, tonight)
                if night == 1:
                    scenario.prepare(names)
                else:
                    scenario.drift_again(names)
                by_night.append(scenario.night(pairs, night))
            if measure_memory:
                memory = scenario.peak_memory(f"n{size}-memory", seed)
    finally:
        driver.close()
    return {
        "size": size,
        "scale": scale,
        "nights": nights,
        "nightly": nightly,
        "draws": [row for rows in by_night[1:] or by_night for row in rows],
        "first_night": by_night[0] if len(by_night) > 1 else None,
        "memory": memory,
        "wall_seconds": time.perf_counter() - began,
    }


def _as_json(heal: Heal) -> dict[str, Any]:
    return {**asdict(heal), "overhead": heal.overhead}


class _Scenario:
    def __init__(
        self,
        sandbox: Sandbox,
        driver: Driver,
        clock: RunnerClock,
        timing: StackTiming,
        size: int,
    ) -> None:
        self.sandbox, self.driver, self.clock, self.timing = sandbox, driver, clock, timing
        self.size = size
        self.cfn = sandbox.client("cloudformation")
        self.ids: dict[str, str] = {}

    def prepare(self, names: list[str]) -> None:
        """Create the stacks, detect each once (the night before), then make them drift."""
        ids = self.sandbox.create_stacks(names, {TAG: "heal"}, template=model.template(self.size))
        self.ids.update(zip(names, ids, strict=True))
        for name in names:
            self.cfn.detect_stack_drift(StackName=name)
        self.drift_again(names)

    def drift_again(self, names: list[str]) -> None:
        """A day later, the same resources drift again."""
        self.clock.sleep(DAY)
        self.cfn.describe_stacks(StackName=names[0])  # the detections settle
        ssm = self.sandbox.client("ssm")
        for name in names:
            for parameter in model.parameter_names(name, self.size):
                ssm.put_parameter(Name=parameter, Value="off", Type="String", Overwrite=True)

    def night(self, pairs: list[tuple[str, str]], night: int) -> list[dict[str, Any]]:
        """Each pair healed, the healer's stack by the healer, then the other by the poller,
        whose invocations last as long as the healer's median of the night."""
        healer_runs = [self.heal(healer, night) for healer, _ in pairs]
        per_invocation = statistics.median(
            [h.lambda_seconds / h.invocations for h in healer_runs if h.invocations] or [0.0]
        )
        return [
            {
                "draw": i,
                "night": night,
                "durations": asdict(self.timing.known[fixed]),
                "healer": _as_json(healer_run),
                "baseline": _as_json(self.poll(fixed, per_invocation)),
            }
            for i, (healer_run, (_, fixed)) in enumerate(zip(healer_runs, pairs, strict=True))
        ]

    def heal(self, name: str, night: int = 1) -> Heal:
        """The healer heals the stack: its real durable handler in the runner."""
        calls, since = self._calls(), self.clock.now()
        run = self.driver.wait(
            self.driver.start({"StackName": name}, name=f"heal-{name}-night{night}")
        )
        return Heal(
            completed=run.outcome == "HEALED",
            outcome=run.outcome,
            seconds=run.seconds,
            cloudformation=self._cloudformation(name, since),
            calls=(self._calls() - calls).total(),
            calls_by_action=dict(self._calls() - calls),
            operations=run.operations,
            invocations=run.invocations,
            lambda_seconds=run.lambda_seconds,
            data_bytes=run.data_bytes,
            cost=model.PRICES.cost(
                run.operations, run.data_bytes, run.lambda_seconds, run.invocations
            ),
            polls=run.polls,
        )

    def poll(self, name: str, per_invocation: float) -> Heal:
        """The fixed-interval poller heals the stack; its invocations last ``per_invocation``
        seconds each (the healer's median), in its time and its cost alike."""
        calls, since = self._calls(), self.clock.now()
        sns = self.sandbox.client("sns")
        run = FixedPoller(self.cfn, sns, TOPIC_ARN, self.clock, model.BASELINE).heal(name)
        self.clock.sleep(run.invocations * per_invocation)
        seconds = (self.clock.now() - since).total_seconds()
        lambda_seconds = run.invocations * per_invocation
        return Heal(
            completed=run.completed,
            outcome=run.outcome,
            seconds=seconds,
            cloudformation=self._cloudformation(name, since),
            calls=(self._calls() - calls).total(),
            calls_by_action=dict(self._calls() - calls),
            operations=run.operations,
            invocations=run.invocations,
            lambda_seconds=lambda_seconds,
            data_bytes=run.data_bytes,
            cost=model.PRICES.cost(run.operations, run.data_bytes, lambda_seconds, run.invocations),
            polls=dict(run.waits),
        )

    def peak_memory(self, name: str, seed: int) -> dict[str, Any]:
        """One more heal at this size with tracemalloc on: the peak of Python's allocations
        while it ran, the emulated AWS's own (in this process) included."""
        self.timing.assign(
            name, model.MODEL.draw(self.size, random.Random(f"{seed}/{self.size}/memory"))
        )
        self.prepare([name])
        # the SDK's stop poll only costs real time, not memory (see clock.fast_checkpoint_stop)
        with fast_checkpoint_stop():
            tracemalloc.start()
            try:
                heal = self.heal(name)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
        return {"resources": self.size, "peak_bytes": peak, "outcome": heal.outcome}

    def _calls(self) -> Counter[str]:
        """CloudFormation API calls so far, per action (throttled ones included)."""
        return Counter(
            {a: n for (service, a), n in self.sandbox.calls.items() if service == "cloudformation"}
        )

    def _cloudformation(self, name: str, since: Any) -> float:
        return cloudformation_seconds(self.sandbox, self.timing, name, self.ids[name], since)
