"""``drift-healer heal`` never executes unasked: on a terminal it shows the plan and asks, without
one it only proposes, ``--yes`` lets a LOW risk change set run; and it heals only stacks that
carry the opt-in tag, as the function does. Each test runs the command as a user does."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from drift_sandbox import Sandbox
from drift_sandbox.demo import create_demo_stack, drift_demo_stack

CLI = [sys.executable, "-m", "drift_healer_cli.main"]


def environment(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POLL_", "SNS_"))}
    return {
        **clean,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_EC2_METADATA_DISABLED": "true",
        # the sandbox's CloudFormation takes seconds: poll each second, not on a growing backoff
        "POLL_INITIAL_SECONDS": "1",
        "POLL_BACKOFF_RATE": "1",
        "PYTHONUNBUFFERED": "1",
    }


def in_a_terminal(args: list[str], env: dict[str, str], answer: str) -> tuple[int, str]:
    """Run with a pseudo-terminal; type ``answer`` once the question is asked."""
    main, child = pty.openpty()
    process = subprocess.Popen(
        [*CLI, *args], stdin=child, stdout=child, stderr=child, env=env, close_fds=True
    )
    os.close(child)
    out, asked = bytearray(), False
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 1)
        if not ready:
            if process.poll() is not None:
                break
            continue
        try:
            chunk = os.read(main, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
        if not asked and b"Type yes to execute" in out:
            os.write(main, answer.encode() + b"\n")
            asked = True
    os.close(main)
    return process.wait(timeout=10), out.decode(errors="replace").replace("\r\n", "\n")


def result_of(out: str) -> dict[str, object]:
    parsed: dict[str, object] = json.loads(out[out.index("{", out.index("== The result")) :])
    return parsed


def test_on_a_terminal_the_plan_is_shown_and_yes_executes_it(tmp_path: Path) -> None:
    code, out = in_a_terminal(["heal", "app", "--sandbox"], environment(tmp_path), "yes")
    assert code == 0, out
    assert "you are shown the plan and asked before anything is executed" in out
    plan = out[out.index("== The plan") : out.index("Type yes to execute")]
    assert "approval needed" in plan and "Risk:       LOW" in plan
    assert '/Value: expected "off", actual "on"' in plan  # the drift it would revert
    assert "send-durable-execution-callback" not in plan  # answered here, not by email
    assert out.count("approval needed") == 1  # not printed again as a notification
    result = result_of(out)
    assert result["Outcome"] == "HEALED"
    approval = result["Approval"]
    assert isinstance(approval, dict) and approval["Decision"] == "APPROVED"
    assert str(approval["Approver"]).startswith("arn:aws:")  # the caller's AWS identity


def test_on_a_terminal_anything_but_yes_discards_the_change_set(tmp_path: Path) -> None:
    code, out = in_a_terminal(["heal", "app", "--sandbox"], environment(tmp_path), "n")
    assert code == 0, out
    assert "declined: the change set is deleted" in out
    result = result_of(out)
    assert result["Outcome"] == "REJECTED"
    assert "declined at the terminal" in str(result["Reason"])


def test_without_a_terminal_it_only_proposes(tmp_path: Path) -> None:
    done = subprocess.run(
        [*CLI, "heal", "app", "--sandbox"],
        env=environment(tmp_path),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "no terminal to ask on: the change set is proposed, not executed" in done.stdout
    assert result_of(done.stdout)["Outcome"] == "CHANGE_SET_CREATED"


def test_yes_executes_a_low_risk_change_set_unattended(tmp_path: Path) -> None:
    done = subprocess.run(
        [*CLI, "heal", "app", "--sandbox", "--yes"],
        env=environment(tmp_path),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert result_of(done.stdout)["Outcome"] == "HEALED"


def test_a_stack_without_the_opt_in_tag_is_not_healed(tmp_path: Path) -> None:
    with Sandbox(server=True) as sandbox:
        drift_demo_stack(sandbox, create_demo_stack(sandbox, "untagged"))
        done = subprocess.run(
            [*CLI, "heal", "untagged", "--yes"],
            env={**environment(tmp_path), **sandbox.environment()},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    result = result_of(done.stdout)
    assert result["Outcome"] == "SKIPPED"
    assert "does not carry the tag drift-healer" in str(result["Reason"])
