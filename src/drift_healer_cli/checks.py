"""What ``drift-healer heal`` checks before anything starts (a sandbox, an execution), so that a
mistake costs one line: the request, and the AWS profile, region and credentials."""

from __future__ import annotations

import argparse
import os
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from drift_healer.models import HealRequest, parse_request
from drift_healer.policy import change_policy as policy
from drift_healer.settings import Settings
from drift_healer_cli.errors import CREDENTIALS_TODO, REGION_TODO, CliError, Exit


def request(args: argparse.Namespace) -> dict[str, Any]:
    """The event of the heal, validated as the function validates an invoke's payload."""
    event = HealRequest.model_construct(
        stack_name=args.stack,
        dry_run=args.dry_run,
        create_change_set_only=args.create_change_set_only,
        region=args.region,
        role_arn=args.role_arn,
    ).event()
    parse_request(event)  # InvalidRequest: explained as a usage error
    if args.sandbox and args.stack.startswith("arn:"):
        raise CliError(
            Exit.USAGE,
            f"--sandbox creates a demo stack named STACK, and {args.stack!r} is an ARN",
            "give a stack name, e.g. drift-healer heal app --sandbox",
        )
    if args.sandbox and args.profile:
        raise CliError(
            Exit.USAGE,
            "--sandbox runs against the embedded sandbox, not an AWS account: --profile does "
            "not apply",
            "drop --profile, or drop --sandbox to heal a stack in your account",
        )
    return event


def change_policy(settings: Settings) -> None:
    """An inline CHANGE_POLICY is a setting like any other: invalid, it is refused before a heal
    starts (one in an SSM parameter is read, and judged, by the heal)."""
    if not settings.change_policy:
        return
    try:
        policy.load(settings.change_policy, "CHANGE_POLICY")
    except policy.PolicyInvalid as invalid:
        raise CliError(
            Exit.SETUP,
            f"the environment variable CHANGE_POLICY is invalid: {invalid}",
            "fix or unset CHANGE_POLICY",
        ) from None


def aws_setup(args: argparse.Namespace) -> None:
    """The profile exists, a region is known and credentials are found: without them the heal
    would fail anyway, after printing more than the fix."""
    if args.profile:
        os.environ["AWS_PROFILE"] = args.profile  # what every client of the heal reads
    session = boto3.Session()  # ProfileNotFound: explained as a setup error
    if not (args.region or args.stack.startswith("arn:")) and not (
        session.region_name or os.environ.get("AWS_REGION")
    ):
        raise CliError(Exit.SETUP, "no AWS region configured", REGION_TODO)
    if session.get_credentials() is None:
        profile = session.profile_name if os.environ.get("AWS_PROFILE") else None
        where = f" (profile {profile!r})" if profile else ""
        raise CliError(Exit.SETUP, f"no AWS credentials found{where}", CREDENTIALS_TODO)


def identity(region: str | None = None) -> str:
    """The AWS identity of these credentials: who answers an approval, as the result records
    it. CliError when AWS cannot say."""
    try:
        return str(boto3.client("sts", region_name=region).get_caller_identity()["Arn"])
    except (BotoCoreError, ClientError) as error:
        raise CliError(
            Exit.SETUP,
            f"who you are in AWS could not be read ({error}): an answer records its approver",
            CREDENTIALS_TODO,
        ) from None
