"""When the command line fails: one short message on stderr that says what happened and what to
do, and an exit code a script can test. A traceback only with ``--debug``: a user who mistyped a
stack name needs the fix, not our call stack."""

from __future__ import annotations

import sys
import traceback
from enum import IntEnum

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    HTTPClientError,
    NoRegionError,
    ProfileNotFound,
)
from botocore.exceptions import ConnectionError as BotoConnectionError
from pydantic import ValidationError

from drift_healer import aws
from drift_healer.errors import HealError


class Exit(IntEnum):
    """The exit codes of ``drift-healer`` (documented in ``--help`` and the README)."""

    OK = 0
    #: The heal ran and failed: the stack was not found, detection, the change set or its
    #: execution failed, a wait timed out (or drift-healer itself failed unexpectedly).
    HEAL_FAILED = 1
    #: The command line or the request is invalid; nothing was done.
    USAGE = 2
    #: Local setup: no credentials, an unknown profile, no region, an invalid environment
    #: variable; nothing was done.
    SETUP = 3
    #: AWS refused a call (AccessDenied, a validation error) or stayed unavailable.
    AWS = 4
    #: Ctrl-C.
    INTERRUPTED = 130


EXIT_CODES = """\
exit codes:
  0    done: the result was printed, whatever its Outcome
  1    the heal failed (StackNotFound, ExecutionFailed, WaitTimedOut, ...)
  2    invalid command line or request: nothing was done
  3    setup: no credentials, unknown profile, no region, invalid environment
       variable: nothing was done
  4    AWS refused a call (AccessDenied, ...) or could not be reached
  130  interrupted (Ctrl-C): the message says what the stack may be left with
A failure prints one message on stderr; --debug adds the traceback and logs."""

CREDENTIALS_TODO = (
    "pass --profile NAME, set AWS_PROFILE, or run `aws configure` (`aws sso login` for an SSO "
    "profile)"
)
REGION_TODO = (
    "pass --region (e.g. --region eu-west-1), or set AWS_REGION or a region in your profile"
)

#: Exit codes of the typed heal errors (drift_healer.errors) that are not HEAL_FAILED.
_CODES = {
    "InvalidRequest": Exit.USAGE,
    "NotSupported": Exit.USAGE,
    "MissingCredentials": Exit.SETUP,
    "InvalidConfiguration": Exit.SETUP,
    "ProfileNotFound": Exit.SETUP,
    "NoRegionError": Exit.SETUP,
    "AccessDenied": Exit.AWS,
    "AwsRequestRefused": Exit.AWS,
    "AwsUnavailable": Exit.AWS,
}
#: What to do, on this machine, when the message of a typed error speaks of the function.
_TODO = {
    "StackNotFound": "check STACK, --region, and the account: your credentials' (--profile) or "
    "--role-arn's",
    "MissingCredentials": CREDENTIALS_TODO,
    "AccessDenied": "locally the heal calls AWS with your credentials (--profile) or --role-arn's "
    "role: use one that is allowed",
}
#: What AWS's and botocore's credential failures look like: the healer's own vocabulary.
_NO_CREDENTIALS = aws.NO_CREDENTIALS
_CREDENTIALS_REJECTED = aws.CREDENTIALS_REJECTED


class CliError(Exception):
    """An expected failure: what happened (one line), what to do (one line), the exit code."""

    def __init__(self, code: Exit, what: str, todo: str = "") -> None:
        super().__init__(what)
        self.code = code
        self.what = what
        self.todo = todo


def report(error: BaseException, debug: bool) -> int:
    """Print ``error`` as a user should see it; returns the exit code."""
    failure = explain(error)
    if debug:
        traceback.print_exception(error, file=sys.stderr)
    print(f"drift-healer: {failure.what}", file=sys.stderr)
    if failure.todo:
        print(f"  {failure.todo}", file=sys.stderr)
    return int(failure.code)


def heal_failed(error_type: str, message: str) -> CliError:
    """A failed execution, from the error type it recorded (``drift_healer.errors.StackNotFound``
    or just the class name) and its message."""
    name = error_type.rsplit(".", 1)[-1]
    message = message or "no reason was recorded"
    if name == "InvalidRequest" and message.startswith("no AWS region"):
        return CliError(Exit.SETUP, "no AWS region configured", REGION_TODO)
    code = _CODES.get(name, Exit.HEAL_FAILED)
    if code is Exit.USAGE:
        return CliError(code, _cli_names(message))
    return CliError(code, f"the heal failed, {name}: {message}", _TODO.get(name, ""))


