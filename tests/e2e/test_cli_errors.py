"""The command line fails as a user should see it: one message on stderr that says what happened
and what to do, a documented exit code, and no traceback (unless --debug). Each test runs
``drift-healer`` in a subprocess, as a user does, with no AWS credentials, config or region but
what the test gives it (and no instance metadata: nothing may reach the network)."""

from __future__ import annotations

import json
import os
import re
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest

from drift_sandbox import ACCOUNT_ID, Sandbox, Timing
from drift_sandbox.demo import create_demo_stack, drift_demo_stack

CREDENTIALS_TODO = "pass --profile NAME, set AWS_PROFILE, or run `aws configure`"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A machine with no AWS set-up at all."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_"))}
    return {
        **clean,
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture
def aws(env: dict[str, str]) -> Iterator[tuple[Sandbox, dict[str, str]]]:
    """An AWS account to talk to: the sandbox server, and a machine set up for it."""
    with Sandbox(server=True) as sandbox:
        yield sandbox, {**env, **sandbox.environment()}


def drift_healer(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "drift_healer_cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_fails(
    run: subprocess.CompletedProcess[str], code: int, *expected: str
) -> subprocess.CompletedProcess[str]:
    """Exit ``code``, a short message on stderr holding every ``expected`` text, no traceback."""
    assert run.returncode == code, run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert len(run.stderr.strip().splitlines()) <= 2, run.stderr
    assert run.stderr.startswith("drift-healer: "), run.stderr
    for text in expected:
        assert text in run.stderr
    return run


# --------------------------------------------------------------------------- set-up
def test_no_region_says_to_pass_region(env: dict[str, str]) -> None:
    assert_fails(
        drift_healer(env, "heal", "app"),
        3,
        "drift-healer: no AWS region configured",
        "pass --region (e.g. --region eu-west-1)",
    )


def test_no_credentials_fail_at_once(env: dict[str, str]) -> None:
    started = time.monotonic()
    run = drift_healer(env, "heal", "app", "--region", "us-east-1")
    assert_fails(run, 3, "drift-healer: no AWS credentials found", CREDENTIALS_TODO)
    assert time.monotonic() - started < 15  # no retries: missing credentials stay missing
    assert run.stdout == ""  # nothing started


def test_an_unknown_profile_is_one_line(env: dict[str, str]) -> None:
    assert_fails(
        drift_healer(env, "heal", "app", "--region", "us-east-1", "--profile", "nosuchprofile"),
        3,
        "the AWS profile 'nosuchprofile' does not exist",
        "`aws configure list-profiles`",
    )


def test_an_invalid_environment_variable_is_named(env: dict[str, str]) -> None:
    assert_fails(
        drift_healer({**env, "MAX_WAIT_SECONDS": "5"}, "heal", "app", "--region", "us-east-1"),
        3,
        "the environment variable MAX_WAIT_SECONDS is invalid",
        "fix or unset MAX_WAIT_SECONDS",
    )


FUNDAY = {"Days": ["Funday"], "Start": "22:00", "End": "06:00", "TimeZone": "UTC"}


def test_an_invalid_change_policy_is_refused_before_a_heal_starts(env: dict[str, str]) -> None:
    """Inline, it is a setting: checked first, exit 3, the line and the fix named."""
    assert_fails(
        drift_healer(
            {**env, "CHANGE_POLICY": json.dumps({"Windows": {"nights": FUNDAY}})},
            "heal",
            "app",
            "--region",
            "us-east-1",
        ),
        3,
        "the environment variable CHANGE_POLICY is invalid: CHANGE_POLICY, line 1: "
        'Windows.nights.Days[0]: "Funday" is not a day name',
        "fix or unset CHANGE_POLICY",
    )


# --------------------------------------------------------------------------- usage
EXECUTION = "arn:aws:lambda:eu-west-1:123456789012:function:drift-healer:live/durable-execution/x/y"


def test_approve_refuses_what_is_not_an_execution_arn_before_calling_aws(
    env: dict[str, str],
) -> None:
    assert_fails(
        drift_healer(env, "approve", "notanarn"),
        2,
        "'notanarn' is not a durable execution's ARN",
        "copy it from the approval email",
    )


def test_approve_refuses_an_endpoint_that_is_not_a_url(env: dict[str, str]) -> None:
    assert_fails(
        drift_healer(env, "reject", EXECUTION, "--endpoint-url", "notaurl"),
        2,
        "--endpoint-url: Invalid endpoint: notaurl",
        "pass a URL such as http://127.0.0.1:5000",
    )


@pytest.mark.parametrize("sandbox", [[], ["--sandbox"]], ids=["aws", "sandbox"])
def test_an_invalid_stack_name_is_refused_before_anything_starts(
    env: dict[str, str], sandbox: list[str]
) -> None:
    run = assert_fails(
        drift_healer(env, "heal", "bad name!", "--region", "us-east-1", *sandbox),
        2,
        "invalid heal request: STACK: 'bad name!' is neither a stack name",
    )
    assert run.stdout == ""  # no sandbox, no execution


def test_a_stack_arn_cannot_name_a_sandbox_stack(env: dict[str, str]) -> None:
    arn = f"arn:aws:cloudformation:us-east-1:{ACCOUNT_ID}:stack/app/0a1b2c3d-4e5f"
    assert_fails(
        drift_healer(env, "heal", arn, "--sandbox"),
        2,
        "--sandbox creates a demo stack named STACK",
        "give a stack name, e.g. drift-healer heal app --sandbox",
    )


def test_an_invalid_role_arn_names_the_flag(env: dict[str, str]) -> None:
    assert_fails(
        drift_healer(env, "heal", "app", "--role-arn", "admin"),
        2,
        "--role-arn: 'admin' is not an IAM role ARN like arn:aws:iam::",
    )


def test_contradictory_flags_are_a_usage_error(env: dict[str, str]) -> None:
    run = drift_healer(env, "heal", "app", "--dry-run", "--create-change-set-only")
    assert run.returncode == 2
    assert "not allowed with argument --dry-run" in run.stderr
    assert "Traceback" not in run.stderr


# --------------------------------------------------------------------------- the heal's errors
def test_a_missing_stack_fails_the_heal(aws: tuple[Sandbox, dict[str, str]]) -> None:
    _, machine = aws
    assert_fails(
        drift_healer(machine, "heal", "nosuch"),
        1,
        "drift-healer: the heal failed, StackNotFound: stack 'nosuch' does not exist in us-east-1",
        "check STACK, --region, and the account",
    )


@pytest.mark.parametrize(
    ("fault", "code", "expected"),
    [
        (
            lambda s: s.faults.deny("DescribeStacks"),
            4,
            [
                "the heal failed, AccessDenied: pre-flight: the healer may not call "
                "cloudformation:DescribeStacks",
                "locally the heal calls AWS with your credentials",
            ],
        ),
        (
            lambda s: s.faults.refuse("DescribeStacks", "ExpiredToken", "The token is expired"),
            3,
            [
                "the heal failed, MissingCredentials: pre-flight: AWS rejected the credentials",
                CREDENTIALS_TODO,
            ],
        ),
        (
            lambda s: s.faults.refuse("DescribeStacks", "ValidationError", "1 validation error"),
            4,
            [
                "the heal failed, AwsRequestRefused: pre-flight: AWS refused "
                "cloudformation:DescribeStacks (ValidationError: 1 validation error)"
            ],
        ),
    ],
    ids=["access-denied", "expired-credentials", "refused"],
)
def test_aws_errors_have_their_exit_code(
    aws: tuple[Sandbox, dict[str, str]], fault: object, code: int, expected: list[str]
) -> None:
    sandbox, machine = aws
    fault(sandbox)  # type: ignore[operator]
    assert_fails(drift_healer(machine, "heal", "app"), code, *expected)


def test_role_arn_is_the_role_the_heal_assumes(aws: tuple[Sandbox, dict[str, str]]) -> None:
    sandbox, machine = aws
    sandbox.faults.deny("AssumeRole", service="sts")
    role = f"arn:aws:iam::{ACCOUNT_ID}:role/drift-healer/member"
    assert_fails(
        drift_healer(machine, "heal", "app", "--role-arn", role),
        4,
        "AccessDenied: pre-flight: the healer may not call sts:AssumeRole",
    )


# --------------------------------------------------------------------------- --debug
@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--debug", "heal", "bad name!"], 2),  # before the command
        (["heal", "app", "--region", "us-east-1", "--debug"], 3),  # or after it
    ],
    ids=["invalid-request", "no-credentials"],
)
def test_debug_shows_the_traceback(env: dict[str, str], args: list[str], code: int) -> None:
    run = drift_healer(env, *args)
    assert run.returncode == code
    assert "Traceback (most recent call last)" in run.stderr
    assert "drift-healer: " in run.stderr  # and the message all the same


