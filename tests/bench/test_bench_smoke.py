"""The benchmark (``make bench``) at toy sizes: it runs end to end and reports every metric and
every target; and the two things it added to the sandbox, per-stack durations and rate limits.
The real benchmark is not part of ``make test``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from bench.__main__ import _parse
from bench.harness import Plan, run
from botocore.exceptions import ClientError

from bench import coldstart, report, single
from drift_sandbox import DurationModel, Durations, Limit, Sandbox, StackTiming
from tests.support import TEMPLATE, ManualClock, create_stack

METRICS = ("calls", "operations", "invocations", "lambda_seconds", "data_bytes", "cost")


def test_a_small_run_reports_every_metric_and_judges_every_target(tmp_path: Path) -> None:
    said: list[str] = []
    readme = report.README.read_text()
    plan = Plan(
        sizes=(5,),
        draws=1,
        fleet_stacks=4,
        fleet_every=2,
        import_repetitions=0,
        memory=False,
        off_model=(2.0,),
        off_model_sizes=(5,),
        off_model_draws=1,
        varied=(0.3,),
        varied_sizes=(5,),
        varied_draws=1,
        jobs=1,
    )

    results = run(plan, out=tmp_path, say=said.append)

    written = json.loads((tmp_path / "results.json").read_text())
    [size] = written["sizes"]
    for side in ("healer", "baseline"):
        assert size[side]["completed"] == 2, size[side]["outcomes"]  # nights 2 and 3
        for metric in (*METRICS, "cloudformation", "overhead", "overhead_share"):
            assert isinstance(size[side][metric], int | float), (side, metric)
    assert size["healer"]["calls"] > 0 and size["healer"]["invocations"] > 0
    assert set(size["ratios"]) >= {"overhead", *METRICS}
    outside_waits(written["draws"]["5"][0])
    fleet = written["fleet"]
    assert (fleet["stacks"], fleet["scheduled"], fleet["simulated"]) == (4, 4, 2)
    assert fleet["healed_or_proposed"] == 2 and fleet["failures"] == 0
    for field in ("throttled", "night_seconds", "overhead_p50", "overhead_p95", "calls"):
        assert fleet[field] is not None, field

    table = (tmp_path / "results.md").read_text()
    for heading in (
        "**One heal**",
        "**A stack's first night**",
        "**Nights that vary more**",
        "**Off the model**",
        "**Fleet night**",
        "Targets:",
    ):
        assert heading in table
    [varied] = written["varied"]
    assert (varied["size"], varied["nightly"], varied["healer"]["completed"]) == (5, 0.3, 2)
    # the heals judged are nights 2 and 3, the first night's apart
    assert [d["night"] for d in written["draws"]["5"]] == [2, 3]
    assert [d["night"] for d in written["first_night_draws"]["5"]] == [1]
    [off] = written["off_model"]
    assert (off["size"], off["scale"]) == (5, 2.0) and off["healer"]["completed"] == 1
    # the off-model heals are first nights: the same draws as the first night's, slower
    slower = written["first_night_draws"]["5"][0]["durations"]["detection"] * 2
    assert off["healer"]["cloudformation"] >= 2 * slower  # detection and verification, twice
    targets = [line for line in table.splitlines() if line.startswith(("- PASS", "- FAIL"))]
    assert len(targets) == 4 + 1  # per size: overhead, vs the poller, calls, completes; fleet
    assert len(written["verdicts"]) == len(targets) == len(results["verdicts_objects"])
    assert "README.md left alone" in "\n".join(said)
    assert report.README.read_text() == readme


#: What each side's waits poll: the healer's waits by name, the poller's.
HEALER_WAITS = {
    "detect drift: wait": "DescribeStackDriftDetectionStatus",
    "verify: wait": "DescribeStackDriftDetectionStatus",
    "create change set: wait": "DescribeChangeSet",
    "execute change set: wait": "DescribeStacks",
}
POLLER_WAITS = {
    "detection": "DescribeStackDriftDetectionStatus",
    "verification": "DescribeStackDriftDetectionStatus",
    "creation": "DescribeChangeSet",
    "execution": "DescribeStacks",
}


def outside_waits(draw: dict[str, Any]) -> None:
    """The baseline makes exactly the healer's calls outside its waits: only waiting differs."""

    def without(side: dict[str, Any], waits: dict[str, str], free_first: int) -> dict[str, int]:
        calls = dict(side["calls_by_action"])
        for wait, action in waits.items():
            calls[action] -= side["polls"][wait] - free_first
        return {action: n for action, n in calls.items() if n}

    healer = without(draw["healer"], HEALER_WAITS, free_first=1)  # the check at once asks nothing
    baseline = without(draw["baseline"], POLLER_WAITS, free_first=0)
    assert healer == baseline
    assert healer["ExecuteChangeSet"] == healer["CreateChangeSet"] == 1


