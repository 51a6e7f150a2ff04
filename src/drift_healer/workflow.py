"""The healing workflow: one execution heals one stack, one phase per method, top to bottom.

    validate ─► pre-flight ─► detect ─► read drift ─► REVERT_DRIFT change set ─► assess
      ─► decide ─► execute ─► verify ─► notify ─► result

Phases pass typed values to each other; what the heal has learned so far is kept in ``Findings``,
from which the result (or the failure notice) is built. Durable plumbing lives in ``durable``,
decisions in ``policy``, message text in ``render``, AWS calls in the adapters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from aws_durable_execution_sdk_python import DurableContext
from aws_lambda_powertools import Logger

from . import alarms, aws, parameters, provenance, render, secrets, sns, storage, telemetry
from . import cloudformation as cfn
from .durable import Durable, Waited, is_sdk_error
from .errors import (
    ChangePolicyInvalid,
    ChangeSetFailed,
    DetectionFailed,
    ExecutionFailed,
    HealError,
    StackNotFound,
)
from .models import (
    AcceptedDrift,
    Approval,
    ChangeSetInfo,
    Deferral,
    DriftedResource,
    HealRequest,
    HealResult,
    Message,
    Outcome,
    PolicyTrail,
    Risk,
    Verification,
    parse_request,
)
from .policy import (
    approval,
    change_policy,
    decisions,
    health,
    limits,
    links,
    naming,
    polling,
    preflight,
    risk,
    states,
    timings,
    windows,
)
from .policy import detection as detection_policy
from .policy import record as change_record
from .records import (
    Assessment,
    ChangeSetStatus,
    DetectionStatus,
    DriftRecord,
    DriftReport,
    ExecutionStart,
    Expectation,
    HealthRead,
    Recheck,
    Review,
    StackInfo,
    StackProgress,
    TemplateFacts,
)
from .redact import RedactingFilter, Redactor, redact_text
from .settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient

T = TypeVar("T")

logger = Logger(service="drift-healer")
logger.addFilter(RedactingFilter())  # no log line carries a value shaped like a secret


@dataclass
class Findings:
    """What the heal has learned so far; the result and the failure notice are built from it."""

    stack_id: str | None = None
    #: The drifted resources as far as they fit AWS's size limits; drifted_total counts all.
    drifted: list[DriftedResource] = field(default_factory=list)
    drifted_total: int = 0
    change_set: ChangeSetInfo | None = None
    approval: Approval | None = None
    policy: PolicyTrail | None = None


class Heal:
    """One execution healing one stack."""

    def __init__(
        self,
        context: DurableContext,
        request: HealRequest,
        settings: Settings,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.durable = Durable(context, settings, clock)
        self.request = request
        self.settings = settings
        self.execution = context.state.durable_execution_arn
        self.region = request.stack_region or aws.default_region()
        self.found = Findings()
        #: Why the request was capped below what the event asked (see policy.preflight.ceiling).
        self.lowered: str | None = None
        #: The stack's resources and its timings from its last heal (the "read template" step),
        #: and when each wait should first look: what the stack took last time, or what this
        #: heal's first detection took, all from checkpoints, so a replay learns the same.
        self.resources: int | None = None
        self.timings: timings.Timings | None = None
        self.looks: dict[timings.Phase, timings.Look] = {}
        #: What the change set changes (timings.changed): the last execution's time is the
        #: stack's own only if it changed the same.
        self.touches: str | None = None
        #: What this heal's waits learned for the stack's next heal (HISTORY_BUCKET).
        self.next_looks: dict[timings.Phase, timings.Look] = {}
        #: The change policy and what it says of this stack (None: no policy configured).
        self.policy: change_policy.ChangePolicy | None = None
        self.rules: change_policy.StackRules | None = None
        #: The alarms the health gates watch (names, prefix), once the gate before was read.
        self.watching: tuple[tuple[str, ...], str | None] | None = None
        #: When the heal began, and when the execution times out (set with the change policy).
        self.began = datetime.min.replace(tzinfo=UTC)
        self.deadline = datetime.max.replace(tzinfo=UTC)

    # --------------------------------------------------------------------------- the flow
    def run(self) -> HealResult:
        """Heal; on failure notify first, then fail the execution with the typed error."""
        try:
            return self.heal()
        except Exception as error:
            if is_sdk_error(error):
                raise  # the SDK's own: Lambda retries the invocation
            self.fail(error)
            raise

    def heal(self) -> HealResult:
        """The flow. Each phase returns what it learned; what the result (or the failure notice)
        must show is recorded in ``self.found`` here, as soon as it is known."""
        stack = self.preflight()
        self.found.stack_id = stack["StackId"]
        skip = preflight.skip_reason(stack, self.settings) or self.other_heal(stack)
        if skip:
            return self.finish(Outcome.SKIPPED, skip)
        self.request, self.lowered = preflight.ceiling(self.request, stack, self.settings)
        self.read_change_policy(stack)
        redactor = self.read_template(stack)

        detection = self.detect(stack, "detect drift")
        unchecked = self.unchecked(detection)
        if detection["StackDriftStatus"] == states.IN_SYNC and unchecked is None:
            return self.finish(Outcome.IN_SYNC, "no drift: the stack matches its template")
        if detection["StackDriftStatus"] != states.DRIFTED and unchecked is None:
            return self.finish(
                Outcome.SKIPPED,
                f"drift detection ended with the stack {detection['StackDriftStatus']}: "
                "CloudFormation could not tell whether it drifted (e.g. none of its resource "
                "types supports drift detection); nothing was changed",
            )
        if detection["StackDriftStatus"] != states.DRIFTED:
            raise DetectionFailed(
                f"drift detection failed: {_describe(unchecked)}; if it says 'Rate exceeded', "
                "run again later or spread the schedules wider"
            )

        self.found.drifted, self.found.drifted_total = self.read_drift(stack, redactor)
        accepted = self.accept_drift()
        if accepted == "all":
            return self.finish(
                Outcome.DRIFT_REPORTED,
                f"{_count(self.found.drifted_total)} drifted, all of it accepted by the change "
                "policy (see Policy.AcceptedDrift); nothing was changed",
            )
        if self.request.dry_run:
            return self.finish(
                Outcome.DRIFT_REPORTED,
                f"{_count(self.found.drifted_total)} drifted (dry run"
                + (f"; {self.lowered}" if self.lowered else "")
                + ")"
                + _partly(unchecked),
            )

        change_set = self.found.change_set = self.create_change_set(stack)
        status = self.wait_for_change_set(stack, change_set)
        if states.is_empty_change_set(status):
            self.discard(change_set)
            return self.finish(
                Outcome.NOTHING_TO_REVERT,
                "the REVERT_DRIFT change set has no changes; it was deleted",
            )

        assessment = self.assess(stack, change_set, redactor)
        level = Risk(assessment["Risk"])
        self.found.change_set = change_set.model_copy(
            update={"risk": level, "risk_reasons": assessment["RiskReasons"]}
        )
        # a tier asks as it says; without one, the deployment's APPROVAL_FOR alone decides
        tiered = self.rules is not None and self.rules.tier is not None
        approval_for = decisions.stricter_approval(
            self.settings.approval_for, self.rules.approval if self.rules and tiered else "never"
        )
        if decisions.asks_a_person(
            self.request,
            approval_for,
            level,
            None if unchecked is None else unchecked.describe(),
            accepted,
        ):
            return self.with_approval(stack, change_set, assessment["Fingerprint"], redactor)
        decision = decisions.decide(
            self.request,
            level,
            assessment["RiskReasons"],
            unchecked=None if unchecked is None else unchecked.describe(),
            lowered=self.lowered,
            accepted=accepted,
        )
        if not decision.execute:
            return self.finish(Outcome.CHANGE_SET_CREATED, decision.reason)
        return self.execute(stack, change_set, assessment["Fingerprint"], level, redactor)

    # --------------------------------------------------------------------------- phases
    def preflight(self) -> StackInfo:
        """The stack exists; returns what DescribeStacks says of it."""
        name = self.request.stack_name
        stack = self.durable.step("pre-flight", lambda: cfn.describe_stack(self.cfn(), name))
        if stack is None:
            raise StackNotFound(
                f"stack {name!r} does not exist in {self.region} (or the healer's role cannot "
                "describe it); check StackName, Region and RoleArn"
            )
        return stack

    def other_heal(self, stack: StackInfo) -> str | None:
        """Another heal's change set is being made, executed, or awaits review."""
        summaries = self.durable.step(
            "find other heals", lambda: cfn.list_change_sets(self.cfn(), stack["StackId"])
        )
        return decisions.other_heal(summaries, self.settings.change_set_prefix, self.name())

    def read_change_policy(self, stack: StackInfo) -> None:
        """The change policy (CHANGE_POLICY, or the SSM parameter CHANGE_POLICY_PARAMETER) and
        what it says of this stack (its tier and windows, from its tags). The document's text is
        checkpointed, so a replay decides on the same policy; a document or a tag that cannot
        be used fails the heal before anything is done, naming the line or the tag."""
        settings = self.settings
        if not (settings.change_policy or settings.change_policy_parameter):
            # A stack's own health gate (its tag drift-healer:alarms) holds without a change
            # policy, under the empty one (any time, nothing else): a safety tag silently
            # ignored would be a trap. Its other tags need a document to name.
            if health.watched((), stack["Tags"]):
                self.adopt(change_policy.ChangePolicy(), {})
            return
        source = "CHANGE_POLICY" if settings.change_policy else settings.change_policy_parameter
        text = settings.change_policy or self.durable.step(
            "read change policy",
            lambda: parameters.read(aws.ssm(settings.aws_max_attempts), source),
        )
        try:
            self.adopt(change_policy.load(text, source), stack["Tags"])
        except change_policy.PolicyInvalid as invalid:
            raise ChangePolicyInvalid(f"the change policy cannot be used: {invalid}") from None

    def adopt(self, policy: change_policy.ChangePolicy, tags: dict[str, str]) -> None:
        """Heal under ``policy`` and what it says of a stack with ``tags``."""
        self.policy = policy
        self.rules = change_policy.rules_for(policy, tags)
        self.found.policy = PolicyTrail(tier=self.rules.tier)
        # a deferral must end before the execution's timeout, counted from its start
        self.began = self.durable.started("clock: began")
        self.deadline = self.began + timedelta(seconds=self.settings.execution_timeout_seconds)

    def accept_drift(self) -> str | None:
        """Split the drift into what the change policy accepts and what counts. Returns "all"
        when nothing counts, else what is accepted (a REVERT_DRIFT change set would revert it
        too, so the heal must not execute it alone), or None."""
        if self.policy is None or self.found.policy is None or not self.policy.accepted_drift:
            return None
        today = self.began.date()  # the heal's day: rules end at a date
        accepted, counting = change_policy.accepted_drift(self.policy, self.found.drifted, today)
        expired = [
            f"rule {i + 1} ({rule.owner}, ended {rule.expires.isoformat()})"
            for i in change_policy.expired_rules(self.policy, today)
            for rule in [self.policy.accepted_drift[i]]
        ]
        self.found.policy = self.found.policy.model_copy(
            update={
                "accepted_drift": [
                    AcceptedDrift(
                        logical_resource_id=a.logical_resource_id,
                        property_path=a.property_path,
                        reason=a.reason,
                        owner=a.owner,
                        expires=a.expires.isoformat(),
                    )
                    for a in accepted
                ],
                "expired_rules": expired,
            }
        )
        if not accepted:
            return None
        shown = len(self.found.drifted)
        if not counting and self.found.drifted_total <= shown:
            return "all"
        return ", ".join(
            f"{a.logical_resource_id} {a.property_path}".strip() for a in accepted[:5]
        ) + (f" and {len(accepted) - 5} more" if len(accepted) > 5 else "")

    def read_template(self, stack: StackInfo) -> Redactor:
        """Read the template once, for two things: how many resources it declares (the waits
        expect CloudFormation done from it) and which properties take their values from NoEcho
        parameters or secret dynamic references (never shown). Only the count and the names and
        paths are checkpointed, never the template. The stack's timings from its last heal come
        in the same step (no operation of their own)."""

        def facts() -> TemplateFacts:
            body = cfn.stack_template(self.cfn(), stack["StackId"])
            return {
                "Resources": cfn.resource_count(body),
                "Secrets": provenance.secret_paths(body, stack["NoEchoParameterKeys"]).to_json(),
                "Timings": self.past_timings(stack["StackId"]),
            }

        read = self.durable.step("read template", facts)
        self.resources = read["Resources"]
        text = read.get("Timings")
        self.timings = timings.parse(text) if text else None
        self.looks = timings.looks(self.timings, self.resources)
        return Redactor(
            hide_all=self.settings.hide_values,
            secrets=provenance.SecretPaths.from_json(read["Secrets"]),
        )

    def past_timings(self, stack_id: str) -> str | None:
        """The stack's timings document from its last heal (as parsed: only what this version
        reads is checkpointed), when there is one. A hint: one that cannot be read (no
        permission, a damaged document) is logged and the heal estimates from the stack's
        size."""
        bucket = self.settings.history_bucket
        if not bucket:
            return None

        def read() -> str | None:
            text = storage.get_text(
                aws.s3(self.settings.aws_max_attempts), bucket, timings.key(stack_id)
            )
            document = None if text is None else timings.parse(text)
            if text is not None and document is None and not timings.superseded(text):
                raise ValueError("not a timings document this version reads")
            return None if document is None else document.to_json()

        return self.hint("read the stack's timings", "this heal's", read)

    def hint(self, doing: str, whose: str, work: Callable[[], T]) -> T | None:
        """Do work for a hint no decision depends on (the stack's timings): an error of any
        kind is logged, and ``whose`` waits estimate from the stack's size."""
        try:
            return work()
        except Exception as error:  # a hint: nothing depends on it
            self.durable.logger.warning(
                f"could not {doing}; {whose} waits estimate from the stack's size instead",
                extra={"error": redact_text(f"{type(error).__name__}: {error}")},
            )
            return None

    def detect(self, stack: StackInfo, name: str) -> DetectionStatus:
        """Detect drift and wait for the result. One detection runs per stack at a time: while
        another runs (someone's, or this heal's own whose answer was lost), wait for it to end
        and start again. Each wait first looks when the stack's last detection was seen done
        (this heal's first, or its last heal's), else when the quickest stacks of its size are
        done."""
        detection_id = self.durable.poll_until(
            f"{name}: start",
            lambda: cfn.start_drift_detection(self.cfn(), stack["StackId"]),
            bool,
            waiting_for="another drift detection on the stack to end",
        ).value
        waited = self.durable.poll_until(
            f"{name}: wait",
            lambda: cfn.drift_detection_status(self.cfn(), detection_id),
            lambda s: s["DetectionStatus"] != states.DETECTION_IN_PROGRESS,
            expect=self.expect("Detection"),
            at_once=False,
        )
        if waited.value["DetectionStatus"] == states.DETECTION_COMPLETE:
            self.learn("Detection", waited)
        return waited.value

    def look_for(self, phase: timings.Phase) -> timings.Look | None:
        """What the stack's own past says of ``phase`` (this heal's, or its last heal's): for
        an execution, only a last one that changed the same."""
        look = self.looks.get(phase)
        if look is not None and phase == "Execution" and look.changes != self.touches:
            return None
        return look

    def expect(self, phase: timings.Phase) -> Expectation | None:
        """When a wait for ``phase`` should first look: where the stack's own past says; else
        when the quickest stacks of its size are done; None (the geometric schedule) when
        neither is known."""
        look = self.look_for(phase)
        if look is not None:
            return {
                "FirstLook": look.first_look,
                "Resources": self.resources,
                "Informed": look.measured,
            }
        if self.resources is None:
            return None
        return {
            "FirstLook": polling.first_look(timings.MODELS[phase], self.resources),
            "Resources": self.resources,
        }

    def learn(self, phase: timings.Phase, waited: Waited[Any]) -> None:
        """What a wait that saw its operation succeed learned of how long it takes on this
        stack: the next wait for the same operation (the verifying detection, or the stack's
        next heal) looks there. A failed operation says nothing of the next (a rollback takes
        longer, a refused detection less). The verifying detection teaches the next heal
        nothing the first did not."""
        used = self.look_for(phase) if "Informed" in waited.expected else None
        seen = timings.Seen(waited.took, waited.before, used)
        again = timings.again(seen)
        if again is not None:
            self.looks[phase] = again
        later = timings.next_night(seen, self.touches if phase == "Execution" else None)
        if later is not None and phase not in self.next_looks:
            self.next_looks[phase] = later

    @staticmethod
    def unchecked(detection: DetectionStatus) -> detection_policy.Unchecked | None:
        """What a failed (partial) detection could not check; None after a complete one."""
        if detection["DetectionStatus"] != states.DETECTION_FAILED:
            return None
        return detection_policy.unchecked(detection["DetectionStatusReason"])

    def read_drift(self, stack: StackInfo, redactor: Redactor) -> tuple[list[DriftedResource], int]:
        """The drifted resources (redacted, as many as a checkpoint may hold) and how many
        drifted in all."""
        report = self.durable.step(
            "read drift",
            lambda: _report(cfn.drifted_resources(self.cfn(), stack["StackId"], redactor)),
        )
        return [DriftedResource.model_validate(r) for r in report["Resources"]], report["Total"]

    def create_change_set(self, stack: StackInfo) -> ChangeSetInfo:
        """Create the REVERT_DRIFT change set, named for this execution."""
        name = self.name()
        description = (
            f"drift-healer revert of {_count(self.found.drifted_total)} ({self.execution})"
        )
        arn = self.durable.step(
            "create change set",
            lambda: cfn.create_revert_change_set(self.cfn(), stack, name, description),
        )
        return ChangeSetInfo(
            id=arn, name=name, url=render.change_set_url(self.region, stack["StackId"], arn)
        )

    def wait_for_change_set(self, stack: StackInfo, change_set: ChangeSetInfo) -> ChangeSetStatus:
        """Wait until CloudFormation has made it; an empty one is not a failure."""
        waited = self.durable.poll_until(
            "create change set: wait",
            lambda: cfn.change_set_status(self.cfn(), change_set.id, stack["StackId"]),
            states.change_set_settled,
            expect=self.expect("ChangeSet"),
            at_once=False,
        )
        status = waited.value
        if status["Status"] == "FAILED" and not states.is_empty_change_set(status):
            raise ChangeSetFailed(
                f"the REVERT_DRIFT change set {change_set.name} failed: {status['StatusReason']}"
            )
        self.learn("ChangeSet", waited)
        return status

    def discard(self, change_set: ChangeSetInfo, name: str = "delete empty change set") -> None:
        self.durable.step(name, lambda: cfn.delete_change_set(self.cfn(), change_set.id))

    def with_approval(
        self, stack: StackInfo, change_set: ChangeSetInfo, fingerprint: str, redactor: Redactor
    ) -> HealResult:
        """RequireApproval: ask a person, wait at no cost, and execute only exactly what they
        approved; a rejection or the deadline deletes the change set (REJECTED)."""
        timeout = self.settings.approval_timeout_seconds
        review = self.durable.step(
            "request approval: review",
            lambda: Review(
                Fingerprint=fingerprint,
                LastUpdated=stack["LastUpdated"],
                Deadline=(self.durable.clock() + timedelta(seconds=timeout)).isoformat(
                    timespec="seconds"
                ),
                Plan=self.result(Outcome.CHANGE_SET_CREATED, "awaiting approval").dump(),
            ),
        )
        answer = self.durable.wait_for_person(
            "approval", lambda callback_id: self.ask(callback_id, review), timeout
        )
        said = approval.decision(answer.document, answer.message)
        if not answer.given:
            rejected = answer.why == "rejected"
            self.found.approval = Approval(
                decision="REJECTED" if rejected else "TIMED_OUT",
                approver=said["Approver"] if rejected else None,
                ticket=said.get("Ticket"),
                comment=said.get("Comment"),
                fingerprint=fingerprint,
            )
            self.discard(change_set, "delete rejected change set")
            why = (
                f"rejected by {said['Approver']}"
                + (f": {said['Comment']}" if "Comment" in said else "")
                if rejected
                else f"no approval within {_duration(timeout)} (timed out)"
            )
            return self.finish(Outcome.REJECTED, f"{why}; the change set was deleted")
        self.found.approval = Approval(
            decision="APPROVED",
            approver=said["Approver"],
            ticket=said.get("Ticket"),
            comment=said.get("Comment"),
            fingerprint=fingerprint,
        )
        recheck = self.durable.step(
            "re-validate approved change set",
            lambda: self.recheck(stack, change_set, redactor),
        )
        why_not = approval.still_approved(review, recheck)
        if why_not is not None:
            return self.finish(
                Outcome.CHANGE_SET_CREATED,
                f"approved by {said['Approver']}, but not executed: {why_not}; the change set is "
                "left for a new review",
            )
        risk = self.found.change_set.risk if self.found.change_set else None
        return self.execute(stack, change_set, fingerprint, risk or Risk.HIGH, redactor)

    def ask(self, callback_id: str, review: Review) -> None:
        """Send the approval request (inside the callback's submitter step), with a signed
        review link when the deployment has the review page."""
        pending = HealResult.model_validate(review["Plan"])
        try:
            link = self.review_link(callback_id, review)
        except Exception as error:
            if is_sdk_error(error) or aws.is_transient(error):
                raise  # the step retries
            # the commands in the request still work: ask without the link rather than not ask
            self.durable.logger.error(
                "the review link could not be signed; the request carries the commands only",
                extra={"error": redact_text(f"{type(error).__name__}: {error}")},
            )
            link = None
        message = render.approval_request(pending, self.region, callback_id, review, link)
        topic = self.settings.sns_topic_arn
        if not topic:
            # logged without the review link: whoever reads the logs must not be able to answer
            logged = render.approval_request(pending, self.region, callback_id, review)
            self.durable.logger.info(
                "approval requested; no SNS_TOPIC_ARN set, so the request is only logged",
                extra={"subject": logged.subject, "body": logged.body, "callback": callback_id},
            )
            return
        sns.publish(aws.sns(self.settings.aws_max_attempts), topic, message)

    def review_link(self, callback_id: str, review: Review) -> str | None:
        """The review page's link for this approval, signed until its deadline; None without
        the review page (REVIEW_URL and REVIEW_SECRET_ARN unset)."""
        settings = self.settings
        if not (settings.review_url and settings.review_secret_arn):
            return None
        key = secrets.review_key(aws.secrets(settings.aws_max_attempts), settings.review_secret_arn)
        token = links.sign(
            key,
            links.Link(
                execution=self.execution,
                callback_id=callback_id,
                fingerprint=review["Fingerprint"],
                expires=datetime.fromisoformat(review["Deadline"]),
            ),
        )
        return f"{settings.review_url.rstrip('/')}/?t={token}"

    def recheck(self, stack: StackInfo, change_set: ChangeSetInfo, redactor: Redactor) -> Recheck:
        """The change set, its changes' fingerprint, the stack and its other change sets, now."""
        client = self.cfn()
        described = cfn.describe_change_set(client, change_set.id, redactor)
        now = cfn.describe_stack(client, stack["StackId"])
        summaries = cfn.list_change_sets(client, stack["StackId"])
        return {
            "Status": described["Status"],
            "ExecutionStatus": described["ExecutionStatus"],
            "Fingerprint": approval.fingerprint(described["Changes"]),
            "LastUpdated": now["LastUpdated"] if now else "deleted",
            "Others": decisions.others(summaries, change_set.name),
        }

    def assess(self, stack: StackInfo, change_set: ChangeSetInfo, redactor: Redactor) -> Assessment:
        """Read every change and judge it with the pure risk policy, against every drifted
        property path, inside one step: only the verdict is checkpointed, however many changes
        and values there are."""

        def judge() -> Assessment:
            client = self.cfn()
            changes = cfn.describe_change_set(client, change_set.id, redactor)["Changes"]
            drifted = self.drifted_paths() or {
                r["LogicalResourceId"]: [d["PropertyPath"] for d in r["PropertyDifferences"]]
                for r in cfn.drifted_resources(client, stack["StackId"], redactor)
            }
            level, reasons = risk.assess(changes, drifted)
            return {
                "Risk": level.value,
                "RiskReasons": limits.bound_list(reasons),
                "Changes": len(changes),
                "Fingerprint": approval.fingerprint(changes),
                "Touches": timings.changed(changes),
            }

        assessment = self.durable.step("read changes", judge)
        self.touches = assessment.get("Touches")
        return assessment

    def drifted_paths(self) -> dict[str, list[str]] | None:
        """Every drifted property path per resource, from the drift report read after detection;
        None when it was cut to fit a checkpoint (then the drift is read again, whole)."""
        found = self.found
        if len(found.drifted) < found.drifted_total or any(
            r.omitted_differences for r in found.drifted
        ):
            return None
        return {
            r.logical_resource_id: [d.property_path for d in r.property_differences]
            for r in found.drifted
        }

    def execute(
        self,
        stack: StackInfo,
        change_set: ChangeSetInfo,
        fingerprint: str,
        level: Risk,
        redactor: Redactor,
    ) -> HealResult:
        """Execute, verify and report; inside the change policy's windows and outside its
        freezes, waiting for them if need be."""
        held = self.wait_for_window(stack, change_set, fingerprint, level, redactor)
        if held is not None:
            return held
        alarming = self.health_before(stack)
        if alarming:
            return self.finish(
                Outcome.CHANGE_SET_CREATED,
                f"not executed: no changes while monitoring alarms ({', '.join(alarming)}); "
                "the change set is left for review",
            )
        started = self.start_execution(stack, change_set)
        if started["Others"]:
            return self.finish(Outcome.CHANGE_SET_CREATED, decisions.kept_for(started["Others"]))
        self.wait_for_execution(stack, started)
        self.health_after()
        return self.verify(stack, redactor)

    def health_before(self, stack: StackInfo) -> list[str]:
        """The health gate before executing (the change policy's Health, and the stack's tag
        drift-healer:alarms): the alarms that forbid a change now; [] to go on."""
        gate = self.policy.health if self.policy else None
        names = health.watched(gate.alarms if gate else (), stack["Tags"])
        prefix = gate.alarm_prefix if gate else None
        if self.found.policy is None or not (names or prefix):
            return []
        self.watching = (names, prefix)
        insufficient = gate.insufficient_data if gate else "block"
        before = self.durable.step(
            "health before",
            lambda: self.read_health(lambda found: health.blocking(found, insufficient)),
        )
        self.found.policy = self.found.policy.model_copy(
            update={"health_before": before["States"], "alarms_watched": before["Watched"]}
        )
        return before["Findings"]

    def health_after(self) -> None:
        """After the change, wait the bake time (durably), read the alarms again, and record
        any that went off: the result's reason and the message say so first."""
        trail = self.found.policy
        if trail is None or self.watching is None:
            return
        gate = self.policy.health if self.policy else None
        bake = (gate.bake_minutes if gate else 5) * 60
        if bake:
            self.durable.sleep("bake time", bake)
        before = trail.health_before
        after = self.durable.step(
            "health after",
            lambda: self.read_health(lambda found: health.regressions(before, found)),
        )
        self.found.policy = trail.model_copy(
            update={"health_after": after["States"], "regressions": after["Findings"]}
        )

    def to_finish(self, deferred: bool = True) -> timedelta:
        """The most a heal may still need to execute: after a deferral three waits (detecting
        again, executing, verifying; each MAX_WAIT_SECONDS at most), else two; the bake time
        and its steps. An execution never starts later than that before the execution times
        out: a timeout would end it unnotified, perhaps with the stack updating."""
        gate = self.policy.health if self.policy else None
        bake = timedelta(minutes=gate.bake_minutes if gate else 5)
        waits = 3 if deferred else 2
        return waits * timedelta(seconds=self.settings.max_wait_seconds) + bake + _FOR_STEPS

    def read_health(self, judge: Callable[[dict[str, str]], list[str]]) -> HealthRead:
        """The watched alarms' states now, in the stack's account and region (inside a step), as
        checkpointed: those shown, how many, and what ``judge`` finds in all of them."""
        names, prefix = self.watching or ((), None)
        client = aws.cloudwatch(
            self.region,
            self.request.role_arn,
            naming.execution_id(self.execution),
            self.settings.aws_max_attempts,
        )
        found = health.read(alarms.states(client, names, prefix), prefix)
        return {
            "States": health.shown(found),
            "Watched": len(found),
            "Findings": limits.bound_list(judge(found)),
        }

    def wait_for_window(
        self,
        stack: StackInfo,
        change_set: ChangeSetInfo,
        fingerprint: str,
        level: Risk,
        redactor: Redactor,
    ) -> HealResult | None:
        """None when the change policy lets the heal execute now. Otherwise notify that it is
        deferred and until when, wait durably (at no cost) until then, and check again that the
        change set, the stack and the drift are what they were; a window that has closed by
        then defers again. Past the execution's own deadline, the change set is left for
        review; if anything changed, too; if the drift is gone, the change set is deleted."""
        policy, rules = self.policy, self.rules
        if policy is None or rules is None or self.found.policy is None:
            return None
        chosen = {name: policy.windows[name] for name in rules.windows}
        if not (chosen or policy.freezes or policy.change_calendar):
            return None  # nothing could hold it: any time
        # The last instant a deferral may end, and an execution without one start, leaving
        # time to finish before the deadline.
        horizon = self.deadline - self.to_finish()
        start_by = self.deadline - self.to_finish(deferred=False)
        for n in range(1, _MAX_DEFERRALS + 1):
            now = self.durable.now(f"clock: change window {n}")
            until = max(horizon, now + windows.MIN_OPEN)  # an opening now counts until start_by
            allowed = windows.when_allowed(chosen, policy.freezes, level is Risk.LOW, now, until)
            if policy.change_calendar and allowed.at is not None:
                allowed = self.consult_calendar(
                    policy.change_calendar, chosen, level, allowed, until, n
                )
            if allowed.at is not None and (
                start_by < now if allowed.at <= now else horizon <= allowed.at
            ):
                allowed = windows.Allowed(None, None, allowed.freezes)
            if allowed.at is None:
                held = f" (held by {', '.join(allowed.freezes)})" if allowed.freezes else ""
                return self.finish(
                    Outcome.CHANGE_SET_CREATED,
                    "not executed: no time the change policy allows leaves enough to execute, "
                    f"verify and bake before this execution's deadline, "
                    f"{self.deadline.isoformat()}{held}; the change set is left for review",
                )
            if allowed.at <= now:
                if allowed.opening is not None:
                    self.found.policy = self.found.policy.model_copy(
                        update={"window": allowed.opening.window}
                    )
                return None
            deferred = Deferral(
                until=allowed.at.astimezone(UTC).isoformat(),
                window=allowed.opening.window if allowed.opening else None,
                freezes=list(allowed.freezes),
            )
            self.found.policy = self.found.policy.model_copy(
                update={"deferrals": [*self.found.policy.deferrals, deferred]}
            )
            self.notify_deferred(deferred, n)
            self.durable.sleep(f"change window {n}", int((allowed.at - now).total_seconds()) + 1)
            gone = self.revalidate(stack, change_set, fingerprint, redactor, n)
            if gone is not None:
                return gone
        return self.finish(
            Outcome.CHANGE_SET_CREATED,
            f"not executed: deferred {_MAX_DEFERRALS} times by the change policy; the change set "
            "is left for review",
        )

    def consult_calendar(
        self,
        calendar: str,
        chosen: Mapping[str, windows.Weekly],
        level: Risk,
        allowed: windows.Allowed,
        horizon: datetime,
        n: int,
    ) -> windows.Allowed:
        """The SSM Change Calendar is the authority on freezes: from the first instant the
        windows and the policy's freezes allow, ask it (GetCalendarState); while it is CLOSED,
        look again from its next transition. Checkpointed as one step."""
        freezes = self.policy.freezes if self.policy else []
        low = level is Risk.LOW

        def consult() -> dict[str, Any]:
            client = aws.ssm(self.settings.aws_max_attempts)
            current = allowed
            for _ in range(_CALENDAR_LOOKUPS):
                if current.at is None:
                    break
                is_open, changes = parameters.calendar_state(client, calendar, current.at)
                if is_open:
                    break
                held = (*current.freezes, calendar)
                if changes is None or changes >= horizon:
                    current = windows.Allowed(None, None, held)
                    break
                later = windows.when_allowed(chosen, freezes, low, changes, horizon)
                current = windows.Allowed(
                    later.at, later.opening, tuple(dict.fromkeys((*held, *later.freezes)))
                )
            else:
                current = windows.Allowed(None, None, (*current.freezes, calendar))
            return _allowed_json(current)

        return _allowed_of(self.durable.step(f"change calendar {n}", consult))

    def revalidate(
        self,
        stack: StackInfo,
        change_set: ChangeSetInfo,
        fingerprint: str,
        redactor: Redactor,
        n: int,
    ) -> HealResult | None:
        """After a deferral: the change set exactly as it was decided on, the stack not updated,
        no other change set, and the drift still there; else the result that says why not."""
        recheck = self.durable.step(
            f"re-validate after deferral {n}",
            lambda: self.recheck(stack, change_set, redactor),
        )
        why_not = approval.unchanged(fingerprint, stack["LastUpdated"], recheck, "decided on")
        if why_not is not None:
            return self.finish(
                Outcome.CHANGE_SET_CREATED,
                f"deferred by the change policy, then not executed: {why_not}; the change set "
                "is left for review",
            )
        detection = self.detect(stack, f"re-detect after deferral {n}")
        if detection["StackDriftStatus"] == states.IN_SYNC:
            self.discard(change_set, f"delete change set: drift gone {n}")
            return self.finish(
                Outcome.IN_SYNC,
                "the drift was gone when the change window opened; the change set was deleted",
            )
        return None

    def notify_deferred(self, deferred: Deferral, n: int) -> None:
        """Tell people the heal waits for the change policy, and until when."""
        pending = self.result(Outcome.CHANGE_SET_CREATED, "deferred by the change policy")
        self.publish(render.deferral(pending, self.region, deferred), f"notify deferred {n}")

    def start_execution(self, stack: StackInfo, change_set: ChangeSetInfo) -> ExecutionStart:
        """Execute (idempotent by ClientRequestToken), unless a change set the healer did not
        make is on the stack: executing would make CloudFormation delete it."""
        arn, token = change_set.id, naming.execute_token(change_set.name)

        def start() -> ExecutionStart:
            """After a crash between the call and its checkpoint, the retry sees
            EXECUTE_IN_PROGRESS (or later) and does not execute again."""
            client = self.cfn()
            summaries = cfn.list_change_sets(client, stack["StackId"])
            ours = next((s for s in summaries if s["ChangeSetName"] == change_set.name), None)
            if ours is None:  # executed (and so removed) already, or deleted: ask it by ARN
                return {**cfn.change_set_status(client, arn, stack["StackId"]), "Others": []}
            seen: ExecutionStart = {
                "Status": ours["Status"],
                "ExecutionStatus": ours["ExecutionStatus"],
                "StatusReason": "",
                "Others": decisions.others(summaries, change_set.name),
            }
            if seen["ExecutionStatus"] != "AVAILABLE":
                return {**seen, "Others": []}
            if seen["Others"]:
                return seen
            cfn.execute_change_set(client, arn, token)
            return {**seen, "ExecutionStatus": "EXECUTE_IN_PROGRESS"}

        started = self.durable.step("execute change set", start)
        if started["Others"] or started["ExecutionStatus"] in (
            "EXECUTE_IN_PROGRESS",
            *states.DONE_EXECUTING,
        ):
            return started
        raise ExecutionFailed(
            f"the change set could not be executed (status {started['Status']}, execution "
            f"status {started['ExecutionStatus']}); nothing was changed"
        )

    def wait_for_execution(self, stack: StackInfo, started: ExecutionStart) -> None:
        """Wait until the stack stops moving (DescribeStacks alone: the stack's status says how
        the execution ended, and why it rolled back); fail typed unless it was updated."""
        if started["ExecutionStatus"] == "OBSOLETE":
            raise ExecutionFailed(
                "the change set became OBSOLETE: the stack was updated by someone else after "
                "it was created; run the heal again"
            )

        def progress() -> StackProgress:
            now = cfn.describe_stack(self.cfn(), stack["StackId"])
            if now is None:
                return {"StackStatus": "DELETE_COMPLETE", "StackStatusReason": ""}
            return {
                "StackStatus": now["StackStatus"],
                "StackStatusReason": now["StackStatusReason"],
            }

        waited = self.durable.poll_until(
            "execute change set: wait",
            progress,
            lambda p: not states.is_busy(p["StackStatus"]),
            expect=self.expect("Execution"),
            at_once=started["ExecutionStatus"] != "EXECUTE_IN_PROGRESS",
        )
        final = waited.value
        if final["StackStatus"] == "UPDATE_COMPLETE":
            self.learn("Execution", waited)
        if final["StackStatus"] != "UPDATE_COMPLETE":
            raise ExecutionFailed(
                f"executing the change set failed: stack is {final['StackStatus']}"
                + (f" ({final['StackStatusReason'].strip()})" if final["StackStatusReason"] else "")
                + "; CloudFormation rolled back, read the stack events"
            )

    def verify(self, stack: StackInfo, redactor: Redactor) -> HealResult:
        """Detect again: HEALED when in sync, RESIDUAL_DRIFT with what remains. The change set
        was executed and the stack updated: a detection that fails for some resources does not
        undo that, it only leaves them unverified."""
        detection = self.detect(stack, "verify")
        unchecked = self.unchecked(detection)
        verification = Verification(stack_drift_status=detection["StackDriftStatus"] or "UNKNOWN")
        reverted = _count(self.found.drifted_total)
        if detection["StackDriftStatus"] != states.DRIFTED:
            if detection["StackDriftStatus"] == states.IN_SYNC and unchecked is None:
                return self.finish(
                    Outcome.HEALED, f"{reverted} reverted; verified in sync", verification
                )
            if unchecked is None:
                return self.finish(
                    Outcome.HEALED,
                    f"{reverted} reverted; verification inconclusive: the stack's drift status "
                    f"is {verification.stack_drift_status}",
                    verification,
                )
            return self.finish(
                Outcome.HEALED,
                f"{reverted} reverted; verification incomplete, no drift found in what "
                f"CloudFormation could check: {unchecked.describe()}",
                verification,
            )
        remaining = self.durable.step(
            "read residual drift",
            lambda: [
                r["LogicalResourceId"]
                for r in cfn.drifted_resources(self.cfn(), stack["StackId"], redactor)
            ],
        )
        return self.finish(
            Outcome.RESIDUAL_DRIFT,
            "the change set was executed but drift remains on "
            + (limits.names(remaining) or "unknown resources"),
            verification,
        )

    # --------------------------------------------------------------------------- the end
    def finish(
        self, outcome: Outcome, reason: str, verification: Verification | None = None
    ) -> HealResult:
        trail = self.found.policy
        if trail is not None and trail.regressions:
            reason = (
                f"HEALTH REGRESSION after the change: {', '.join(trail.regressions)} went off "
                f"within the bake time; {reason}"
            )
        result = self.keep_record(self.result(outcome, reason, verification))
        self.durable.logger.info(
            "heal finished", extra={"outcome": outcome.value, "reason": reason}
        )
        self.record(result)
        if outcome is not Outcome.IN_SYNC or self.settings.notify_in_sync:
            self.notify(result)
        return result

    def fail(self, error: Exception) -> None:
        """Record and notify a failed heal (the execution then fails with ``error``)."""
        reason = str(error) if isinstance(error, HealError) else f"{type(error).__name__}: {error}"
        failure = self.keep_record(self.result(Outcome.FAILED, reason))
        self.record(failure)
        self.notify(failure)

    def result(
        self, outcome: Outcome, reason: str, verification: Verification | None = None
    ) -> HealResult:
        return HealResult(
            stack_name=self.request.stack_name,
            stack_id=self.found.stack_id,
            outcome=outcome,
            reason=redact_text(reason),
            drifted_resources=self.found.drifted,
            drifted_resource_count=self.found.drifted_total,
            change_set=self.found.change_set,
            verification=verification,
            approval=self.found.approval,
            policy=self.found.policy,
        )

    def keep_record(self, result: HealResult) -> HealResult:
        """Write the change record (CHANGE_RECORD_BUCKET) of an execution that changed or
        proposed a change, before telling anyone: the result and the message carry its key. A
        write that fails after retries is logged and the heal goes on without it."""
        bucket = self.settings.change_record_bucket
        if not bucket or not change_record.wanted(result):
            return result
        written = self.durable.now("clock: change record")
        where = change_record.key(result.stack_name, self.execution, written)
        located = result.model_copy(update={"change_record": f"s3://{bucket}/{where}"})
        document = change_record.document(
            located,
            self.request,
            self.execution,
            self.settings.approval_for,
            self.lowered,
            written,
        )
        try:
            self.durable.step(
                "write change record",
                lambda: storage.put_record(
                    aws.s3(self.settings.aws_max_attempts), bucket, where, document
                ),
            )
        except HealError as error:
            self.durable.logger.error(
                "the change record could not be written; the heal goes on without it",
                extra={"error": str(error), "key": where},
            )
            return result
        return located

    def record(self, result: HealResult) -> None:
        """Metrics, and the stack's timings for its next heal, once per execution (a step body
        does not run again on replay)."""

        def measured() -> None:
            self.keep_timings()  # never raises: a retry of the step would count twice
            telemetry.record(
                result.outcome, len(result.drifted_resources), result.change_set is not None
            )

        self.durable.best_effort_step("record metrics", measured)

    def keep_timings(self) -> None:
        """Write what this heal's waits learned (HISTORY_BUCKET). A hint for the next heal: a
        write that fails is logged, and the next heal estimates from the stack's size."""
        bucket, stack_id = self.settings.history_bucket, self.found.stack_id
        if not bucket or stack_id is None:
            return

        def write() -> None:
            kept = timings.remember(
                self.timings,
                self.next_looks,
                self.resources,
                self.durable.clock().astimezone(UTC),
            )
            if kept is not None:
                storage.put_text(
                    aws.s3(self.settings.aws_max_attempts),
                    bucket,
                    timings.key(stack_id),
                    kept.to_json(),
                )

        self.hint("write the stack's timings", "the next heal's", write)

    def notify(self, result: HealResult) -> None:
        """Tell people how the heal ended."""
        self.publish(render.render(result, self.region), f"notify {result.outcome.value}")

    def publish(self, message: Message, step: str) -> None:
        """Publish (with durable retries). Without a topic the message is logged; a publish that
        still fails is logged in full, and the heal goes on all the same: it is never undone
        (or held) by a mail problem."""
        topic = self.settings.sns_topic_arn
        if not topic:
            self.durable.logger.info(
                "no SNS_TOPIC_ARN set; notification only logged",
                extra={"subject": message.subject, "body": message.body},
            )
            return
        try:
            self.durable.step(
                step,
                lambda: sns.publish(aws.sns(self.settings.aws_max_attempts), topic, message),
            )
        except HealError as error:
            self.durable.logger.error(
                "notification could not be published",
                extra={"error": str(error), "subject": message.subject, "body": message.body},
            )

    # --------------------------------------------------------------------------- helpers
    def cfn(self) -> CloudFormationClient:
        """The target stack's CloudFormation client (its region; its account's role)."""
        return aws.cloudformation(
            self.region,
            self.request.role_arn,
            naming.execution_id(self.execution),
            self.settings.aws_max_attempts,
        )

    def name(self) -> str:
        """This execution's change set name."""
        return naming.change_set_name(self.settings.change_set_prefix, self.execution)


