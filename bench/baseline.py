"""The baseline: the same heal with fixed-interval waits.

It makes every call the healer makes outside its waits, in the same order (describe the stack,
list its change sets, read the template, detect drift, read the drift, create the REVERT_DRIFT
change set, read its changes, list the change sets again and execute, detect again, publish the
notification): the reads that keep a heal safe are not what is compared. Only the waits differ:
a poll every 30 s while drift is detected and the change set created, every 60 s while it
executes, each wait giving up after 10 polls. ``tests/bench`` checks that both make the same calls
outside their waits.

It runs against the same sandbox and the same virtual clock as the healer. For the cost columns
it is costed as the same loop written as a durable function with the same SDK: one durable
operation for the execution, one per step (each call outside the waits, the metrics, the
notification), one per wait's first check and one per poll; one invocation per sleep (plus the
first), each as long as the healer's own median invocation.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .clock import RunnerClock
from .model import Baseline


@dataclass
class Poll:
    """What the poller did: its steps and polls, the bytes a durable version would checkpoint."""

    outcome: str = ""
    steps: int = 0
    polls: int = 0
    sleeps: int = 0
    data_bytes: int = 0
    waits: dict[str, int] = field(default_factory=dict)

    @property
    def completed(self) -> bool:
        return self.outcome == "HEALED"

    @property
    def operations(self) -> int:
        return 1 + self.steps + len(self.waits) + self.polls

    @property
    def invocations(self) -> int:
        return 1 + self.sleeps


class _GaveUp(Exception):
    pass


class FixedPoller:
    """Heal one stack the plain way (see the module's text)."""

    def __init__(
        self, cfn: Any, sns: Any, topic: str, clock: RunnerClock, config: Baseline
    ) -> None:
        self.cfn, self.sns, self.topic = cfn, sns, topic
        self.clock = clock
        self.config = config
        self.run = Poll()

    def heal(self, stack_name: str) -> Poll:
        try:
            self._heal(stack_name)
        except _GaveUp as gave_up:
            self.run.outcome = f"GAVE UP ({gave_up})"
        self._step(lambda: None)  # the metrics
        self._step(
            lambda: self.sns.publish(
                TopicArn=self.topic, Subject=f"{self.run.outcome}: {stack_name}", Message="..."
            )
        )
        return self.run

    def _heal(self, stack_name: str) -> None:
        cfg = self.config
        stack = self._step(lambda: self.cfn.describe_stacks(StackName=stack_name))["Stacks"][0]
        self._step(lambda: self.cfn.list_change_sets(StackName=stack_name))
        self._step(
            lambda: self.cfn.get_template(StackName=stack_name, TemplateStage="Processed"),
            keep=False,
        )
        status = self._detect(stack_name, "detection")
        if status["StackDriftStatus"] != "DRIFTED":
            self.run.outcome = status["StackDriftStatus"]
            return
        self._step(lambda: self._all_drifts(stack_name))
        created = self._step(
            lambda: self.cfn.create_change_set(
                StackName=stack_name,
                ChangeSetName="fixed-poller-revert",
                ChangeSetType="UPDATE",
                DeploymentMode="REVERT_DRIFT",
                UsePreviousTemplate=True,
                Parameters=[
                    {"ParameterKey": p["ParameterKey"], "UsePreviousValue": True}
                    for p in stack.get("Parameters", [])
                ],
                Capabilities=stack.get("Capabilities", []),
            )
        )
        change_set = self._wait(
            "creation",
            cfg.creation_interval,
            lambda: self.cfn.describe_change_set(ChangeSetName=created["Id"]),
            lambda s: s["Status"] in ("CREATE_COMPLETE", "FAILED"),
        )
        if change_set["Status"] != "CREATE_COMPLETE":
            self.run.outcome = f"CHANGE SET {change_set['Status']}"
            return
        self._step(
            lambda: self.cfn.describe_change_set(
                ChangeSetName=created["Id"], IncludePropertyValues=True
            ),
            keep=False,
        )
        self._step(lambda: self.cfn.list_change_sets(StackName=stack_name))
        self._step(lambda: self.cfn.execute_change_set(ChangeSetName=created["Id"]), count=False)
        final = self._wait(
            "execution",
            cfg.execution_interval,
            lambda: self.cfn.describe_stacks(StackName=stack_name)["Stacks"][0],
            lambda s: not s["StackStatus"].endswith("_IN_PROGRESS"),
        )
        if final["StackStatus"] != "UPDATE_COMPLETE":
            self.run.outcome = f"EXECUTION {final['StackStatus']}"
            return
        verified = self._detect(stack_name, "verification")
        self.run.outcome = "HEALED" if verified["StackDriftStatus"] == "IN_SYNC" else "DRIFTED"

    # ------------------------------------------------------------------------------ helpers
    def _detect(self, stack_name: str, wait: str) -> Any:
        started = self._step(lambda: self.cfn.detect_stack_drift(StackName=stack_name))
        detection = started["StackDriftDetectionId"]
        return self._wait(
            wait,
            self.config.detection_interval,
            lambda: self.cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection),
            lambda s: s["DetectionStatus"] != "DETECTION_IN_PROGRESS",
        )

    def _all_drifts(self, stack_name: str) -> list[Any]:
        drifts: list[Any] = []
        token: str | None = None
        while True:
            page = self.cfn.describe_stack_resource_drifts(
                StackName=stack_name,
                StackResourceDriftStatusFilters=["MODIFIED", "DELETED"],
                **({"NextToken": token} if token else {}),
            )
            drifts += page["StackResourceDrifts"]
            token = page.get("NextToken")
            if not token:
                return drifts

    def _step(self, call: Callable[[], Any], count: bool = True, keep: bool = True) -> Any:
        """A call outside the waits. ``count=False``: made in the step before (the healer lists
        the change sets and executes in one step); ``keep=False``: read inside a step that
        checkpoints only a verdict (the healer keeps no template and no changes)."""
        answer = call()
        self.run.steps += count
        if keep:
            self._written(answer)
        return answer

    def _wait(
        self,
        name: str,
        interval: float,
        poll: Callable[[], Any],
        done: Callable[[Any], bool],
    ) -> Any:
        """Sleep ``interval``, poll, until ``done`` or ``max_polls`` polls."""
        for polls in range(1, self.config.max_polls + 1):
            self.clock.sleep(interval)
            self.run.sleeps += 1
            answer = poll()
            self.run.polls += 1
            self._written(answer)
            if done(answer):
                self.run.waits[name] = polls
                return answer
        self.run.waits[name] = self.config.max_polls
        raise _GaveUp(f"{name} not done after {self.config.max_polls} polls")

    def _written(self, answer: Any) -> None:
        if isinstance(answer, dict):
            answer = {k: v for k, v in answer.items() if k != "ResponseMetadata"}
        self.run.data_bytes += len(json.dumps(answer, default=str).encode())
