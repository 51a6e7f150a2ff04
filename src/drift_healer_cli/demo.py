"""``drift-healer demo``: a first deployment's story in the embedded sandbox, on a virtual clock.

A stack drifts; it is enrolled by tag while the healer proposes only (HealMode=propose), so the
first scheduled run leaves a change set for review; the team switches to HealMode=heal, and the
next scheduled run heals and verifies. Then, under change control (ApprovalFor=all,
ReviewLinks=enabled), the next drift waits for a person, who approves it on the review page; and
under a change policy, a heal ready in the afternoon waits for the night's change window.
Everything runs in this process, in a few seconds.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from drift_healer.settings import FleetSettings, Settings
from drift_healer_cli import console
from drift_healer_cli.console import say

if TYPE_CHECKING:
    from drift_healer_cli.local import LocalRun, LocalRunner
    from drift_sandbox import Sandbox

STACK = "checkout"
TAG = "drift-healer"
GROUP = "drift-healer-schedules"
Mode = Literal["dry-run", "propose", "heal"]

SIMULATED = """\
drift-healer demo: a first deployment, from a drifted stack to a healed one.

What is simulated: an emulated AWS account runs inside this process (moto with drift-healer's
CloudFormation drift extension, account {account}, {region}); no AWS credentials are used and
nothing leaves this machine. The healer, its durable workflow and the reconciler are the real
code. The executions run on a virtual clock: the minutes CloudFormation takes to detect drift,
make a change set and update the stack pass in no time, and each timeline shows them as they
would pass in AWS."""


@dataclass
class VirtualClock:
    """The sandbox's clock: the virtual clock of the runner in use, never going back when the
    next runner takes over (each starts at the wall clock), plus any time the story skips."""

    runner: LocalRunner | None = None
    offset: timedelta = field(default_factory=timedelta)

    def __call__(self) -> datetime:
        if self.runner is None:
            return datetime.now().astimezone() + self.offset
        return self.runner.now() + self.offset

    def hand_to(self, runner: LocalRunner, later: timedelta = timedelta(0)) -> None:
        """``runner`` takes over, ``later`` after now (the next night, say)."""
        now = self()
        self.runner = runner
        self.offset = now + later - runner.now()

    def skip(self, by: timedelta) -> None:
        self.offset += by


def run() -> int:
    """The story, section by section; exit code 0 when the stack is healed and verified."""
    from drift_healer_cli.local import LocalRunner
    from drift_sandbox import ACCOUNT_ID, Sandbox

    began = time.monotonic()
    clock = VirtualClock()
    with console.quiet(), Sandbox(clock=clock) as sandbox, sandbox.environ():
        print(SIMULATED.format(account=ACCOUNT_ID, region=sandbox.region))
        topic = sandbox.client("sns").create_topic(Name="drift-healer")["TopicArn"]
        inbox = sandbox.inbox(topic)
        _deploy_and_drift(sandbox)

        say("3. drift-healer is deployed", "HealMode=propose, as a first deployment is")
        print("   Nothing is executed until the team sets HealMode=heal: each scheduled run")
        print("   proposes a change set and emails the review link.")
        event = _enrol(sandbox, "propose")

        say("4. The schedule fires at night", "its event starts the healer, which PROPOSES")
        proposing = LocalRunner(_healer(topic, "propose"), skip_time=True)
        try:
            clock.hand_to(proposing)
            first = proposing.run(event, name="nightly-1")
        finally:
            proposing.close()
        _show(first)
        if not first.succeeded or first.result is None:
            print(f"\nThe heal FAILED: {first.error}")
            return 1
        say("5. The notification the team gets (SNS email)")
        for note in inbox.messages():
            console.notification(note.subject, note.message)

        change_set = (first.result.get("ChangeSet") or {}).get("Name", "")
        event = _switch_to_heal(sandbox, change_set)

        say("7. The next night the schedule fires again", "the healer HEALS")
        healing = LocalRunner(_healer(topic, "heal"), skip_time=True)
        try:
            clock.hand_to(healing, later=timedelta(days=1))
            second = healing.run(event, name="nightly-2")
        finally:
            healing.close()
        _show(second)
        for note in inbox.messages():
            print(f"   notification: {note.subject}")
        if not second.succeeded or second.result is None:
            print(f"\nThe heal FAILED: {second.error}")
            return 1
        say("8. The result", "the execution's output in full (the README's \"The result\")")
        console.block(json.dumps(second.result, indent=2))
        code = _verify(sandbox, second.result, clock)
        if code == 0:
            code = _approval_round(sandbox, topic, event, clock)
        if code == 0:
            code = _change_window(sandbox, topic, event, clock)
    print(f"\n(the whole story took {time.monotonic() - began:.1f} s of real time)")
    return code


def _approval_round(
    sandbox: Sandbox, topic: str, event: dict[str, Any], clock: VirtualClock
) -> int:
    """Change control: the next drift waits for a person, who reads it on the review page and
    approves it there; the heal goes on, verifies, and records who approved."""
    import os
    import urllib.error
    import urllib.parse
    import urllib.request

    from drift_healer import aws, secrets
    from drift_healer_cli.local import LocalRunner
    from drift_healer_cli.review_server import ReviewServer

    say("10. Under change control, a person approves", "ApprovalFor=all, ReviewLinks=enabled")
    print("   The team now wants every change approved, from the email, in a browser:")
    print("   $ sam deploy --parameter-overrides HealMode=heal ApprovalFor=all ReviewLinks=enabled")
    print("   (the template adds the review page, a function behind a Function URL, and the")
    print("   secret in Secrets Manager that signs its links)")
    secret = sandbox.client("secretsmanager").create_secret(
        Name="drift-healer-review", SecretString=_demo_secret()
    )["ARN"]
    print("   Someone switches the feature flag on again, by hand:")
    print(
        "   $ aws ssm put-parameter --name /checkout/demo/new-payment-flow --value on "
        "--type String --overwrite"
    )
    sandbox.client("ssm").put_parameter(
        Name="/checkout/demo/new-payment-flow", Value="on", Type="String", Overwrite=True
    )
    inbox = sandbox.inbox(topic)
    settings = _healer(topic, "heal").model_copy(update={"review_secret_arn": secret})
    with ReviewServer(settings) as page:
        asking = LocalRunner(
            settings.model_copy(update={"approval_for": "all", "review_url": page.url}),
            skip_time=True,
        )
        saved = os.environ.get("AWS_ENDPOINT_URL_LAMBDA")
        try:
            clock.hand_to(asking, later=timedelta(days=1))
            arn = asking.start(event, name="nightly-3")
            asking.callback(arn)
            # the review page reaches this run's durable-execution API, as it would Lambda's
            os.environ["AWS_ENDPOINT_URL_LAMBDA"] = asking.serve()
            aws.reset()
            secrets.forget()
            [request] = inbox.messages()
            say("11. The approval request (SNS email)", "the heal waits, at no cost")
            console.notification(request.subject, request.message)
            link = request.message.split("until the deadline): ", 1)[1].split()[0]

            say("12. The reviewer opens the link", "a page on the review function's URL")
            shown = _fetch(link)
            print(f"   GET {link[:60]}... -> {shown[0]}")
            for line in _text_of(shown[1]):
                print(f"   | {line}")
            print("   Opening it changes nothing (mail scanners follow links too). They fill in")
            print("   the form and press Approve:")
            form = {
                "t": urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["t"][0],
                "name": "ana@example.com",
                "ticket": "CHG-1234",
                "comment": "reviewed the flag",
                "confirm": "yes",
                "decision": "approve",
            }
            answered = _fetch(page.url, urllib.parse.urlencode(form))
            print(f"   POST {page.url} -> {answered[0]}: {_text_of(answered[1])[0]}")
            again = _fetch(link)
            print(f"   the same link again -> {again[0]}: {_text_of(again[1])[0]}")

            say("13. The heal goes on", "re-checks, executes, verifies, records who approved")
            third = asking.finish(arn)
        finally:
            asking.close()
            if saved is None:
                os.environ.pop("AWS_ENDPOINT_URL_LAMBDA", None)
            else:
                os.environ["AWS_ENDPOINT_URL_LAMBDA"] = saved
            aws.reset()
    _show(third)
    if third.result is None:
        print(f"\nThe heal FAILED: {third.error}")
        return 1
    print(f"   its Approval: {json.dumps(third.result.get('Approval'))}")
    return 0 if third.result["Outcome"] == "HEALED" else 1


#: The change policy of the last section: weeknights in Berlin.
_POLICY = {
    "Windows": {
        "weeknights": {
            "Days": ["Mon", "Tue", "Wed", "Thu", "Fri"],
            "Start": "22:00",
            "End": "06:00",
            "TimeZone": "Europe/Berlin",
        }
    }
}


def _change_window(sandbox: Sandbox, topic: str, event: dict[str, Any], clock: VirtualClock) -> int:
    """A change policy: a heal ready at 14:00 is deferred, notified, waits for 22:00 at no cost,
    checks again and executes inside the window."""
    from zoneinfo import ZoneInfo

    from drift_healer_cli.local import LocalRunner

    say("14. A change window", "changes only on weeknights, 22:00-06:00 Europe/Berlin")
    document = json.dumps(_POLICY)
    print("   The team keeps its change policy in SSM Parameter Store:")
    print(
        "   $ aws ssm put-parameter --name /drift-healer/change-policy --type String "
        f"--value '{document}'"
    )
    # sam deploy keeps the parameters it is not given: ApprovalFor=all from section 10 would
    # still ask a person, and this section's healer does not
    print(
        "   $ sam deploy --parameter-overrides ChangePolicyParameter=/drift-healer/change-policy "
        "ApprovalFor=none"
    )
    sandbox.client("ssm").put_parameter(
        Name="/checkout/demo/new-payment-flow", Value="on", Type="String", Overwrite=True
    )
    settings = _healer(topic, "heal").model_copy(update={"change_policy": document})
    inbox = sandbox.inbox(topic)
    inbox.messages()  # what earlier sections were told: not this section's
    runner = LocalRunner(settings, skip_time=True)
    try:
        clock.hand_to(runner, later=timedelta(days=1))
        berlin = ZoneInfo("Europe/Berlin")
        day = runner.now().astimezone(berlin).date() + timedelta(days=1)
        while day.weekday() > 3:  # a Monday to Thursday, so that 22:00 opens a window
            day += timedelta(days=1)
        afternoon = datetime(day.year, day.month, day.day, 14, 0, tzinfo=berlin)
        runner.skip_to(afternoon)
        print(
            f"   The feature flag drifts again; the schedule fires at {afternoon:%A %H:%M} Berlin:"
        )
        run = runner.run(event, name="afternoon")
    finally:
        runner.close()
    _show(run)
    for note in inbox.messages():
        print(f"   notification: {note.subject}")
    if run.result is None:
        print(f"\nThe heal FAILED: {run.error}")
        return 1
    print(f"   its Policy: {json.dumps(run.result.get('Policy'))}")
    return 0 if run.result["Outcome"] == "HEALED" else 1


def _demo_secret() -> str:
    import secrets as random

    return random.token_urlsafe(48)


def _fetch(url: str, form: str | None = None) -> tuple[int, str]:
    """Status and body of a GET (or, with ``form``, a POST) to the local review page."""
    import urllib.error
    import urllib.request

    data = form.encode() if form is not None else None
    try:
        with urllib.request.urlopen(url, data=data, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()


def _text_of(html: str) -> list[str]:
    """What a reader sees of the page's main part, one line per block, without markup."""
    import re
    from html import unescape

    main = html.split("<main>", 1)[-1].split("</form>", 1)[0].split("</main>", 1)[0]
    main = re.sub(r"<(style|script)[^>]*>.*?</\1>", "", main, flags=re.S)
    main = re.sub(r"</(h1|h2|p|tr|li|dd|caption|legend|label)>", "\n", main)
    main = re.sub(r"</t[dh]>", "  ", main)
    lines = [" ".join(unescape(re.sub(r"<[^>]+>", " ", line)).split()) for line in main.split("\n")]
    return [line for line in lines if line][:24]


