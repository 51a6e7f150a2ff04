"""What the benchmark assumes, in one place: sizes, draws, CloudFormation's timing model, prices,
the baseline poller, the account's API rate limits, the fleet night and the targets.

Every number a reader of the table needs to judge it is here, and the report prints them.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

from drift_sandbox import DurationModel, Durations, Limit

#: Fixed, so two runs draw the same scenarios.
SEED = 20261122
#: Resources per stack, and how many draws of CloudFormation's durations per size.
SIZES = (5, 50, 200, 500)
DRAWS = 20

#: How long CloudFormation takes, in seconds, for a stack of n resources (the mean; each stack's
#: durations are drawn uniformly within ±50% of it): detection 12 + 0.6·n, change-set creation
#: 15 + 0.3·n, execution 40 + 0.66·n. A heal's path (detect, create, execute, verify) is then
#: about 90 s at 5 resources and 1,160 s at 500, the heals the issue measured.
MODEL = DurationModel(
    detection_base=12.0,
    detection_per_resource=0.6,
    creation_base=15.0,
    creation_per_resource=0.3,
    execution_base=40.0,
    execution_per_resource=0.66,
    spread=0.5,
)

#: How much a stack's operation varies from one night to the next: each night, each operation
#: takes the stack's own duration (drawn above) times a factor drawn uniformly within ±10%, the
#: same for both detections of one heal. An assumption (AWS publishes nothing on it); the
#: benchmark also runs nights that vary by VARIED, informational.
NIGHTLY = 0.1
VARIED = 0.3
#: Nights each stack is healed: the heals judged are the second and later nights', when the
#: healer knows how long the stack's operations took before (as on every night but a stack's
#: first); the first night, estimated from the stack's size alone, is shown apart.
NIGHTS = 3


def tonight(own: Durations, rng: random.Random, nightly: float = NIGHTLY) -> Durations:
    """One night's durations of a stack whose own are ``own``."""
    low, high = 1 - nightly, 1 + nightly
    return Durations(
        detection=own.detection * rng.uniform(low, high),
        creation=own.creation * rng.uniform(low, high),
        execution=own.execution * rng.uniform(low, high),
    )


def drifted(resources: int) -> int:
    """How many resources of a stack drifted: one in fifty, at least one."""
    return max(1, resources // 50)


def template(resources: int) -> str:
    """A stack of ``resources`` resources: ``drifted(resources)`` SSM parameters (what drifts and
    gets reverted) and no-op wait condition handles for the rest (drift detection lists them
    NOT_CHECKED)."""
    params = drifted(resources)
    body: dict[str, object] = {
        f"Param{i}": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {
                "Name": {"Fn::Sub": f"/bench/${{AWS::StackName}}/p{i}"},
                "Type": "String",
                "Value": "on",
            },
        }
        for i in range(params)
    }
    for i in range(params, resources):
        body[f"Handle{i}"] = {"Type": "AWS::CloudFormation::WaitConditionHandle"}
    return json.dumps({"Resources": body})


def parameter_names(stack_name: str, resources: int) -> list[str]:
    """The SSM parameters of ``template(resources)`` deployed as ``stack_name``."""
    return [f"/bench/{stack_name}/p{i}" for i in range(drifted(resources))]


@dataclass(frozen=True)
class Prices:
    """Public prices (us-east-1) of what a heal uses, at the defaults (512 MB, arm64)."""

    durable_operation: float = 8.00 / 1e6
    #: Durable execution data written, per GB: an assumption (check the Lambda pricing page);
    #: a heal writes a few KB, so it never moves the total.
    data_written_gb: float = 0.25
    lambda_gb_second: float = 0.0000133
    lambda_request: float = 0.20 / 1e6
    memory_gb: float = 0.5
    #: CloudFormation's API calls cost nothing; they are counted, not priced.
    api_call: float = 0.0

    def cost(
        self, operations: int, data_bytes: int, lambda_seconds: float, invocations: int
    ) -> float:
        return (
            operations * self.durable_operation
            + data_bytes / 1e9 * self.data_written_gb
            + lambda_seconds * self.memory_gb * self.lambda_gb_second
            + invocations * self.lambda_request
        )


PRICES = Prices()


@dataclass(frozen=True)
class Baseline:
    """The fixed-interval poller the healer is compared with: a poll every 30 s while drift is
    detected and the change set created, every 60 s while it executes, giving up after 10 polls
    of one wait."""

    detection_interval: float = 30.0
    creation_interval: float = 30.0
    execution_interval: float = 60.0
    max_polls: int = 10


BASELINE = Baseline()

#: The account's CloudFormation API rate limits in the fleet night: a token bucket per action
#: (requests a second, burst). AWS publishes no per-action rates for CloudFormation; these are
#: assumptions, deliberately tight: half a call a second for the calls that start work, a few a
#: second for reads; any other CloudFormation action gets CFN_DEFAULT_LIMIT.
CFN_DEFAULT_LIMIT = Limit(2.0, 4)
CFN_LIMITS: dict[str, Limit] = {
    "DetectStackDrift": Limit(0.5, 2),
    "CreateChangeSet": Limit(0.5, 2),
    "ExecuteChangeSet": Limit(0.5, 2),
    "DeleteChangeSet": Limit(1.0, 2),
    "DescribeStacks": Limit(4.0, 8),
    "DescribeStackDriftDetectionStatus": Limit(4.0, 8),
    "DescribeChangeSet": Limit(4.0, 8),
    "DescribeStackResourceDrifts": Limit(2.0, 4),
    "ListChangeSets": Limit(2.0, 4),
    "GetTemplate": Limit(2.0, 4),
}


@dataclass(frozen=True)
class Fleet:
    """The fleet night: every stack enrolled by tag, the reconciler's schedules (the defaults:
    02:00 UTC, starts spread over 180 minutes by a hash of the stack's ARN, Scheduler's flexible
    window of 15 minutes on top), heals in heal mode, the limits above."""

    stacks: int = 1000
    #: Simulate every ``every``-th stack (in order of start time) with its start times
    #: compressed by the same factor, so the sample meets the fleet's arrival rate, and with it
    #: the same load on the rate limits; 1 simulates every stack.
    every: int = 5
    #: (resources, share of the fleet)
    sizes: tuple[tuple[int, float], ...] = ((5, 0.5), (50, 0.3), (200, 0.15), (500, 0.05))
    expression: str = "cron(0 2 * * ? *)"
    spread_minutes: int = 180
    flexible_minutes: int = 15
    #: Every heal must have ended this long after the schedule's time (02:00 to 06:00).
    night_hours: float = 4.0
    limits: dict[str, Limit] = field(default_factory=lambda: dict(CFN_LIMITS))


FLEET = Fleet()


@dataclass(frozen=True)
class Targets:
    """What the benchmark checks (the issue's targets); never relaxed to make a run pass."""

    overhead_share: float = 0.10
    import_ratio: float = 1.5


TARGETS = Targets()
