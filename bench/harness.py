"""The benchmark's run: cold start first, on a quiet machine; then the heals at each size and the
fleet night in worker processes; then the tables, PASS or FAIL per target, bench/results.json,
bench/results.md and, after a run with the standard parameters, the README's Performance
section."""

from __future__ import annotations

import json
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from . import coldstart, fleet, model, report, single

OUT = Path(__file__).resolve().parent
#: A named run: what it measures, called with nothing (in a fresh process with several jobs).
Task = tuple[str, Callable[[], dict[str, Any]]]


@dataclass(frozen=True)
class Plan:
    sizes: tuple[int, ...] = model.SIZES
    draws: int = model.DRAWS
    fleet_stacks: int = model.FLEET.stacks
    fleet_every: int = model.FLEET.every
    import_repetitions: int = 7
    #: One more heal at the largest size under tracemalloc: its peak memory.
    memory: bool = True
    #: First nights with CloudFormation this many times slower or faster than the model the
    #: healer estimates from (informational: what a wrong estimate costs), at these sizes.
    off_model: tuple[float, ...] = (0.5, 2.0)
    off_model_sizes: tuple[int, ...] = (50, 500)
    off_model_draws: int = 10
    #: Nights that vary this much from one to the next (informational), at these sizes.
    varied: tuple[float, ...] = (model.VARIED,)
    varied_sizes: tuple[int, ...] = (50, 500)
    varied_draws: int = 10
    jobs: int = 3

    @property
    def standard(self) -> bool:
        """The parameters the README's table is made with (jobs change nothing measured)."""
        return replace(self, jobs=Plan.jobs) == Plan()


def run(plan: Plan, out: Path = OUT, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Measure, judge and write; returns the results (JSON-ready but ``verdicts_objects``)."""
    began = time.perf_counter()
    cold = None
    if plan.import_repetitions > 0:
        say(f"cold start: importing the handler and boto3, {plan.import_repetitions} pairs")
        cold = coldstart.measure(plan.import_repetitions)
    say(
        f"heals: sizes {', '.join(map(str, plan.sizes))}, {plan.draws} draws each; fleet: "
        f"{plan.fleet_stacks} stacks, 1 in {plan.fleet_every} simulated; {plan.jobs} workers"
    )
    fleet_config = replace(model.FLEET, stacks=plan.fleet_stacks, every=plan.fleet_every)
    largest = max(plan.sizes, default=0)
    tasks: list[Task] = []
    if plan.fleet_stacks > 0:
        tasks.append(("fleet night", partial(fleet.night, fleet_config)))
    for size in sorted(plan.sizes, reverse=True):
        memory = plan.memory and size == largest
        tasks.append(
            (f"{size} resources", partial(single.run_size, size, plan.draws, measure_memory=memory))
        )
    # informational: first nights off the model, and nights that vary more
    off_model = {
        f"{size} resources x{scale:g}": partial(
            single.run_size, size, plan.off_model_draws, scale=scale, nights=1
        )
        for scale in plan.off_model
        for size in plan.off_model_sizes
    }
    varied = {
        f"{size} resources, nights +-{nightly:.0%}": partial(
            single.run_size, size, plan.varied_draws, nightly=nightly
        )
        for nightly in plan.varied
        for size in plan.varied_sizes
    }
    tasks += [*off_model.items(), *varied.items()]
    done = _in_workers(tasks, plan.jobs, say)
    apart = {"fleet night", *off_model, *varied}
    sizes = [done[name] for name, _ in tasks if name not in apart]
    results = report.assemble(
        sizes,
        done.get("fleet night"),
        cold,
        wall_seconds=time.perf_counter() - began,
        off_model=[done[name] for name in off_model],
        varied=[done[name] for name in varied],
    )
    block = report.markdown(results)
    checks = results.pop("verdicts_objects")
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    (out / "results.md").write_text(block)
    say("")
    say(block)
    say(f"wrote {out / 'results.json'} and {out / 'results.md'}")
    if plan.standard and out == OUT:
        say(report.update_readme(block))
    else:
        say("README.md left alone: only a run with the standard parameters rewrites its table")
    failed = sum(not c.passed for c in checks)
    say(
        f"{len(checks) - failed} of {len(checks)} targets passed"
        + (f", {failed} failed (the FAIL lines above)" if failed else "")
    )
    results["verdicts_objects"] = checks
    return results


def _in_workers(
    tasks: list[Task],
    jobs: int,
    say: Callable[[str], None],
) -> dict[str, dict[str, Any]]:
    """Run each task (in this process with one job, else in fresh processes)."""
    done: dict[str, dict[str, Any]] = {}
    if jobs <= 1:
        for name, fn in tasks:
            done[name] = fn()
            say(f"  {name}: done in {done[name]['wall_seconds']:.0f} s")
        return done
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures: dict[Future[dict[str, Any]], str] = {pool.submit(fn): name for name, fn in tasks}
        for future in as_completed(futures):
            name = futures[future]
            done[name] = future.result()
            say(f"  {name}: done in {done[name]['wall_seconds']:.0f} s")
    return done
