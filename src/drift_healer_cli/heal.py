"""``drift-healer heal STACK``: the durable workflow on this machine, against AWS or the sandbox."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime
from typing import Any

from drift_healer.models import HealRequest
from drift_healer.settings import Settings


def run(args: argparse.Namespace) -> int:
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
