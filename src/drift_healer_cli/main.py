"""drift-healer: run the healing workflow on this machine.

drift-healer demo                      the whole job in the embedded sandbox
drift-healer heal STACK [flags]        the same durable workflow against AWS (or --sandbox)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from drift_healer.models import HealRequest
from drift_healer.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="drift-healer", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="heal a drifted demo stack in the embedded sandbox")
    heal = commands.add_parser("heal", help="heal one stack with the local durable runner")
    heal.add_argument("stack", help="stack name or ARN")
    mode = heal.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="detect and report; create nothing")
    mode.add_argument(
        "--create-change-set-only", action="store_true", help="stop once the change set exists"
    )
    heal.add_argument("--region", help="region of the stack (default: your AWS config)")
    heal.add_argument("--profile", help="AWS profile to use")
    heal.add_argument(
        "--sandbox",
        action="store_true",
        help="use the embedded sandbox (a drifted demo stack named STACK is created first)",
    )
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo()
    return heal_command(args)


# ------------------------------------------------------------------------------------ demo
def demo() -> int:
    """Sandbox, demo stack, out-of-band drift, the durable heal on a virtual clock, the
    notification, and an independent check that the stack is in sync."""
    from drift_healer_cli.local import LocalRunner
    from drift_sandbox import Sandbox
    from drift_sandbox.demo import create_demo_stack, drift_demo_stack

    for name in ("drift-healer", "drift-healer-reconciler"):  # the timeline tells the story
        logging.getLogger(name).setLevel(logging.WARNING)
    holder: list[LocalRunner] = []
    later = [timedelta(0)]  # lets the independent check finish its own detection
    with (
        Sandbox(clock=lambda: holder[0].now() + later[0]) as sandbox,
        sandbox.environ(),
    ):
        topic = sandbox.client("sns").create_topic(Name="drift-healer")["TopicArn"]
        inbox = sandbox.inbox(topic)
        healer = Settings(sns_topic_arn=topic, opt_in_tag_key="drift-healer", heal_mode="heal")
        runner = LocalRunner(healer, skip_time=True)
        holder.append(runner)
        try:
            _say("1. A stack is deployed", "")
            resources = create_demo_stack(sandbox, "checkout")
            for logical, physical in resources.items():
                print(f"   {logical:12} {physical}")
            _say("2. Someone changes it by hand, outside CloudFormation", "")
            for change in drift_demo_stack(sandbox, resources):
                print(f"   $ aws {change}")
            nightly = _enrol(sandbox, "checkout")
            _say("4. The schedule fires: its event starts the healer", json.dumps(nightly))
            outcome = runner.run(nightly)
            _timeline(outcome.phases)
            _say("5. The notification", "")
            for note in inbox.messages():
                print(f"   Subject: {note.subject}")
                print("   " + note.message.replace("\n", "\n   "))
            if not outcome.succeeded or outcome.result is None:
                print(f"\nThe heal FAILED: {outcome.error}")
                return 1
            _say("6. The result", "")
            print("   " + json.dumps(_short(outcome.result), indent=2).replace("\n", "\n   "))
            return _verify(sandbox, outcome.result, later)
        finally:
            runner.close()


def _enrol(sandbox: Any, stack: str) -> dict[str, Any]:
    """Tag the stack, run the reconciler, and return the event of the schedule it made."""
    from drift_healer.reconciler import Reconciler
    from drift_healer.settings import FleetSettings
    from drift_sandbox import ACCOUNT_ID

    _say("3. Its owner enrols it by tag; the reconciler schedules it", "")
    print(
        f"   $ aws cloudformation update-stack --stack-name {stack} --use-previous-template "
        "--tags Key=drift-healer,Value=enabled"
    )
    sandbox.tag_stack(stack, {"drift-healer": "enabled"})
    group = "drift-healer-schedules"
    sandbox.client("scheduler").create_schedule_group(Name=group)
    region, account = sandbox.region, ACCOUNT_ID
    fleet = FleetSettings(
        heal_mode="heal",  # the deployment's ceiling; a first deployment proposes only
        schedule_group=group,
        scheduler_role_arn=f"arn:aws:iam::{account}:role/drift-healer/scheduler",
        healer_target_arn=f"arn:aws:lambda:{region}:{account}:function:drift-healer:live",
        schedule_dead_letter_arn=f"arn:aws:sqs:{region}:{account}:schedule-dead-letters",
    )
    result = Reconciler(fleet).run()
    print(
        f"   reconciler: {result.enrolled} enrolled stack, {result.created} schedule created, "
        f"{result.unchanged} unchanged"
    )
    scheduler = sandbox.client("scheduler")
    for summary in scheduler.list_schedules(GroupName=group)["Schedules"]:
        schedule = scheduler.get_schedule(GroupName=group, Name=summary["Name"])
        window = schedule["FlexibleTimeWindow"].get("MaximumWindowInMinutes", 0)
        print(f"   schedule {schedule['Name']}")
        print(
            f"     {schedule['ScheduleExpression']} {schedule['ScheduleExpressionTimezone']}, "
            f"within {window} minutes (the start is spread by a hash of the stack ARN)"
        )
        return dict(sandbox.scheduled_event(group, summary["Name"]))
    raise RuntimeError("the reconciler created no schedule")


def _verify(sandbox: Any, result: dict[str, Any], later: list[timedelta]) -> int:
    """Check independently of the healer: detect drift again, straight from the sandbox."""
    cfn = sandbox.client("cloudformation")
    detection = cfn.detect_stack_drift(StackName="checkout")["StackDriftDetectionId"]
    later[0] += timedelta(hours=1)
    status = cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection)
    _say("7. Independent check", "")
    print(f"   outcome {result['Outcome']}, stack drift status now {status['StackDriftStatus']}")
    healed = result["Outcome"] == "HEALED" and status["StackDriftStatus"] == "IN_SYNC"
    print("   " + ("healed and verified." if healed else "NOT healed."))
    return 0 if healed else 1


# ------------------------------------------------------------------------------------ heal
def heal_command(args: argparse.Namespace) -> int:
    if args.profile:
        os.environ["AWS_PROFILE"] = args.profile
    # Built unvalidated: the handler validates it, exactly as it validates an invoke's payload.
    event = HealRequest.model_construct(
        stack_name=args.stack,
        dry_run=args.dry_run,
        create_change_set_only=args.create_change_set_only,
        region=args.region,
    ).event()
    if not args.sandbox:
        return _heal(event, Settings())

    from drift_sandbox import Sandbox, Timing
    from drift_sandbox.demo import create_demo_stack, drift_demo_stack

    brisk = Timing(detection_base=2, detection_per_resource=0.5, change_set_creation=3)
    with Sandbox(server=True, timing=brisk) as sandbox, sandbox.environ():
        drift_demo_stack(sandbox, create_demo_stack(sandbox, args.stack))
        print(f"sandbox at {sandbox.endpoint_url}: drifted demo stack {args.stack!r} created")
        return _heal(event, Settings())


def _heal(event: dict[str, Any], settings: Settings) -> int:
    from drift_healer_cli.local import LocalRunner, Phase

    runner = LocalRunner(settings, skip_time=False)
    started = datetime.now().astimezone()

    def progress(phase: Phase) -> None:
        elapsed = (datetime.now().astimezone() - started).total_seconds()
        print(f"  [{elapsed:6.0f}s] {phase.name}", flush=True)

    print(f"healing {event['StackName']} (waits are real: CloudFormation takes its time)")
    try:
        outcome = runner.run(event, progress=progress)
    finally:
        runner.close()
    if not outcome.succeeded:
        print(f"FAILED: {outcome.error}", file=sys.stderr)
        return 1
    print(json.dumps(outcome.result, indent=2))
    return 0


# ------------------------------------------------------------------------------------ output
def _say(title: str, detail: str) -> None:
    print(f"\n== {title}" + (f": {detail}" if detail else ""))


def _timeline(phases: Sequence[Any]) -> None:
    """Each phase with its start and duration on the (virtual) clock: waits cost nothing."""
    if not phases:
        return
    origin = min(p.started for p in phases if p.started)
    for phase in phases:
        if phase.started is None:
            continue
        start = (phase.started - origin).total_seconds()
        took = ((phase.ended or phase.started) - phase.started).total_seconds()
        polls = f"  ({phase.attempts} polls)" if phase.name.endswith("wait") else ""
        print(f"   t+{start:6.1f}s  {phase.name:28} {took:6.1f}s{polls}")


def _short(result: dict[str, Any]) -> dict[str, Any]:
    change_set = result.get("ChangeSet") or {}
    return {
        "Outcome": result["Outcome"],
        "Reason": result["Reason"],
        "DriftedResources": [r["LogicalResourceId"] for r in result["DriftedResources"]],
        "ChangeSet": {k: change_set.get(k) for k in ("Name", "Risk")} if change_set else None,
        "Verification": result["Verification"],
    }


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