def test_debug_shows_the_failed_steps_of_the_execution(
    aws: tuple[Sandbox, dict[str, str]],
) -> None:
    _, machine = aws
    run = drift_healer(machine, "heal", "nosuch", "--debug")
    assert run.returncode == 1
    assert "Traceback (most recent call last)" in run.stderr
    assert "drift-healer: the heal failed, StackNotFound" in run.stderr


# --------------------------------------------------------------------------- help and version
@pytest.mark.parametrize("command", [[], ["heal"], ["demo"]], ids=["top", "heal", "demo"])
def test_help_is_plain_text_and_documents_the_exit_codes(
    env: dict[str, str], command: list[str]
) -> None:
    run = drift_healer(env, *command, "--help")
    assert run.returncode == 0
    assert "``" not in run.stdout
    assert "--debug" in run.stdout
    if command != ["demo"]:
        assert re.search(r"^  130  interrupted", run.stdout, re.MULTILINE)
        for code in ("0", "1", "2", "3", "4"):
            assert re.search(rf"^  {code} +\w", run.stdout, re.MULTILINE)
    if command == ["heal"]:
        assert "--role-arn ARN" in run.stdout and "--profile PROFILE" in run.stdout


def test_version(env: dict[str, str]) -> None:
    run = drift_healer(env, "--version")
    assert run.returncode == 0
    assert run.stdout.strip() == f"drift-healer {metadata.version('drift-healer')}"


