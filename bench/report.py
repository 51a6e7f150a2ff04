"""From the measurements to the verdicts: medians and ratios per size, the fleet night, the cold
start, PASS or FAIL per target, as Markdown (printed, written to bench/results.md and, after a
standard run, into the README between its ``performance`` markers) and as JSON."""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import coldstart, model

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BEGIN = "<!-- performance:begin (written by make bench: bench/report.py) -->"
END = "<!-- performance:end -->"


@dataclass(frozen=True)
class Verdict:
    target: str
    passed: bool
    detail: str

    def line(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'}  {self.target}: {self.detail}"


# ------------------------------------------------------------------------------ per size
def size_summary(run: dict[str, Any]) -> dict[str, Any]:
    """Medians of every metric for the healer and the poller at one size, and their ratios."""
    draws = run["draws"]
    healer = [d["healer"] for d in draws]
    baseline = [d["baseline"] for d in draws]
    out: dict[str, Any] = {"size": run["size"], "draws": len(draws)}
    for who, heals in (("healer", healer), ("baseline", baseline)):
        done = [h for h in heals if h["completed"]]
        # what a heal costs is what a completed one costs (one that gave up spent less on a
        # heal that did not happen); if none completed, what the attempts cost
        counted = done or heals
        out[who] = {
            "completed": len(done),
            "outcomes": sorted({h["outcome"] for h in heals}),
            "cloudformation": _median([h["cloudformation"] for h in done]),
            "overhead": _median([h["overhead"] for h in done]),
            "overhead_share": _median([h["overhead"] / h["cloudformation"] for h in done]),
            **{
                metric: _median([h[metric] for h in counted])
                for metric in (
                    "calls",
                    "operations",
                    "invocations",
                    "lambda_seconds",
                    "data_bytes",
                    "cost",
                )
            },
        }
    out["ratios"] = {
        metric: _ratio(out["healer"][metric], out["baseline"][metric])
        for metric in (
            "overhead",
            "calls",
            "operations",
            "invocations",
            "lambda_seconds",
            "data_bytes",
            "cost",
        )
    }
    return out


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


# ------------------------------------------------------------------------------ verdicts
def verdicts(
    sizes: list[dict[str, Any]], fleet: dict[str, Any] | None, cold: dict[str, Any] | None
) -> list[Verdict]:
    out: list[Verdict] = []
    limit = model.TARGETS.overhead_share
    for s in sizes:
        h, b, n = s["healer"], s["baseline"], s["size"]
        share = h["overhead_share"]
        out.append(
            Verdict(
                f"{n} resources: median overhead <= {limit:.0%} of CloudFormation's time",
                share is not None and share <= limit,
                "no heal completed" if share is None else f"{share:.1%}",
            )
        )
        below = h["overhead"] is not None and (
            b["overhead"] is None or h["overhead"] < b["overhead"]
        )
        out.append(
            Verdict(
                f"{n} resources: median overhead below the fixed poller's",
                below,
                f"{_s(h['overhead'])} vs {_s(b['overhead'])}",
            )
        )
        out.append(
            Verdict(
                f"{n} resources: CloudFormation API calls and durable operations <= the poller's",
                h["calls"] <= b["calls"] and h["operations"] <= b["operations"],
                f"calls {h['calls']:g} vs {b['calls']:g}, operations "
                f"{h['operations']:g} vs {b['operations']:g}",
            )
        )
        out.append(
            Verdict(
                f"{n} resources: every heal completes",
                h["completed"] == s["draws"],
                f"{h['completed']}/{s['draws']} (the poller: {b['completed']}/{s['draws']})",
            )
        )
    if fleet is not None:
        whole = fleet["every"] == 1
        healed, simulated = fleet["healed_or_proposed"], fleet["simulated"]
        inside = fleet["night_seconds"] <= fleet["night_window_seconds"]
        out.append(
            Verdict(
                f"fleet: {fleet['stacks']:,} of {fleet['stacks']:,} healed or proposed, "
                "0 failures, inside one night window"
                + ("" if whole else f" (sampled: 1 in {fleet['every']} simulated)"),
                fleet["scheduled"] == fleet["stacks"]
                and healed == simulated
                and fleet["failures"] == 0
                and inside,
                f"{fleet['scheduled']:,} scheduled, {healed}/{simulated} simulated healed or "
                f"proposed, {fleet['failures']} failures, night {_hm(fleet['night_seconds'])}"
                f"{'' if whole else ' (estimated)'} of {_hm(fleet['night_window_seconds'])}",
            )
        )
    if cold is not None:
        cached = cold["cached"]
        out.append(
            Verdict(
                f"handler import <= {model.TARGETS.import_ratio:g}x import boto3",
                cached["ratio"] <= model.TARGETS.import_ratio,
                f"{cached['ratio']:.2f}x ({cached['handler_seconds']:.2f} s vs "
                f"{cached['boto3_seconds']:.2f} s; without bytecode: "
                f"{cold['no_bytecode']['ratio']:.2f}x; its dependencies alone: "
                f"{cached['dependencies_ratio']:.2f}x)",
            )
        )
    return out


# ------------------------------------------------------------------------------ Markdown
def markdown(results: dict[str, Any]) -> str:
    """The tables and verdicts of a run (what the README's Performance section holds)."""
    lines = [
        f"Measured {results['date']} on {results['machine']}; `make bench` took "
        f"{results['wall_seconds']:.0f} s.",
        "",
    ]
    sizes = results["sizes"]
    if sizes:
        draws = sizes[0]["draws"]
        model_text = results["assumptions"]["cloudformation_seconds"]
        lines += [
            f"**One heal**, medians of {draws} heals per size ({draws // max(1, model.NIGHTS - 1)} "
            f"stacks, nights 2 to {model.NIGHTS}): the healer knows how long the stack's "
            "operations took before, as on every night but its first (shown apart below). "
            "CloudFormation's durations per stack of n "
            f"resources: detection {model_text['detection']}, change set "
            f"{model_text['change_set_creation']}, execution {model_text['execution']} "
            f"seconds, each stack's own drawn uniformly within ±50% (seed {model.SEED}), and "
            f"each night within ±{model.NIGHTLY:.0%} of the stack's own (assumed); one resource "
            "in fifty drifted. Overhead: the end-to-end time beyond CloudFormation's own "
            "(detect, create the change set, execute, verify), of the heals that completed.",
            "",
            "| resources | CloudFormation | overhead, healer | overhead, fixed poller | "
            "healer / poller | completed (healer, poller) |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        for s in sizes:
            h, b = s["healer"], s["baseline"]
            lines.append(
                f"| {s['size']} | {_s(h['cloudformation'])} | {_share(h)} | {_share(b)} | "
                f"{_x(s['ratios']['overhead'])} | {h['completed']}/{draws}, "
                f"{b['completed']}/{draws} |"
            )
        lines += [
            "",
            "Per completed heal, healer vs fixed poller (ratio). The poller is costed as the "
            "same loop written as a durable function: a durable operation per call and per "
            "poll, an invocation per sleep, each as long as the healer's median invocation:",
            "",
            "| resources | CloudFormation API calls | durable operations | invocations | "
            "Lambda seconds | data written | cost (USD) |",
            "|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for s in sizes:
            h, b, r = s["healer"], s["baseline"], s["ratios"]
            lines.append(
                f"| {s['size']} | {h['calls']:g} vs {b['calls']:g} ({_x(r['calls'])}) | "
                f"{h['operations']:g} vs {b['operations']:g} ({_x(r['operations'])}) | "
                f"{h['invocations']:g} vs {b['invocations']:g} | "
                f"{h['lambda_seconds']:.2f} vs {b['lambda_seconds']:.2f} | "
                f"{h['data_bytes'] / 1024:.1f} vs {b['data_bytes'] / 1024:.1f} KiB | "
                f"{h['cost']:.6f} vs {b['cost']:.6f} ({_x(r['cost'])}) |"
            )
        lines.append("")
    first = results.get("first_night") or []
    if first:
        lines += [
            "**A stack's first night** (informational, no target): the same draws the night "
            "before, when the healer has no timings of the stack yet and estimates from its "
            "size alone:",
            "",
            *_brief(first, lambda s: _s(s["healer"]["cloudformation"])),
        ]
    varied = results.get("varied") or []
    if varied:
        lines += [
            "**Nights that vary more** (informational, no target): the same heals, each night "
            "within the share shown of the stack's own durations instead of "
            f"±{model.NIGHTLY:.0%} ({varied[0]['draws']} heals each, nights 2 to "
            f"{model.NIGHTS}):",
            "",
            *_brief(
                varied,
                lambda s: f"±{s['nightly']:.0%}: {_s(s['healer']['cloudformation'])}",
            ),
        ]
    off = results.get("off_model") or []
    if off:
        lines += [
            "**Off the model** (informational, no target): first nights with CloudFormation "
            "slower or faster than the model the healer estimates from, by the factor shown "
            f"({off[0]['draws']} draws each). A wrong estimate costs latency or a few polls, "
            "never a heal:",
            "",
            *_brief(off, lambda s: f"x{s['scale']:g}: {_s(s['healer']['cloudformation'])}"),
        ]
    fleet = results["fleet"]
    if fleet is not None:
        sample = (
            "every stack simulated"
            if fleet["every"] == 1
            else f"a sample: 1 stack in {fleet['every']} simulated, {fleet['simulated']} in "
            "all, their start times compressed alike so they arrive at the fleet's rate; the "
            "whole fleet's night is estimated as its last scheduled start plus the longest "
            "simulated heal"
        )
        lines += [
            f"**Fleet night**: {fleet['stacks']:,} stacks enrolled by tag and scheduled by the "
            f"reconciler ({fleet['scheduled']:,} schedules, 02:00 UTC spread over "
            f"{fleet['spread_minutes']} min, flexible window {fleet['flexible_minutes']} "
            f"min), every stack drifted, CloudFormation API rate limits per action ({sample}):",
            "",
            "Rate limits (requests a second, burst; assumed: AWS publishes none): "
            + ", ".join(
                f"{action} {limit['rate']:g}/{limit['burst']}"
                for action, limit in fleet["limits"].items()
            )
            + f", any other action {fleet['default_limit']['rate']:g}/"
            f"{fleet['default_limit']['burst']}.",
            "",
            "| healed or proposed | failures | throttles absorbed | CloudFormation calls | "
            "night (from 02:00) | overhead p50 | overhead p95 |",
            "|---:|---:|---:|---:|---:|---:|---:|",
            f"| {fleet['healed_or_proposed']}/{fleet['simulated']} | {fleet['failures']} | "
            f"{fleet['throttled']} | {fleet['calls']:,} | {_hm(fleet['night_seconds'])} of "
            f"{_hm(fleet['night_window_seconds'])} | {_s(fleet['overhead_p50'])} | "
            f"{_s(fleet['overhead_p95'])} |",
            "",
        ]
    cold = results["cold_start"]
    if cold is not None:
        c, n = cold["cached"], cold["no_bytecode"]
        art = cold["artifact"]
        memory = results.get("memory")
        lines += [
            f"**Cold start** (fresh interpreters, {c['repetitions']} paired runs, medians):",
            "",
            "| import | drift_healer.handler | boto3 alone | ratio | its dependencies alone "
            "(ratio) |",
            "|---|---:|---:|---:|---:|",
            f"| with bytecode (as the artifact ships it, built with Python 3.13 at hand) | "
            f"{c['handler_seconds']:.2f} s | {c['boto3_seconds']:.2f} s | "
            f"{c['ratio']:.2f}x | {c['dependencies_seconds']:.2f} s "
            f"({c['dependencies_ratio']:.2f}x) |",
            "| no bytecode (an artifact built without Python 3.13) | "
            f"{n['handler_seconds']:.2f} s | {n['boto3_seconds']:.2f} s | {n['ratio']:.2f}x | "
            f"{n['dependencies_seconds']:.2f} s "
            f"({n['dependencies_ratio']:.2f}x) |",
            "",
            "Its dependencies: `"
            + coldstart.DEPENDENCIES
            + "`, the durable SDK, pydantic-settings "
            "and Powertools' metrics, which the healer is built on.",
            "",
            f"Memory: {c['handler_rss_kib'] / 1024:.0f} MiB resident after importing the "
            "handler"
            + (
                f"; {memory['peak_bytes'] / 2**20:.1f} MiB peak Python allocations during one "
                f"{memory['resources']}-resource heal (the emulated AWS in the same process "
                "included)"
                if memory
                else ""
            )
            + f". Artifact: {art['unzipped_bytes'] / 2**20:.1f} MiB unzipped"
            + (f", {art['zipped_bytes'] / 2**20:.1f} MiB zipped" if art["zipped_bytes"] else "")
            + f", Lambda allows 250 MiB ({art['source']}).",
            "",
        ]
    lines += ["Targets:", ""]
    lines += [f"- {v.line()}" for v in results["verdicts_objects"]]
    return "\n".join(lines) + "\n"


def _brief(
    rows: list[dict[str, Any]], cloudformation: Callable[[dict[str, Any]], str]
) -> list[str]:
    """A short table of overhead and calls, healer vs poller, per row."""
    lines = [
        "| resources | CloudFormation | overhead, healer | overhead, fixed poller | "
        "calls, healer vs poller | completed (healer, poller) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for s in rows:
        h, b, n = s["healer"], s["baseline"], s["draws"]
        lines.append(
            f"| {s['size']} | {cloudformation(s)} | {_share(h)} | {_share(b)} | "
            f"{h['calls']:g} vs {b['calls']:g} | {h['completed']}/{n}, {b['completed']}/{n} |"
        )
    return [*lines, ""]


def _s(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.1f} s"


def _share(side: dict[str, Any]) -> str:
    if side["overhead"] is None:
        return "-"
    return f"{side['overhead']:.1f} s ({side['overhead_share']:.0%})"


def _x(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}x"


def _hm(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


# ------------------------------------------------------------------------------ the run
def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )


def assemble(
    sizes: list[dict[str, Any]],
    fleet: dict[str, Any] | None,
    cold: dict[str, Any] | None,
    wall_seconds: float,
    off_model: list[dict[str, Any]] | None = None,
    varied: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Everything of a run, JSON-ready except ``verdicts_objects`` (dropped when written)."""
    summaries = [size_summary(run) for run in sorted(sizes, key=lambda r: r["size"])]
    off = [
        {**size_summary(run), "scale": run["scale"]}
        for run in sorted(off_model or [], key=lambda r: (r["scale"], r["size"]))
    ]
    first = [
        size_summary({"size": run["size"], "draws": run["first_night"]})
        for run in sorted(sizes, key=lambda r: r["size"])
        if run.get("first_night")
    ]
    memory = next((run["memory"] for run in sizes if run.get("memory")), None)
    checks = verdicts(summaries, fleet, cold)
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "wall_seconds": wall_seconds,
        "assumptions": assumptions(),
        "sizes": summaries,
        "first_night": first,
        "off_model": off,
        "varied": [
            {**size_summary(run), "nightly": run["nightly"]}
            for run in sorted(varied or [], key=lambda r: (r["nightly"], r["size"]))
        ],
        "draws": {str(run["size"]): run["draws"] for run in sizes},
        "first_night_draws": {
            str(run["size"]): run["first_night"] for run in sizes if run.get("first_night")
        },
        "memory": memory,
        "fleet": fleet,
        "cold_start": cold,
        "verdicts": [asdict(v) for v in checks],
        "verdicts_objects": checks,
    }


def assumptions() -> dict[str, Any]:
    m = model.MODEL
    return {
        "seed": model.SEED,
        "cloudformation_seconds": {
            "detection": f"{m.detection_base:g} + {m.detection_per_resource:g}·n",
            "change_set_creation": f"{m.creation_base:g} + {m.creation_per_resource:g}·n",
            "execution": f"{m.execution_base:g} + {m.execution_per_resource:g}·n",
            "spread": f"uniform within +-{m.spread:.0%} of each, per stack",
            "nightly": f"uniform within +-{model.NIGHTLY:.0%} of the stack's own, per night",
            "nights": model.NIGHTS,
        },
        "drifted_resources": "1 in 50, at least 1",
        "prices": asdict(model.PRICES),
        "baseline": asdict(model.BASELINE),
        "rate_limits": {a: asdict(limit) for a, limit in model.CFN_LIMITS.items()},
        "rate_limit_default": asdict(model.CFN_DEFAULT_LIMIT),
        "healer_settings": "HealMode=heal, opt-in tag, SNS, HISTORY_BUCKET (no change records); "
        "AWS_MAX_ATTEMPTS=1 (botocore's retries sleep in real time; the healer's durable "
        "retries absorb throttling)",
    }


def update_readme(block: str, readme: Path = README) -> str:
    """Put ``block`` between the README's performance markers; says what it did."""
    if not readme.exists():
        return "no README.md: the table is in bench/results.md"
    text = readme.read_text()
    if BEGIN not in text or END not in text:
        return (
            "README.md has no performance markers: the table is in bench/results.md "
            f"(add {BEGIN} and {END} where it belongs)"
        )
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    new = "\n" + block
    if text[start:end] == new:
        return "README.md's Performance section is up to date"
    readme.write_text(text[:start] + new + text[end:])
    return "README.md's Performance section was rewritten from this run"