#: A Change Calendar is asked at most this many times for one decision (closed, open a while,
#: closed again ...); past that, the change set is left for review.
_CALENDAR_LOOKUPS = 20


def _allowed_json(allowed: windows.Allowed) -> dict[str, Any]:
    """An Allowed as a step may checkpoint it."""
    opening = allowed.opening
    return {
        "At": allowed.at.isoformat() if allowed.at else None,
        "Opening": [opening.window, opening.opens.isoformat(), opening.closes.isoformat()]
        if opening
        else None,
        "Freezes": list(allowed.freezes),
    }


def _allowed_of(data: dict[str, Any]) -> windows.Allowed:
    opening = data["Opening"]
    return windows.Allowed(
        datetime.fromisoformat(data["At"]) if data["At"] else None,
        windows.Opening(
            opening[0], datetime.fromisoformat(opening[1]), datetime.fromisoformat(opening[2])
        )
        if opening
        else None,
        tuple(data["Freezes"]),
    )


#: Left of the execution's timeout after a deferral for its steps (reads, notices, records),
#: beyond its waits and the bake time.
_FOR_STEPS = timedelta(minutes=15)
#: A heal waits for a window at most this many times (a window that keeps closing before the
#: heal gets to execute, say); then it leaves the change set for review.
_MAX_DEFERRALS = 5


