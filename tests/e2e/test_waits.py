"""Informed waits, end to end: each wait polls about when CloudFormation is done (an estimate from
the stack's size, or from this heal's own first detection), a wrong estimate costs at most one
poll, no estimate stretches a wait past MAX_WAIT_SECONDS, and the execution settles on the stack's
status alone."""

from __future__ import annotations

from collections import Counter

import pytest

from drift_healer.policy import polling
from drift_sandbox import Timing
from tests.support import Harness, Run

#: The sandbox's CloudFormation: detection 4 s + 1.5 s per resource, a change set 8 s, an
#: execution 15 s + 5 s per change.
TIMING = Timing()


def parameters(count: int) -> str:
    """A template of ``count`` SSM parameters (``/app/p0`` ...)."""
    lines = ["Resources:"]
    for n in range(count):
        lines += [
            f"  P{n}:",
            "    Type: AWS::SSM::Parameter",
            f"    Properties: {{Name: /app/p{n}, Type: String, Value: 'on'}}",
        ]
    return "\n".join(lines) + "\n"


def cloudformation_calls(harness: Harness) -> Counter[str]:
    return Counter(
        {
            action: n
            for (service, action), n in harness.sandbox.calls.items()
            if service == "cloudformation"
        }
    )


def took(run: Run) -> float:
    """Seconds from the first phase's start to the last one's end, on the runner's clock."""
    phases = run.local.phases
    start = min(p.started for p in phases if p.started)
    end = max(p.ended for p in phases if p.ended)
    return (end - start).total_seconds()


def test_each_wait_polls_about_when_cloudformation_is_done(harness: Harness) -> None:
    """A 30-resource stack, CloudFormation as fast as modelled: the heal ends within 10% of
    CloudFormation's own time, each wait asks once at once and a couple of times around the end;
    the verifying detection is expected as long as the first one took, and seen done at once."""
    harness.stack(TemplateBody=parameters(30))
    harness.sandbox.client("ssm").put_parameter(
        Name="/app/p0", Value="off", Type="String", Overwrite=True
    )
    run = harness.run({"StackName": "app"})
    assert run.outcome == "HEALED"
    own = 2 * TIMING.detection(30).total_seconds() + 8 + TIMING.execution(1).total_seconds()
    assert took(run) - own <= 0.1 * own
    assert run.attempts("detect drift: wait") <= 4
    assert run.attempts("verify: wait") == 2  # at once, then when the first detection ended
    assert run.attempts("create change set: wait") <= 3
    assert run.attempts("execute change set: wait") <= 4


def test_the_execution_settles_on_the_stack_status_alone(harness: Harness) -> None:
    """Each poll of the execution is one DescribeStacks; the change set is not read again."""
    harness.stack()
    harness.drift()
    at_execute: list[Counter[str]] = []
    harness.sandbox.faults.before_call(
        "ExecuteChangeSet", lambda: at_execute.append(cloudformation_calls(harness))
    )
    run = harness.run({"StackName": "app"})
    assert run.outcome == "HEALED"
    [before] = at_execute
    after = cloudformation_calls(harness) - before
    assert after["DescribeChangeSet"] == 0
    assert after["DescribeStacks"] == run.attempts("execute change set: wait")


def test_the_stack_size_is_read_once_per_heal_whatever_the_replays(harness: Harness) -> None:
    """The estimate is read by the first poll and checkpointed with it: the execution is
    replayed at every poll, the template is read once (in sync: nothing else reads it)."""
    harness.stack(TemplateBody=parameters(12))
    run = harness.run({"StackName": "app"})
    assert run.outcome == "IN_SYNC"
    assert harness.sandbox.calls[("cloudformation", "GetTemplate")] == 1
    state = run.local.phase("detect drift: wait").state()
    assert state["expected"] == {
        "FirstLook": polling.first_look(polling.DETECTION, 12),
        "Resources": 12,
    }


@pytest.mark.fault(
    "The stack's template cannot be read to estimate the detection",
    "the wait polls without an estimate; the heal finishes",
)
def test_without_an_estimate_the_wait_polls_geometrically_and_the_heal_finishes(
    harness: Harness,
) -> None:
    harness.stack()
    harness.sandbox.faults.deny("GetTemplate", times=1)
    run = harness.run({"StackName": "app"})
    assert run.outcome == "IN_SYNC"
    assert run.local.phase("detect drift: wait").state()["expected"]["FirstLook"] is None


def test_a_wrong_estimate_costs_at_most_one_poll(harness: Harness) -> None:
    """Detection takes 10 minutes where the model says 12 s: the informed wait polls at most
    once more than one that knows nothing (its template unreadable)."""
    harness.sandbox.engine.timing = Timing(detection_base=600)
    harness.stack()
    informed = harness.run({"StackName": "app"})
    harness.sandbox.faults.deny("GetTemplate", times=1)
    blind = harness.run({"StackName": "app"})
    assert informed.outcome == blind.outcome == "IN_SYNC"
    polls = informed.attempts("detect drift: wait")
    assert polls <= blind.attempts("detect drift: wait") + 1
    assert polls > 2  # it was wrong: the first look was too early


def test_an_estimate_beyond_the_bound_does_not_stretch_the_wait(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model says a day; the detection never ends: the wait still gives up at
    MAX_WAIT_SECONDS, having polled at once and at the bound."""
    monkeypatch.setattr(polling, "DETECTION", polling.Model(base=86_400, per_item=0))
    harness.sandbox.engine.timing = Timing(detection_base=5 * 3600)
    harness.stack()
    run = harness.run({"StackName": "app"}, max_wait_seconds=600)
    assert run.error.type.endswith("WaitTimedOut")
    assert "waited 600s" in run.error.message
    wait = run.local.phase("detect drift: wait")
    assert wait.attempts == 2
    assert wait.started is not None and wait.ended is not None
    assert (wait.ended - wait.started).total_seconds() <= 600 + 5