def _healer(topic: str, mode: Mode) -> Settings:
    """The healer as the template configures it: opt-in by tag, the deployment's HealMode."""
    return Settings(sns_topic_arn=topic, opt_in_tag_key=TAG, heal_mode=mode)


def _deploy_and_drift(sandbox: Sandbox) -> None:
    from drift_sandbox.demo import create_demo_stack, drift_demo_stack

    say("1. A stack is deployed", STACK)
    resources = create_demo_stack(sandbox, STACK)
    for logical, physical in resources.items():
        print(f"   {logical:12} {physical}")
    say("2. Someone changes it by hand, outside CloudFormation", "")
    for command in drift_demo_stack(sandbox, resources):
        print(f"   $ {command}")


def _enrol(sandbox: Sandbox, mode: Mode) -> dict[str, Any]:
    """Tag the stack, run the reconciler, and return the event of the schedule it made."""
    print("   The stack's owner enrols it by tag; the reconciler schedules it:")
    print(
        f"   $ aws cloudformation update-stack --stack-name {STACK} --use-previous-template "
        f"--parameters ParameterKey=Env,UsePreviousValue=true --tags Key={TAG},Value=enabled"
    )
    sandbox.tag_stack(STACK, {TAG: "enabled"})
    sandbox.client("scheduler").create_schedule_group(Name=GROUP)
    return _reconcile(sandbox, mode)