def test_the_cold_start_is_timed_against_boto3_and_judged() -> None:
    cold = coldstart.measure(repetitions=1)

    for condition in ("cached", "no_bytecode"):
        timed = cold[condition]
        assert timed["handler_seconds"] > 0 and timed["boto3_seconds"] > 0
        assert timed["ratio"] == timed["handler_seconds"] / timed["boto3_seconds"]
        assert timed["handler_rss_kib"] > 0
    assert cold["artifact"]["unzipped_bytes"] > 1_000_000
    table = report.markdown(report.assemble([], None, cold, wall_seconds=1.0))
    assert "**Cold start**" in table and "| with bytecode (as the artifact ships it" in table
    assert "handler import <= 1.5x import boto3" in table


def test_one_heal_is_measured_for_peak_memory() -> None:
    measured = single.run_size(5, draws=0, measure_memory=True)["memory"]
    assert measured["outcome"] == "HEALED"
    assert measured["peak_bytes"] > 100_000


def test_the_readme_table_is_written_between_its_markers(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n## Performance\n{report.BEGIN}\nold\n{report.END}\nafter\n")

    assert "rewritten" in report.update_readme("| new |\n", readme)
    assert (
        readme.read_text() == f"# x\n## Performance\n{report.BEGIN}\n| new |\n{report.END}\nafter\n"
    )
    assert "up to date" in report.update_readme("| new |\n", readme)
    readme.write_text("# no markers\n")
    assert "no performance markers" in report.update_readme("| new |\n", readme)
    assert readme.read_text() == "# no markers\n"


# ------------------------------------------------------------------------------ the sandbox
@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def _status(cfn: Any, detection: str) -> str:
    return str(
        cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection)[
            "DetectionStatus"
        ]
    )


def test_each_stack_takes_the_durations_it_was_given(clock: ManualClock) -> None:
    timing = StackTiming(seed=7)
    timing.assign("app", Durations(detection=42.0, creation=10.0, execution=30.0))
    with Sandbox(clock=clock, timing=timing) as sandbox:
        create_stack(sandbox, "app")
        cfn = sandbox.client("cloudformation")
        detection = cfn.detect_stack_drift(StackName="app")["StackDriftDetectionId"]
        clock.advance(41)
        assert _status(cfn, detection) == "DETECTION_IN_PROGRESS"
        clock.advance(1)
        assert _status(cfn, detection) == "DETECTION_COMPLETE"


def test_drawn_durations_grow_with_the_stack_stay_in_the_spread_and_repeat() -> None:
    model = DurationModel()
    small, large = StackTiming(seed=1), StackTiming(seed=1)
    assert small.durations("a", 5) == StackTiming(seed=1).durations("a", 5)  # reproducible
    assert small.durations("a", 5) != small.durations("b", 5)  # stacks differ
    assert small.durations("a", 500) == small.durations("a", 5)  # a stack keeps its own
    for name in ("a", "b", "c", "d"):
        drawn, mean = large.durations(f"big-{name}", 500), model.mean(500)
        assert 0.5 * mean.detection <= drawn.detection <= 1.5 * mean.detection
        assert 0.5 * mean.execution <= drawn.execution <= 1.5 * mean.execution
        assert drawn.detection > 1.5 * model.mean(5).detection


def test_an_exhausted_rate_limit_throttles_until_its_bucket_refills(clock: ManualClock) -> None:
    with Sandbox(clock=clock) as sandbox:
        create_stack(sandbox, "app", TemplateBody=TEMPLATE)
        sandbox.limits.limit("cloudformation", {"DescribeStacks": Limit(rate=1.0, burst=2)})
        cfn = sandbox.client("cloudformation")
        cfn.describe_stacks(StackName="app")
        cfn.describe_stacks(StackName="app")
        with pytest.raises(ClientError) as throttled:
            cfn.describe_stacks(StackName="app")
        assert throttled.value.response["Error"]["Code"] == "Throttling"
        assert throttled.value.response["Error"]["Message"] == "Rate exceeded"
        cfn.list_change_sets(StackName="app")  # another action, not limited
        clock.advance(1)
        cfn.describe_stacks(StackName="app")
        assert sandbox.limits.throttled[("cloudformation", "DescribeStacks")] == 1
        assert sandbox.calls[("cloudformation", "DescribeStacks")] == 4


def test_the_command_line_makes_the_plan_and_targets_only_drops_the_informational_runs() -> None:
    plan, out = _parse([])
    assert plan.standard and plan.off_model and plan.varied
    plan, out = _parse(["--targets-only", "--sizes", "5,50", "--out", "/tmp/x"])
    assert (plan.sizes, plan.off_model, plan.varied, out) == ((5, 50), (), (), Path("/tmp/x"))
    assert not _parse(["--targets-only"])[0].standard  # never rewrites the README's table
