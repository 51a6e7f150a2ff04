"""``python -m bench`` (what ``make bench`` runs): the benchmark, end to end (see
``bench.harness``). Exit status: 0 when every target passed, 1 when one failed, 2 for an
invalid command line, 130 when interrupted."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from .harness import OUT, Plan, run


def _parse(argv: Sequence[str] | None) -> tuple[Plan, Path]:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark the healer against a fixed-interval poller on the sandbox "
        "(virtual time): one heal per size, a fleet night, the cold start.",
    )
    default = Plan()
    parser.add_argument(
        "--sizes",
        default=",".join(map(str, default.sizes)),
        help="resources per stack, comma-separated (default: %(default)s)",
    )
    parser.add_argument("--draws", type=int, default=default.draws, help="draws per size")
    parser.add_argument(
        "--fleet", type=int, default=default.fleet_stacks, help="stacks in the fleet (0: none)"
    )
    parser.add_argument(
        "--fleet-every",
        type=int,
        default=default.fleet_every,
        help="simulate 1 stack in N (1: the whole fleet, about 0.3 s of real time a stack)",
    )
    parser.add_argument(
        "--import-runs",
        type=int,
        default=default.import_repetitions,
        help="paired import runs (0: skip the cold start)",
    )
    parser.add_argument(
        "--targets-only",
        action="store_true",
        help="skip the informational runs apart from a stack's first night (first nights off "
        "the model, nights that vary more)",
    )
    parser.add_argument("--jobs", type=int, default=default.jobs, help="worker processes")
    parser.add_argument(
        "--out", type=Path, default=OUT, help="where results.json and results.md go (bench/)"
    )
    args = parser.parse_args(argv)
    try:
        sizes = tuple(int(s) for s in args.sizes.split(",") if s.strip())
    except ValueError:
        parser.error(f"--sizes: {args.sizes!r} is not a comma-separated list of numbers")
    if any(s < 1 for s in sizes) or args.draws < 1 or args.fleet < 0 or args.fleet_every < 1:
        parser.error(
            "--sizes and --draws must be at least 1, --fleet at least 0, --fleet-every at least 1"
        )
    plan = Plan(sizes, args.draws, args.fleet, args.fleet_every, args.import_runs, jobs=args.jobs)
    if args.targets_only:
        plan = replace(plan, off_model=(), varied=())
    return plan, args.out


def main(argv: Sequence[str] | None = None) -> int:
    plan, out = _parse(argv)
    try:
        results = run(plan, out)
    except KeyboardInterrupt:
        print("interrupted: nothing written", file=sys.stderr)
        return 130
    return 0 if all(c.passed for c in results["verdicts_objects"]) else 1


if __name__ == "__main__":
    sys.exit(main())