def explain(error: BaseException) -> CliError:
    """What an exception raised on this machine means for the user."""
    if isinstance(error, CliError):
        return error
    if isinstance(error, KeyboardInterrupt):
        return CliError(Exit.INTERRUPTED, "interrupted")
    if isinstance(error, HealError):
        return heal_failed(type(error).__name__, str(error))
    if isinstance(error, ProfileNotFound):
        profile = error.kwargs.get("profile", "?")
        return CliError(
            Exit.SETUP,
            f"the AWS profile {profile!r} does not exist (in ~/.aws/config or AWS_CONFIG_FILE)",
            "check --profile or AWS_PROFILE; `aws configure list-profiles` lists yours",
        )
    if isinstance(error, NoRegionError):
        return CliError(Exit.SETUP, "no AWS region configured", REGION_TODO)
    if isinstance(error, _NO_CREDENTIALS):
        return CliError(Exit.SETUP, f"no usable AWS credentials: {error}", CREDENTIALS_TODO)
    if isinstance(error, ClientError):
        return _refused(error)
    if isinstance(error, EndpointConnectionError | BotoConnectionError | HTTPClientError):
        return CliError(
            Exit.AWS, f"could not reach AWS: {error}", "check your network and --region"
        )
    if isinstance(error, ValidationError):
        return _environment(error)
    if isinstance(error, BotoCoreError):
        return CliError(Exit.SETUP, f"the AWS SDK could not start: {error}", "check ~/.aws/config")
    return CliError(
        Exit.HEAL_FAILED,
        f"unexpected error, {type(error).__name__}: {error}",
        "this is a bug: run again with --debug and report the output",
    )


def _refused(error: ClientError) -> CliError:
    details = error.response.get("Error", {})
    code, message = details.get("Code", "?"), details.get("Message", "")
    what = f"AWS refused {error.operation_name} ({code}: {message})"
    if code in _CREDENTIALS_REJECTED:
        return CliError(Exit.SETUP, what, CREDENTIALS_TODO)
    return CliError(Exit.AWS, what)


def _environment(error: ValidationError) -> CliError:
    """An environment variable the settings read (MAX_WAIT_SECONDS, ...) is invalid."""
    problem = error.errors(include_url=False)[0]
    variable = ".".join(str(p) for p in problem["loc"]).upper() or "?"
    return CliError(
        Exit.SETUP,
        f"the environment variable {variable} is invalid: {problem['msg']}",
        f"fix or unset {variable}",
    )


def _cli_names(message: str) -> str:
    """A request error as the command line spells it: STACK, --region, --role-arn."""
    for field, flag in (("StackName", "STACK"), ("Region", "--region"), ("RoleArn", "--role-arn")):
        message = message.replace(f": {field}: ", f": {flag}: ").replace(
            f"; {field}: ", f"; {flag}: "
        )
    return message


# --------------------------------------------------------------------------- Ctrl-C
#: The workflow's phases by what they leave on the stack (a drift detection records drift, it
#: changes nothing). Other names the progress reports (the execution's own) are not phases.
_READ_ONLY = (
    "pre-flight",
    "find other heals",
    "read change policy",
    "clock: began",
    "read template",
    "detect drift",
    "read drift",
)
_CHANGE_SET = ("create change set", "read changes", "delete empty change set")
#: Waiting for a person or a change window, or checking again after one: the change set exists
#: and nothing executes until then.
_ASKING = (
    "request approval",
    "approval",
    "re-validate approved change set",
    "delete rejected change set",
    "change window",
    "clock: change window",
    "change calendar",
    "notify deferred",
    "re-validate after deferral",
    "re-detect after deferral",
    "delete change set: drift gone",
    "health before",
)
_EXECUTING = ("execute change set",)
_VERIFYING = ("bake time", "health after", "verify", "read residual drift")
_ENDING = ("clock: change record", "write change record", "record metrics", "notify")
#: Every phase a heal reports, by its name's start (tests/e2e/test_cli_errors.py checks that
#: each phase of a heal is here).
KNOWN = _READ_ONLY + _CHANGE_SET + _ASKING + _EXECUTING + _VERIFYING + _ENDING
_reached: list[str] = []


def reached(phase: str) -> None:
    """The execution started ``phase`` (the progress callback reports each one): what Ctrl-C
    then says about the stack."""
    _reached.append(phase)


def forget_phases() -> None:
    _reached.clear()


def interrupted(stack: str, change_set_prefix: str, sandbox: bool) -> CliError:
    """Ctrl-C during a heal: the last phase reached, and what the stack may be left with."""
    phase = next((p for p in reversed(_reached) if p.startswith(KNOWN)), None)
    what = f"interrupted during {phase!r}" if phase else "interrupted at the start of the heal"
    if sandbox:
        return CliError(Exit.INTERRUPTED, what, "the sandbox went with it: nothing to clean up")
    change_set = f"the change set {change_set_prefix}-…"
    look = f"check stack {stack!r} in the CloudFormation console (its status, change sets, events)"
    if phase is None or phase.startswith(_READ_ONLY):
        todo = "nothing was changed on the stack"
    elif phase.startswith(_ASKING):
        todo = (
            f"{change_set} was not executed (the heal was waiting for an approval or a change "
            f"window, or checking again after one) and stays on the stack for review; {look}, "
            "and execute or delete it there"
        )
    elif phase.startswith(_CHANGE_SET):
        # progress is polled: the heal may have gone one phase further than reported
        todo = (
            f"{change_set} may be on the stack, maybe already executing; {look}, and delete "
            "the change set if it was not executed"
        )
    elif phase.startswith(_EXECUTING):
        todo = (
            f"{change_set} may still be executing: CloudFormation completes or rolls it back "
            f"on its own; {look}"
        )
    elif phase.startswith(_VERIFYING):
        todo = (
            f"{change_set} was executed; its verification did not finish: run again with "
            "--dry-run to see any drift left"
        )
    else:
        todo = f"the heal had ended (its notification may be missing); {look}"
    return CliError(Exit.INTERRUPTED, what, todo)
