"""``drift-healer approve|reject EXECUTION``: answer a heal that waits for a person.

It finds the execution's pending approval in its history (GetDurableExecutionHistory) and sends
SendDurableExecutionCallbackSuccess or -Failure, with the caller's AWS identity as the approver:
the document records who answered, IAM decides who may (the template's ApproverPolicyArn).
Works against a deployed function, and against another Lambda API (``--endpoint-url``: a local
runner's, ``LocalRunner.serve``, as the demo and the tests use; STS, which says who answers,
follows ``AWS_ENDPOINT_URL``).
"""

from __future__ import annotations

import argparse
import os
import re
from typing import Any

import boto3
from botocore.exceptions import ClientError

from drift_healer import executions
from drift_healer_cli import checks
from drift_healer_cli.errors import CliError, Exit

#: A deployed durable execution's ARN (a local runner's may be any id).
_EXECUTION_ARN = re.compile(r"arn:[^:]+:lambda:[^:]+:[0-9]{12}:function:[^/]+/durable-execution/.+")


def run(args: argparse.Namespace, approve: bool) -> int:
    execution: str = args.execution
    if not args.endpoint_url and not _EXECUTION_ARN.fullmatch(execution):
        raise CliError(
            Exit.USAGE,
            f"{execution!r} is not a durable execution's ARN",
            "copy it from the approval email (arn:aws:lambda:REGION:ACCOUNT:function:NAME:live/"
            "durable-execution/…) or from make executions",
        )
    if args.profile:
        os.environ["AWS_PROFILE"] = args.profile  # what every client below reads
    region = args.region or executions.region_of(execution)
    try:
        client = boto3.client("lambda", region_name=region, endpoint_url=args.endpoint_url)
    except ValueError as invalid:  # botocore: "Invalid endpoint: ..."
        raise CliError(
            Exit.USAGE,
            f"--endpoint-url: {invalid}",
            "pass a URL such as http://127.0.0.1:5000, or leave it out for AWS",
        ) from None
    callback_id = pending_approval(client, execution)
    document = {"Approver": checks.identity(region), "Ticket": args.ticket, "Comment": args.comment}
    answer = {k: v for k, v in document.items() if v}
    executions.answer(client, callback_id, approve, answer)
    verb = "approved" if approve else "rejected"
    print(f"{verb} as {answer['Approver']}: the heal goes on (make history EXECUTION=<arn>)")
    return 0


def pending_approval(client: Any, execution: str) -> str:
    """The id of the approval the execution waits for; CliError when it waits for none."""
    try:
        waiting = executions.pending_approval(client, execution)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            raise CliError(
                Exit.USAGE,
                f"no durable execution {execution}",
                "copy the execution's ARN from the approval email or make executions",
            ) from None
        raise
    if waiting is None:
        raise CliError(
            Exit.USAGE,
            "the execution waits for no approval: it was answered, it timed out, or it has not "
            "asked yet",
            "make history EXECUTION=<arn> shows where it is",
        )
    return waiting
