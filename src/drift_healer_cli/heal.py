"""``drift-healer heal STACK``: the durable workflow on this machine, against AWS or the sandbox."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING, Any

from drift_healer.models import Message
from drift_healer.policy.enrolment import TAG_KEY as TAG
from drift_healer.settings import Settings

if TYPE_CHECKING:
    from drift_healer_cli.local import Decide


def run(args: argparse.Namespace) -> int:
    """Check what can be checked first (request, settings, profile, region, credentials: a
    mistake costs one line, not a sandbox or an execution), then heal. Failures are raised for
    main() to explain (drift_healer_cli.errors)."""
    from drift_healer_cli import checks, errors

    event = checks.request(args)
    # Locally as in Lambda: only stacks tagged drift-healer are healed (unless OPT_IN_TAG_KEY
    # says otherwise), and the tag's mode caps the heal.
    settings = Settings()
    checks.change_policy(settings)
    if "OPT_IN_TAG_KEY" not in os.environ:
        settings = settings.model_copy(update={"opt_in_tag_key": TAG})
    event, decide, how = _how_far(args, event)
    errors.forget_phases()
    try:
        if not args.sandbox:
            checks.aws_setup(args)
            return _heal(event, settings, decide, how)

        from botocore.exceptions import ClientError

        from drift_sandbox import DEFAULT_REGION, Sandbox, Timing
        from drift_sandbox.demo import create_demo_stack, drift_demo_stack

        # Seconds, not minutes: a sandbox heal shows every phase and its polls in ~20 s.
        brisk = Timing(
            detection_base=1,
            detection_per_resource=0.25,
            change_set_creation=2,
            execution_base=5,
            execution_per_change=1,
        )
        # ... which the healer's estimates (made for AWS) would overshoot: poll geometrically.
        settings = settings.model_copy(update={"poll_estimates": False})
        region = args.region or DEFAULT_REGION
        with Sandbox(server=True, timing=brisk, region=region) as sandbox, sandbox.environ():
            try:
                drift_demo_stack(sandbox, create_demo_stack(sandbox, args.stack, {TAG: "enabled"}))
            except ClientError as refused:
                raise errors.CliError(
                    errors.Exit.USAGE,
                    f"the sandbox could not create a demo stack named {args.stack!r}: "
                    f"{refused.response.get('Error', {}).get('Message', refused)}",
                    "choose another STACK name (letters, digits and hyphens)",
                ) from refused
            print(
                f"sandbox at {sandbox.endpoint_url}: drifted demo stack {args.stack!r} created "
                f"(tagged {TAG}=enabled)"
            )
            return _heal(event, settings, decide, how)
    except KeyboardInterrupt as interrupt:
        raise errors.interrupted(
            args.stack, settings.change_set_prefix, args.sandbox
        ) from interrupt


def _how_far(
    args: argparse.Namespace, event: dict[str, Any]
) -> tuple[dict[str, Any], Decide | None, str]:
    """Against a real account nothing is executed unasked: on a terminal the heal shows the
    plan and asks (RequireApproval, answered here); without one it only proposes; --yes lets a
    LOW risk change set run as the nightly heal would."""
    if args.dry_run or args.create_change_set_only:
        return event, None, ""
    if args.yes:
        return event, None, "--yes: a LOW risk change set is executed without asking"
    if sys.stdin.isatty() and sys.stderr.isatty():  # someone can read the question and answer
        return (
            {**event, "RequireApproval": True},
            _confirm,
            "you are shown the plan and asked before anything is executed",
        )
    return (
        {**event, "CreateChangeSetOnly": True},
        None,
        "no terminal to ask on: the change set is proposed, not executed (--yes executes a LOW "
        "risk one unattended)",
    )


def _confirm(request: Message | None) -> tuple[bool, dict[str, str]]:
    """Show the plan (the approval request a reviewer would get) and ask."""
    from drift_healer_cli import console

    if request is not None:
        console.say("The plan", "")
        console.notification(request.subject, _plan_only(request.body))
    from drift_healer_cli.errors import reached

    reached("approval: waiting for your answer")
    print(
        "\nExecute this change set now? Type yes to execute, anything else to discard it: ",
        end="",
        file=sys.stderr,
        flush=True,
    )
    answer = sys.stdin.readline()  # "" at end of input (Ctrl-D): no
    approve = answer.strip().lower() == "yes"
    document = {"Approver": _caller(), "Comment": "at the terminal (drift-healer heal)"}
    if not approve:
        document["Comment"] = "declined at the terminal (drift-healer heal)"
    print("executing ..." if approve else "declined: the change set is deleted", flush=True)
    return approve, document


def _plan_only(body: str) -> str:
    """The request without its commands for answering by email: here the answer is typed."""
    return body.split("\nTo approve", 1)[0]


def _caller() -> str:
    """Who approves: the AWS identity of these credentials (recorded in the result); the person
    at this terminal, when AWS cannot say."""
    from drift_healer_cli import checks, errors

    try:
        return checks.identity()
    except errors.CliError:
        return f"{os.environ.get('USER', 'unknown')} (local; AWS identity unknown)"


def _heal(
    event: dict[str, Any], settings: Settings, decide: Decide | None = None, how: str = ""
) -> int:
    from drift_healer_cli import console
    from drift_healer_cli.errors import reached
    from drift_healer_cli.local import LocalRunner

    runner = LocalRunner(settings, skip_time=False)
    # Each poll: phase, CloudFormation's status, elapsed time (a live line on a terminal);
    # reached: what Ctrl-C reports (drift_healer_cli.errors.interrupted).
    progress = console.Progress(then=reached)

    print(f"healing {event['StackName']} (waits are real: CloudFormation takes its time)")
    if how:
        print(how)
    try:
        outcome = runner.run(event, progress=progress, decide=decide)
    finally:
        runner.close()
    if not outcome.succeeded:
        from drift_healer_cli.errors import heal_failed

        failure = outcome.error
        raise heal_failed(failure.type, failure.message) if failure else heal_failed("Unknown", "")
    console.notifications(outcome, settings.sns_topic_arn)
    console.say("The result", "")
    print(json.dumps(outcome.result, indent=2))
    return 0
