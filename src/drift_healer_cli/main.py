"""drift-healer: run the healing workflow on this machine.

drift-healer demo                      the whole job in the embedded sandbox
drift-healer heal STACK [flags]        the same durable workflow against AWS (or --sandbox)
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence
from importlib import metadata

from drift_healer_cli import console
from drift_healer_cli.errors import EXIT_CODES, report

#: Loggers whose records are ours to show only with --debug: the durable SDK logs every failed
#: step with its traceback, which the one-line message already explains.
_SDK_LOGGERS = ("aws_durable_execution_sdk_python", "aws_durable_execution_sdk_python_testing")


def main(argv: Sequence[str] | None = None) -> int:
    if hasattr(signal, "SIGPIPE"):  # `drift-healer ... | head` ends quietly, as Unix tools do
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    args = _parser().parse_args(argv)
    _logging(args.debug)
    try:
        if args.command == "demo":
            from drift_healer_cli import demo

            return demo.run()
        if args.command in ("approve", "reject"):
            from drift_healer_cli import approve

            return approve.run(args, approve=args.command == "approve")
        from drift_healer_cli import heal as heal_command

        return heal_command.run(args)
    except (Exception, KeyboardInterrupt) as error:
        return report(error, debug=args.debug)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="drift-healer",
        description="Heal CloudFormation drift on this machine, with the durable workflow of\n"
        "the Lambda function.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"drift-healer {_version()}")
    debug = "show tracebacks and the logs (of the healer, the durable SDK, boto3)"
    parser.add_argument("--debug", action="store_true", help=debug)
    # Accepted after the command too (drift-healer heal app --debug); SUPPRESS keeps the
    # top-level value when it is not given there.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=debug)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "demo", parents=[common], help="heal a drifted demo stack in the embedded sandbox"
    )
    heal = commands.add_parser(
        "heal",
        parents=[common],
        help="heal one stack with the local durable runner",
        description="Heal one stack with the healer's durable workflow, on this machine\n"
        "(waits are real: CloudFormation takes its time).",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    heal.add_argument("stack", metavar="STACK", help="stack name or ARN")
    mode = heal.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="detect and report; create nothing")
    mode.add_argument(
        "--create-change-set-only", action="store_true", help="stop once the change set exists"
    )
    mode.add_argument(
        "--yes",
        action="store_true",
        help="execute a LOW risk change set without asking (default: show the plan and ask; "
        "without a terminal, only propose)",
    )
    heal.add_argument("--region", help="region of the stack (default: your AWS config)")
    heal.add_argument("--profile", help="AWS profile to use (default: AWS_PROFILE, or default)")
    heal.add_argument(
        "--role-arn",
        metavar="ARN",
        help="IAM role to assume for the stack's account (the event's RoleArn)",
    )
    heal.add_argument(
        "--sandbox",
        action="store_true",
        help="use the embedded sandbox (a drifted demo stack named STACK is created first)",
    )
    for verb, effect in (
        ("approve", "execute the change set it shows, if it is still exactly what was reviewed"),
        ("reject", "delete its change set; the heal ends REJECTED"),
    ):
        answer = commands.add_parser(
            verb,
            parents=[common],
            help=f"answer a heal that waits for approval: {verb}, to {effect}",
            description=f"{verb.capitalize()} a RequireApproval heal: {effect}. Your AWS identity "
            "is recorded as the approver; IAM decides whether you may (ApproverPolicyArn).",
            epilog=EXIT_CODES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        answer.add_argument("execution", metavar="EXECUTION", help="the durable execution's ARN")
        answer.add_argument("--ticket", help="the change ticket, recorded with the answer")
        answer.add_argument("--comment", help="why, recorded with the answer")
        answer.add_argument("--region", help="default: the execution ARN's region")
        answer.add_argument("--profile", help="AWS profile to use")
        answer.add_argument(
            "--endpoint-url",
            help="the Lambda API to call (a local runner's, LocalRunner.serve); default: AWS",
        )
    return parser


def _version() -> str:
    try:
        return metadata.version("drift-healer")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "(version unknown: not installed)"


def _logging(debug: bool) -> None:
    """Quiet by default: a failure is explained in one message (drift_healer_cli.errors).
    --debug shows every log record, the durable SDK's tracebacks among them."""
    if not debug:
        for name in _SDK_LOGGERS:
            logging.getLogger(name).setLevel(logging.CRITICAL + 1)
        return
    console.verbose = True  # the healer's JSON logs, its metrics, the sandbox's access log
    os.environ["POWERTOOLS_LOG_LEVEL"] = "DEBUG"  # the healer's logger, read when it is created
    logging.basicConfig(
        level=logging.DEBUG, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for name in ("botocore", "boto3", "urllib3", "s3transfer"):  # wire-level noise
        logging.getLogger(name).setLevel(logging.INFO)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
