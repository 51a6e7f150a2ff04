"""The healing workflow: the only module that touches DurableContext.

    validate ─► pre-flight ─► detect ─► read drift ─► REVERT_DRIFT change set ─► assess
      ─► decide ─► execute ─► verify ─► notify ─► result

Every AWS call and every clock read runs inside a step (or a wait_for_condition check), so a
replay reads the checkpoint instead of asking again. Step results are plain JSON. Every wait on
CloudFormation is a durable wait: nothing runs, nothing is billed, while CloudFormation works.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_durable_execution_sdk_python import DurableContext
from aws_durable_execution_sdk_python.config import Duration, StepConfig
from aws_durable_execution_sdk_python.retries import RetryStrategyConfig, create_retry_strategy
from aws_durable_execution_sdk_python.waits import (
    WaitForConditionConfig,
    WaitForConditionDecision,
)
from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from . import aws, notify, telemetry
from . import cloudformation as cfn
from .errors import (
    ChangeSetFailed,
    DetectionFailed,
    ExecutionFailed,
    HealError,
    InvalidRequest,
    NotSupported,
    StackNotFound,
    WaitTimedOut,
)
from .models import (
    ChangeSetInfo,
    DriftedResource,
    HealRequest,
    HealResult,
    Outcome,
    Risk,
    Verification,
)
from .policy import naming, polling, preflight, risk
from .settings import Settings

logger = Logger(service="drift-healer")
Clock = Callable[[], float]
_DONE_EXECUTING = frozenset({"EXECUTE_COMPLETE", "EXECUTE_FAILED", "OBSOLETE"})


def parse_request(event: Any) -> HealRequest:
    """Validate the event before any AWS call; the error names the field and the fix."""
    if not isinstance(event, dict):
        raise InvalidRequest(
            'the event must be a JSON object like {"StackName": "app"}, '
            f"got {type(event).__name__}"
        )
    try:
        request = HealRequest.model_validate(event)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'event'}: {_explain(e)}"
            for e in error.errors()
        )
        raise InvalidRequest(f"invalid heal request: {problems}") from None
    if request.require_approval:
        raise NotSupported(
            "RequireApproval is not supported yet: use CreateChangeSetOnly and execute the "
            "change set after review"
        )
    return request


def _explain(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return (
            "unknown field (allowed: StackName, CreateChangeSetOnly, DryRun, RequireApproval, "
            "Region, RoleArn; names are case-sensitive)"
        )
    if error["type"] == "missing":
        return "required"
    return str(error["msg"]).removeprefix("Value error, ")


@dataclass(frozen=True)
class Decision:
    """What to do with a change set, and why."""

    execute: bool
    reason: str


def decide(request: HealRequest, level: Risk, reasons: list[str]) -> Decision:
    """Pure: execute only a LOW risk change set, and only when not asked to stop before."""
    if request.create_change_set_only:
        return Decision(False, "change set created for review, as requested (CreateChangeSetOnly)")
    if level is not Risk.LOW:
        return Decision(
            False,
            "not executed: the change set is HIGH risk and is left for review ("
            + "; ".join(reasons)
            + ")",
        )
    return Decision(True, "LOW risk change set executed")


class Heal:
    """One execution healing one stack. Each phase is one method."""

    def __init__(
        self,
        context: DurableContext,
        request: HealRequest,
        settings: Settings,
        clock: Clock,
    ) -> None:
        self.ctx = context
        self.request = request
        self.settings = settings
        self.clock = clock
        self.execution = context.state.durable_execution_arn
        self.region = request.region or _region_of(request.stack_name) or aws.default_region()
        self.stack_id: str | None = None
        self.drifted: list[DriftedResource] = []
        self.change_set: ChangeSetInfo | None = None
        self._step_config = StepConfig(
            retry_strategy=create_retry_strategy(
                RetryStrategyConfig(
                    max_attempts=settings.step_max_attempts,
                    initial_delay=Duration.from_seconds(5),
                    max_delay=Duration.from_seconds(120),
                    retryable_error_types=[ClientError, BotoCoreError],
                )
            )
        )

    # --------------------------------------------------------------------------- the flow
    def run(self) -> dict[str, Any]:
        try:
            stack = self.preflight()
            skip = preflight.skip_reason(stack, self.settings) or self.heal_in_flight(stack)
            if skip:
                return self.finish(Outcome.SKIPPED, skip)

            detection = self.detect("detect drift")
            if detection is None:
                return self.finish(Outcome.SKIPPED, _DETECTION_BUSY)
            if detection["StackDriftStatus"] == "IN_SYNC":
                return self.finish(Outcome.IN_SYNC, "no drift: the stack matches its template")

            self.drifted = self.read_drift()
            if self.request.dry_run:
                return self.finish(
                    Outcome.DRIFT_REPORTED, f"{_count(self.drifted)} drifted (dry run)"
                )

            change_set = self.create_change_set(stack)
            if cfn.is_empty_change_set(change_set):
                self.discard_change_set()
                return self.finish(
                    Outcome.NOTHING_TO_REVERT,
                    "the REVERT_DRIFT change set has no changes; it was deleted",
                )

            decision = self.assess(change_set)
            if not decision.execute:
                return self.finish(Outcome.CHANGE_SET_CREATED, decision.reason)

            self.execute()
            return self.verify()
        except Exception as error:
            self.notify_failure(error)
            raise

    # --------------------------------------------------------------------------- phases
    def preflight(self) -> dict[str, Any]:
        """The stack exists; returns what DescribeStacks says of it."""
        stack = self.step(
            "pre-flight", lambda: cfn.describe_stack(self.cfn(), self.request.stack_name)
        )
        if stack is None:
            raise StackNotFound(
                f"stack {self.request.stack_name!r} does not exist in {self.region} (or the "
                "healer's role cannot describe it); check StackName, Region and RoleArn"
            )
        self.stack_id = stack["StackId"]
        return dict(stack)

    def heal_in_flight(self, stack: dict[str, Any]) -> str | None:
        """Another heal's change set is being made, executed, or awaits review."""
        prefix = self.settings.change_set_prefix + "-"
        mine = naming.change_set_name(self.settings.change_set_prefix, self.execution)
        summaries = self.step(
            "find other heals", lambda: cfn.list_change_sets(self.cfn(), stack["StackId"])
        )
        for s in summaries:
            if not s["ChangeSetName"].startswith(prefix) or s["ChangeSetName"] == mine:
                continue
            if s["Status"] in ("CREATE_PENDING", "CREATE_IN_PROGRESS") or s["ExecutionStatus"] in (
                "AVAILABLE",
                "EXECUTE_IN_PROGRESS",
            ):
                return (
                    f"another heal is in flight or awaits review: change set "
                    f"{s['ChangeSetName']} ({s['Status']}/{s['ExecutionStatus']}); execute or "
                    "delete it first"
                )
        return None

    def detect(self, name: str) -> dict[str, Any] | None:
        """Detect drift and wait for the result. None if another detection is running."""
        detection_id = self.step(
            f"{name}: start", lambda: cfn.start_drift_detection(self.cfn(), self.stack_id or "")
        )
        if detection_id is None:
            return None
        status = self.wait(
            f"{name}: wait",
            lambda: cfn.drift_detection_status(self.cfn(), detection_id),
            lambda s: s["DetectionStatus"] != "DETECTION_IN_PROGRESS",
        )
        if status["DetectionStatus"] == "DETECTION_FAILED":
            raise DetectionFailed(
                f"drift detection failed: {status['DetectionStatusReason'] or 'no reason given'}"
                "; if it says 'Rate exceeded', run again later or spread the schedules wider"
            )
        return status

    def read_drift(self) -> list[DriftedResource]:
        found = self.step(
            "read drift", lambda: cfn.drifted_resources(self.cfn(), self.stack_id or "")
        )
        return [DriftedResource.model_validate(r) for r in found]

    def create_change_set(self, stack: dict[str, Any]) -> dict[str, Any]:
        """Create the REVERT_DRIFT change set (named for this execution) and wait for it."""
        name = naming.change_set_name(self.settings.change_set_prefix, self.execution)
        description = f"drift-healer revert of {_count(self.drifted)} ({self.execution})"
        arn = self.step(
            "create change set",
            lambda: cfn.create_revert_change_set(self.cfn(), stack, name, description),
        )
        self.change_set = ChangeSetInfo(
            id=arn,
            name=name,
            url=notify.change_set_url(self.region, stack["StackId"], arn),
        )
        status = self.wait(
            "create change set: wait",
            lambda: cfn.change_set_status(self.cfn(), arn),
            lambda s: s["Status"] not in ("CREATE_PENDING", "CREATE_IN_PROGRESS"),
        )
        if status["Status"] == "FAILED" and not cfn.is_empty_change_set(status):
            raise ChangeSetFailed(
                f"the REVERT_DRIFT change set {name} failed: {status['StatusReason']}"
            )
        return dict(status)

    def discard_change_set(self) -> None:
        arn = self._change_set().id
        self.step("delete empty change set", lambda: cfn.delete_change_set(self.cfn(), arn))

    def assess(self, status: dict[str, Any]) -> Decision:
        """Read every change and judge it with the pure risk policy."""
        arn = self._change_set().id
        described = self.step("read changes", lambda: cfn.describe_change_set(self.cfn(), arn))
        level, reasons = risk.assess(
            described["Changes"], [r.logical_resource_id for r in self.drifted]
        )
        self.change_set = self._change_set().model_copy(
            update={"risk": level, "risk_reasons": reasons}
        )
        return decide(self.request, level, reasons)

    def execute(self) -> None:
        """Execute (idempotent by ClientRequestToken), then wait until the stack settles."""
        arn = self._change_set().id
        token = naming.execute_token(self._change_set().name)

        def start() -> dict[str, Any]:
            """Execute if still AVAILABLE. After a crash between the call and its checkpoint,
            the retry sees EXECUTE_IN_PROGRESS (or later) and does not execute again."""
            client = self.cfn()
            status = cfn.change_set_status(client, arn)
            if status["ExecutionStatus"] != "AVAILABLE":
                return status
            cfn.execute_change_set(client, arn, token)
            return {**status, "ExecutionStatus": "EXECUTE_IN_PROGRESS"}

        started = self.step("execute change set", start)
        if started["ExecutionStatus"] not in ("EXECUTE_IN_PROGRESS", *_DONE_EXECUTING):
            raise ExecutionFailed(
                f"the change set could not be executed (status {started['Status']}, execution "
                f"status {started['ExecutionStatus']}); nothing was changed"
            )

        def settled() -> dict[str, Any]:
            client = self.cfn()
            status = cfn.change_set_status(client, arn)
            stack = cfn.describe_stack(client, self.stack_id or "") or {}
            return {
                **status,
                "StackStatus": stack.get("StackStatus", "DELETE_COMPLETE"),
                "StackStatusReason": stack.get("StackStatusReason", ""),
            }

        final = self.wait(
            "execute change set: wait",
            settled,
            lambda s: (
                s["ExecutionStatus"] in _DONE_EXECUTING
                and not s["StackStatus"].endswith("_IN_PROGRESS")
            ),
        )
        if final["ExecutionStatus"] == "OBSOLETE":
            raise ExecutionFailed(
                "the change set became OBSOLETE: the stack was updated by someone else after "
                "it was created; run the heal again"
            )
        if final["ExecutionStatus"] != "EXECUTE_COMPLETE" or final["StackStatus"] != (
            "UPDATE_COMPLETE"
        ):
            raise ExecutionFailed(
                f"executing the change set failed: stack is {final['StackStatus']}"
                + (f" ({final['StackStatusReason'].strip()})" if final["StackStatusReason"] else "")
                + "; CloudFormation rolled back, read the stack events"
            )

    def verify(self) -> dict[str, Any]:
        """Detect again: HEALED when in sync, RESIDUAL_DRIFT with what remains."""
        detection = self.detect("verify")
        if detection is None:
            raise DetectionFailed(
                "verification could not start: another drift detection is running on the stack"
            )
        verification = Verification(stack_drift_status=detection["StackDriftStatus"])
        if detection["StackDriftStatus"] == "IN_SYNC":
            return self.finish(
                Outcome.HEALED,
                f"{_count(self.drifted)} reverted; verified in sync",
                verification,
            )
        remaining = self.step(
            "read residual drift", lambda: cfn.drifted_resources(self.cfn(), self.stack_id or "")
        )
        names = ", ".join(r["LogicalResourceId"] for r in remaining) or "unknown resources"
        return self.finish(
            Outcome.RESIDUAL_DRIFT,
            f"the change set was executed but drift remains on {names}",
            verification,
        )

    # --------------------------------------------------------------------------- the end
    def finish(
        self, outcome: Outcome, reason: str, verification: Verification | None = None
    ) -> dict[str, Any]:
        result = HealResult(
            stack_name=self.request.stack_name,
            stack_id=self.stack_id,
            outcome=outcome,
            reason=reason,
            drifted_resources=self.drifted,
            change_set=self.change_set,
            verification=verification,
        )
        self.ctx.logger.info("heal finished", extra={"outcome": outcome.value, "reason": reason})
        self.record(result)
        if outcome is not Outcome.IN_SYNC or self.settings.notify_in_sync:
            self.notify(result)
        return result.dump()

    def record(self, result: HealResult) -> None:
        """Metrics, once per execution (a step body does not run again on replay)."""
        self.ctx.step(
            lambda _: telemetry.record(
                result.outcome, len(result.drifted_resources), result.change_set is not None
            ),
            name="record metrics",
        )

    def notify(self, result: HealResult) -> None:
        """Publish (with durable retries). A publish that still fails is logged in full, and the
        result is returned all the same: the heal itself is never undone by a mail problem."""
        message = notify.render(result, self.region)
        if not self.settings.sns_topic_arn:
            self.ctx.logger.info(
                "no SNS_TOPIC_ARN set; notification only logged",
                extra={"subject": message.subject, "body": message.body},
            )
            return
        topic = self.settings.sns_topic_arn
        try:
            self.step(
                f"notify {result.outcome.value}",
                lambda: notify.publish(
                    aws.client("sns", max_attempts=self.settings.aws_max_attempts),
                    topic,
                    message,
                ),
            )
        except Exception:
            self.ctx.logger.error(
                "notification could not be published",
                extra={"subject": message.subject, "body": message.body},
            )

    def notify_failure(self, error: Exception) -> None:
        reason = str(error) if isinstance(error, HealError) else f"{type(error).__name__}: {error}"
        failure = HealResult(
            stack_name=self.request.stack_name,
            stack_id=self.stack_id,
            outcome=Outcome.FAILED,
            reason=reason,
            drifted_resources=self.drifted,
            change_set=self.change_set,
        )
        self.record(failure)
        self.notify(failure)

    # --------------------------------------------------------------------------- helpers
    def cfn(self) -> Any:
        """The target stack's CloudFormation client (its region; its account's role)."""
        return aws.client(
            "cloudformation",
            region=self.region,
            role_arn=self.request.role_arn,
            execution=self.execution.rsplit("/", 1)[-1],
            max_attempts=self.settings.aws_max_attempts,
        )

    def step(self, name: str, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` once, checkpoint its JSON result, retry it durably on AWS errors."""
        return self.ctx.step(lambda _: fn(), name=name, config=self._step_config)

    def wait(
        self, name: str, poll: Callable[[], dict[str, Any]], done: Callable[[dict[str, Any]], bool]
    ) -> dict[str, Any]:
        """The one waiting helper: poll with growing delays until ``done``, bounded by
        MAX_WAIT_SECONDS. Throttled polls just count as polls."""
        settings, clock = self.settings, self.clock

        def check(state: dict[str, Any], _: Any) -> dict[str, Any]:
            now = clock()
            try:
                value = poll()
            except ClientError as error:
                if cfn.error_code(error) not in ("Throttling", "ThrottlingException"):
                    raise
                value = state["value"]
            return {"started": state["started"] or now, "now": now, "value": value}

        def strategy(state: dict[str, Any], attempts: int) -> WaitForConditionDecision:
            if state["value"] is not None and done(state["value"]):
                return WaitForConditionDecision.stop_polling()
            if polling.timed_out(state["now"] - state["started"], settings.max_wait_seconds):
                return WaitForConditionDecision.stop_polling()
            delay = polling.poll_delay(
                attempts,
                settings.poll_initial_seconds,
                settings.poll_max_seconds,
                settings.poll_backoff_rate,
            )
            return WaitForConditionDecision.continue_waiting(Duration.from_seconds(delay))

        final = self.ctx.wait_for_condition(
            check,
            WaitForConditionConfig(
                wait_strategy=strategy,
                initial_state={"started": None, "now": None, "value": None},
            ),
            name=name,
        )
        if final["value"] is None or not done(final["value"]):
            raise WaitTimedOut(
                f"{name}: CloudFormation did not finish within {settings.max_wait_seconds}s "
                f"(last status: {final['value']}); raise MAX_WAIT_SECONDS for large stacks"
            )
        return dict(final["value"])

    def _change_set(self) -> ChangeSetInfo:
        assert self.change_set is not None
        return self.change_set


_DETECTION_BUSY = (
    "another drift detection is already running on this stack (another heal in flight?); "
    "the next run will try again"
)


def _count(resources: list[DriftedResource]) -> str:
    return f"{len(resources)} resource{'s' if len(resources) != 1 else ''}"


def _region_of(stack_name: str) -> str | None:
    return stack_name.split(":")[3] if stack_name.startswith("arn:") else None


def run(event: Any, context: DurableContext, settings: Settings, clock: Clock = time.time) -> Any:
    """Validate, then heal. The durable handler's body."""
    request = parse_request(event)
    logger.append_keys(stack=request.stack_name, mode=request.mode)
    context.set_logger(logger)
    return Heal(context, request, settings, clock).run()