# --------------------------------------------------------------------------- Ctrl-C
def test_ctrl_c_says_where_the_heal_stopped(env: dict[str, str]) -> None:
    """A real heal on the sandbox server, with real waits: interrupted once it reports its
    drift detection."""
    heal = subprocess.Popen(
        [sys.executable, "-m", "drift_healer_cli.main", "heal", "app", "--sandbox"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # the default SIGINT handling, whatever the test runner set
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        seen = _read_until(heal, "detect drift", seconds=30)
        heal.send_signal(signal.SIGINT)
        out, err = heal.communicate(timeout=30)
    finally:
        heal.kill()
    out = seen + out
    assert heal.returncode == 130, err
    assert "Traceback" not in out + err
    assert "KeyboardInterrupt" not in out + err
    stopped = re.search(r"^drift-healer: interrupted during '([^']+)'$", err, re.MULTILINE)
    assert stopped, err
    assert stopped[1] in out  # the phase the progress showed last
    assert "the sandbox went with it: nothing to clean up" in err


def test_ctrl_c_after_the_change_set_was_made_says_what_to_check(env: dict[str, str]) -> None:
    """Against an account (the sandbox server), interrupted while CloudFormation makes the
    change set: the message says the change set may be on the stack, and where to look."""
    slow_change_set = Timing(
        detection_base=0, detection_per_resource=0, change_set_creation=60, execution_base=60
    )
    with Sandbox(server=True, timing=slow_change_set) as sandbox:
        drift_demo_stack(sandbox, create_demo_stack(sandbox, "app", {"drift-healer": "enabled"}))
        heal = subprocess.Popen(
            [sys.executable, "-m", "drift_healer_cli.main", "heal", "app"],
            env={**env, **sandbox.environment(), "POLL_INITIAL_SECONDS": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        try:
            _read_until(heal, "create change set: wait", seconds=30)
            heal.send_signal(signal.SIGINT)
            out, err = heal.communicate(timeout=30)
        finally:
            heal.kill()
    assert heal.returncode == 130, err
    assert "Traceback" not in out + err
    assert err.splitlines() == [
        "drift-healer: interrupted during 'create change set: wait'",
        "  the change set drift-heal-… may be on the stack, maybe already executing; check stack "
        "'app' in the CloudFormation console (its status, change sets, events), and delete the "
        "change set if it was not executed",
    ]


def _read_until(process: subprocess.Popen[str], text: str, seconds: float) -> str:
    """Its output until it holds ``text`` (read from the pipe unbuffered: a line already in a
    buffer would be invisible to select)."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    selector = selectors.DefaultSelector()
    selector.register(fd, selectors.EVENT_READ)
    deadline, seen = time.monotonic() + seconds, b""
    while time.monotonic() < deadline:
        if selector.select(timeout=deadline - time.monotonic()):
            chunk = os.read(fd, 65536)
            assert chunk, f"it ended before printing {text!r}: {seen.decode()}"
            seen += chunk
            if text.encode() in seen:
                return seen.decode()
    raise AssertionError(f"no {text!r} within {seconds}s: {seen.decode()}")