def _duration(seconds: int) -> str:
    hours, minutes = seconds // 3600, seconds % 3600 // 60
    return f"{hours} h {minutes} min" if hours else f"{minutes} min {seconds % 60} s"


def _count(resources: int) -> str:
    return f"{resources} resource{'s' if resources != 1 else ''}"


def _report(resources: list[DriftRecord]) -> DriftReport:
    """The drift report as it may be checkpointed (see policy.limits)."""
    return {"Resources": limits.bound_drift(resources), "Total": len(resources)}


def _describe(unchecked: detection_policy.Unchecked | None) -> str:
    return "no reason given" if unchecked is None else unchecked.describe()


def _partly(unchecked: detection_policy.Unchecked | None) -> str:
    """The note a partial detection adds to a reason."""
    if unchecked is None:
        return ""
    return f"; the detection was partial: {unchecked.describe()}"


def run(
    event: object,
    context: DurableContext,
    settings: Settings,
    clock: Callable[[], datetime] | None = None,
) -> dict[str, Any]:
    """Validate, then heal. The durable handler's body; returns the result contract's JSON."""
    request = parse_request(event)
    logger.append_keys(stack=request.stack_name, mode=request.mode)
    context.set_logger(logger)
    return Heal(context, request, settings, clock).run().dump()
