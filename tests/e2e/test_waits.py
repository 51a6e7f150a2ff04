"""Informed waits, end to end: each wait polls about when CloudFormation is done (an estimate from
the stack's size, or from this heal's own first detection), a wrong estimate costs at most one
poll, no estimate stretches a wait past MAX_WAIT_SECONDS, a wait for work the heal has just
started asks nothing at once, and the execution settles on the stack's status alone."""

from __future__ import annotations

from collections import Counter

import pytest

from drift_healer.policy import polling, timings
from drift_sandbox import Timing
from tests.support import Harness, Run

#: CloudFormation exactly as the healer models it (policy.polling) for a stack of 30 resources.
AS_MODELLED = Timing(
    detection_base=polling.DETECTION.seconds(30),
    detection_per_resource=0,
    change_set_creation=polling.CHANGE_SET.seconds(30),
    execution_base=polling.EXECUTION.seconds(30),
    execution_per_change=0,
)
#: A YAML template whose resources the healer does not count (flow style): no estimate.
UNCOUNTED = (
    "Parameters: {Env: {Type: String}}\n"
    "Resources: {P: {Type: AWS::SSM::Parameter, Properties: {Name: /u, Type: String, "
    "Value: 'on'}}}\n"
)


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
    """A 30-resource stack, CloudFormation as fast as modelled: the heal ends within 15% of
    CloudFormation's own time (waits this short may poll only a few times, see policy.polling;
    longer ones come closer, see make bench); each wait checks at once without asking
    (CloudFormation has only just started), then polls a few times from half the model's time
    on; the verifying
    detection is expected as long as the first one took, and seen done at its first poll."""
    harness.sandbox.engine.timing = AS_MODELLED
    harness.stack(TemplateBody=parameters(30))
    harness.sandbox.client("ssm").put_parameter(
        Name="/app/p0", Value="off", Type="String", Overwrite=True
    )
    run = harness.run({"StackName": "app"})
    assert run.outcome == "HEALED"
    own = (
        2 * AS_MODELLED.detection(30).total_seconds()
        + AS_MODELLED.creation().total_seconds()
        + AS_MODELLED.execution(1).total_seconds()
    )
    assert took(run) - own <= 0.15 * own
    assert run.attempts("detect drift: wait") <= 6
    assert run.attempts("verify: wait") == 2  # the check at once, then when the first ended
    assert run.attempts("create change set: wait") <= 6
    assert run.attempts("execute change set: wait") <= 7
    waits = ("detect drift: wait", "verify: wait", "create change set: wait")
    assert (
        harness.sandbox.calls[("cloudformation", "DescribeStackDriftDetectionStatus")]
        + harness.sandbox.calls[("cloudformation", "DescribeChangeSet")]
        == sum(run.attempts(w) - 1 for w in waits) + 1
    )  # read changes: the one DescribeChangeSet outside the waits


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
    # the check at once asks nothing: the execution has only just started
    assert after["DescribeStacks"] == run.attempts("execute change set: wait") - 1


def test_the_stack_size_is_read_once_per_heal_whatever_the_replays(harness: Harness) -> None:
    """The template is read once, in a step, for its size and its secrets: the execution is
    replayed at every poll, the template is not read again."""
    harness.stack(TemplateBody=parameters(12))
    run = harness.run({"StackName": "app"})
    assert run.outcome == "IN_SYNC"
    assert harness.sandbox.calls[("cloudformation", "GetTemplate")] == 1
    state = run.local.phase("detect drift: wait").state()
    assert state["expected"] == {
        "FirstLook": polling.first_look(polling.DETECTION, 12),
        "Resources": 12,
    }


def test_without_an_estimate_the_wait_polls_geometrically_and_the_heal_finishes(
    harness: Harness,
) -> None:
    """A template whose resources the healer does not count: no estimate, the geometric
    schedule, and the heal finishes all the same."""
    harness.stack(TemplateBody=UNCOUNTED)
    run = harness.run({"StackName": "app"})
    assert run.outcome == "IN_SYNC"
    assert run.local.phase("detect drift: wait").state()["expected"]["FirstLook"] is None


@pytest.mark.fault(
    "The stack's template cannot be read (GetTemplate refused)",
    "FAILED before any detection, the permission named; nothing was changed",
)
def test_an_unreadable_template_fails_the_heal_before_it_changes_anything(
    harness: Harness,
) -> None:
    """Without its template the heal cannot tell which values are secrets: it stops at once."""
    harness.stack()
    harness.drift()
    harness.sandbox.faults.deny("GetTemplate", times=1)
    run = harness.run({"StackName": "app"})
    assert run.error.type.endswith("AccessDenied")
    assert "read template" in run.error.message and "GetTemplate" in run.error.message
    for action in ("DetectStackDrift", "CreateChangeSet", "ExecuteChangeSet"):
        assert harness.sandbox.calls[("cloudformation", action)] == 0, action
    assert "GetTemplate" in run.failure_note()


def test_a_wrong_estimate_costs_at_most_one_poll(harness: Harness) -> None:
    """Detection takes 10 minutes where the model says about 12 s: the informed wait polls at
    most once more than one that knows nothing (its template's resources uncounted)."""
    harness.sandbox.engine.timing = Timing(detection_base=600, detection_per_resource=0)
    harness.stack()
    informed = harness.run({"StackName": "app"})
    harness.stack(name="blind", TemplateBody=UNCOUNTED)
    blind = harness.run({"StackName": "blind"})
    assert informed.outcome == blind.outcome == "IN_SYNC"
    polls = informed.attempts("detect drift: wait")
    assert polls <= blind.attempts("detect drift: wait") + 1
    assert polls > 2  # it was wrong: the first look was too early


def test_an_estimate_beyond_the_bound_does_not_stretch_the_wait(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model says a day; the detection never ends: the wait still gives up at
    MAX_WAIT_SECONDS, having polled at once and at the bound."""
    monkeypatch.setitem(timings.MODELS, "Detection", polling.Model(base=86_400, per_item=0))
    harness.sandbox.engine.timing = Timing(detection_base=5 * 3600)
    harness.stack()
    run = harness.run({"StackName": "app"}, max_wait_seconds=600)
    assert run.error.type.endswith("WaitTimedOut")
    assert "waited 600s" in run.error.message
    wait = run.local.phase("detect drift: wait")
    assert wait.attempts == 2
    assert wait.started is not None and wait.ended is not None
    assert (wait.ended - wait.started).total_seconds() <= 600 + 5


def test_estimates_can_be_turned_off(harness: Harness) -> None:
    """POLL_ESTIMATES=false (the CLI's --sandbox, whose CloudFormation is far faster than AWS's):
    every wait polls on the geometric schedule, the template read all the same."""
    harness.stack(TemplateBody=parameters(12))
    run = harness.run({"StackName": "app"}, poll_estimates=False)
    assert run.outcome == "IN_SYNC"
    assert run.local.phase("detect drift: wait").state()["expected"]["FirstLook"] is None
