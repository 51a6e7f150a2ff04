"""``drift-healer demo``: the whole job in the embedded sandbox, on a virtual clock."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from drift_healer.settings import Settings
from drift_healer_cli.console import say, timeline


def run() -> int:
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
            say("1. A stack is deployed", "")
            resources = create_demo_stack(sandbox, "checkout")
            for logical, physical in resources.items():
                print(f"   {logical:12} {physical}")
            say("2. Someone changes it by hand, outside CloudFormation", "")
            for change in drift_demo_stack(sandbox, resources):
                print(f"   $ aws {change}")
            nightly = _enrol(sandbox, "checkout")
            say("4. The schedule fires: its event starts the healer", json.dumps(nightly))
            outcome = runner.run(nightly)
            timeline(outcome.phases)
            say("5. The notification", "")
            for note in inbox.messages():
                print(f"   Subject: {note.subject}")
                print("   " + note.message.replace("\n", "\n   "))
            if not outcome.succeeded or outcome.result is None:
                print(f"\nThe heal FAILED: {outcome.error}")
                return 1
            say("6. The result", "")
            print("   " + json.dumps(_short(outcome.result), indent=2).replace("\n", "\n   "))
            return _verify(sandbox, outcome.result, later)
        finally:
            runner.close()


def _enrol(sandbox: Any, stack: str) -> dict[str, Any]:
    """Tag the stack, run the reconciler, and return the event of the schedule it made."""
    from drift_healer.reconciler import Reconciler
    from drift_healer.settings import FleetSettings
    from drift_sandbox import ACCOUNT_ID

    say("3. Its owner enrols it by tag; the reconciler schedules it", "")
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
    say("7. Independent check", "")
    print(f"   outcome {result['Outcome']}, stack drift status now {status['StackDriftStatus']}")
    healed = result["Outcome"] == "HEALED" and status["StackDriftStatus"] == "IN_SYNC"
    print("   " + ("healed and verified." if healed else "NOT healed."))
    return 0 if healed else 1


def _short(result: dict[str, Any]) -> dict[str, Any]:
    change_set = result.get("ChangeSet") or {}
    return {
        "Outcome": result["Outcome"],
        "Reason": result["Reason"],
        "DriftedResources": [r["LogicalResourceId"] for r in result["DriftedResources"]],
        "ChangeSet": {k: change_set.get(k) for k in ("Name", "Risk")} if change_set else None,
        "Verification": result["Verification"],
    }