def _switch_to_heal(sandbox: Sandbox, change_set: str) -> dict[str, Any]:
    """The team reviews the proposal, deletes it and lets the healer execute from now on."""
    say("6. The team reviews the proposal and lets the healer heal from now on", "")
    print("   They agree with the change set. Rather than execute it by hand, they delete it (the")
    print("   healer skips a stack while one of its change sets awaits review):")
    print(
        f"   $ aws cloudformation delete-change-set --stack-name {STACK} "
        f"--change-set-name {change_set}"
    )
    sandbox.client("cloudformation").delete_change_set(StackName=STACK, ChangeSetName=change_set)
    print('   Then they set HealMode="heal" in samconfig.toml (parameter_overrides) and redeploy;')
    print("   the healer and the reconciler now run with HEAL_MODE=heal:")
    print("   $ sam build && sam deploy")
    print("   The reconciler rewrites the schedule's event at its next run (hourly), or now:")
    print("   $ make reconcile")
    return _reconcile(sandbox, "heal")


def _reconcile(sandbox: Sandbox, mode: Mode) -> dict[str, Any]:
    """Run the reconciler with the deployment's HealMode; show what it wrote and the event the
    stack's schedule now sends."""
    from drift_healer.reconciler import Reconciler
    from drift_sandbox import ACCOUNT_ID

    region, account = sandbox.region, ACCOUNT_ID
    fleet = FleetSettings(
        heal_mode=mode,
        schedule_group=GROUP,
        scheduler_role_arn=f"arn:aws:iam::{account}:role/drift-healer/scheduler",
        healer_target_arn=f"arn:aws:lambda:{region}:{account}:function:drift-healer:live",
        schedule_dead_letter_arn=f"arn:aws:sqs:{region}:{account}:schedule-dead-letters",
    )
    result = Reconciler(fleet).run()
    wrote = ", ".join(
        f"{count} schedule {what}"
        for what, count in (
            ("created", result.created),
            ("updated", result.updated),
            ("deleted", result.deleted),
            ("unchanged", result.unchanged),
        )
        if count
    )
    print(f"   reconciler (HealMode={mode}): {result.enrolled} enrolled stack; {wrote}")
    if result.created and result.deleted:
        print("   (the schedule's definition changed: a schedule's name carries a hash of it, so")
        print("   the updated schedule is written under its new name, then the old one deleted)")
    scheduler = sandbox.client("scheduler")
    for summary in scheduler.list_schedules(GroupName=GROUP)["Schedules"]:
        schedule = scheduler.get_schedule(GroupName=GROUP, Name=summary["Name"])
        window = schedule["FlexibleTimeWindow"].get("MaximumWindowInMinutes", 0)
        print(f"   schedule {schedule['Name']}")
        print(
            f"     {schedule['ScheduleExpression']} {schedule['ScheduleExpressionTimezone']}, "
            f"within a {window}-minute flexible window (the time itself is the default "
            "schedule plus an offset from a hash of the stack ARN, spreading a fleet's starts)"
        )
        event = dict(sandbox.scheduled_event(GROUP, summary["Name"]))
        print(f"     its event: {json.dumps(event)}")
        return event
    raise RuntimeError("the reconciler created no schedule")


def _show(run: LocalRun) -> None:
    """The execution's timeline and outcome."""
    print("   The execution, phase by phase, on the virtual clock:")
    console.timeline(run.phases)
    if run.result is not None:
        print(f"   outcome {run.result['Outcome']}: {run.result['Reason']}")
        if run.result["Outcome"] == "CHANGE_SET_CREATED":
            print("   Nothing was executed: the change set waits for a person's review.")


def _verify(sandbox: Sandbox, result: dict[str, Any], clock: VirtualClock) -> int:
    """Check independently of the healer: detect drift again, straight from the sandbox."""
    cfn = sandbox.client("cloudformation")
    detection = cfn.detect_stack_drift(StackName=STACK)["StackDriftDetectionId"]
    clock.skip(timedelta(hours=1))  # lets the detection finish
    status = cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection)
    say("9. Independent check", "a drift detection of our own, outside the healer")
    print(f"   outcome {result['Outcome']}, stack drift status now {status['StackDriftStatus']}")
    healed = result["Outcome"] == "HEALED" and status["StackDriftStatus"] == "IN_SYNC"
    print("   " + ("healed and verified." if healed else "NOT healed."))
    return 0 if healed else 1
