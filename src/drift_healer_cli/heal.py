"""``drift-healer heal STACK``: the durable workflow on this machine, against AWS or the sandbox."""

from __future__ import annotations

import argparse
import json
from typing import Any

from drift_healer.settings import Settings


def run(args: argparse.Namespace) -> int:
    """Check what can be checked first (request, settings, profile, region, credentials: a
    mistake costs one line, not a sandbox or an execution), then heal. Failures are raised for
    main() to explain (drift_healer_cli.errors)."""
    from drift_healer_cli import checks, errors

    event = checks.request(args)
    settings = Settings()
    errors.forget_phases()
    try:
        if not args.sandbox:
            checks.aws_setup(args)
            return _heal(event, settings)

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
        region = args.region or DEFAULT_REGION
        with Sandbox(server=True, timing=brisk, region=region) as sandbox, sandbox.environ():
            try:
                drift_demo_stack(sandbox, create_demo_stack(sandbox, args.stack))
            except ClientError as refused:
                raise errors.CliError(
                    errors.Exit.USAGE,
                    f"the sandbox could not create a demo stack named {args.stack!r}: "
                    f"{refused.response.get('Error', {}).get('Message', refused)}",
                    "choose another STACK name (letters, digits and hyphens)",
                ) from refused
            print(f"sandbox at {sandbox.endpoint_url}: drifted demo stack {args.stack!r} created")
            return _heal(event, settings)
    except KeyboardInterrupt as interrupt:
        raise errors.interrupted(
            args.stack, settings.change_set_prefix, args.sandbox
        ) from interrupt


def _heal(event: dict[str, Any], settings: Settings) -> int:
    from drift_healer_cli import console
    from drift_healer_cli.errors import reached
    from drift_healer_cli.local import LocalRunner

    runner = LocalRunner(settings, skip_time=False)
    # Each poll: phase, CloudFormation's status, elapsed time (a live line on a terminal);
    # reached: what Ctrl-C reports (drift_healer_cli.errors.interrupted).
    progress = console.Progress(then=reached)

    print(f"healing {event['StackName']} (waits are real: CloudFormation takes its time)")
    try:
        outcome = runner.run(event, progress=progress)
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
