"""What ``drift-healer heal`` shows while it waits, run as a user runs it (a subprocess; a
terminal where it matters): each poll's phase, CloudFormation's status and the elapsed time, as a
live line on a terminal and as plain lines in a pipe; at the end the notification, readable, and
the result. The healer's logs, its metrics and the sandbox server's access log stay away."""

from __future__ import annotations

import fcntl
import io
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from drift_healer_cli.console import Progress
from drift_healer_cli.local import Phase

CLI = Path(sys.executable).with_name("drift-healer")
HEAL = [str(CLI), "heal", "app", "--sandbox", "--dry-run"]
LIVE = "\r\x1b[K"  # back to the start of the line, erase it


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POLL_", "SNS_"))}
    return {**env, "AWS_DEFAULT_REGION": "us-east-1", "POLL_INITIAL_SECONDS": "1"}


def test_in_a_pipe() -> None:
    """``heal --sandbox --dry-run`` with its output in a pipe (as in CI, or `| tee`): one run
    (a few seconds), checked below."""
    done = subprocess.run(
        HEAL, capture_output=True, text=True, timeout=60, env=environment(), check=False
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    plain_lines_show_each_poll_with_status_and_elapsed_time(out)
    the_notification_is_printed_readably_then_the_result(out)
    logs_metrics_and_the_server_access_log_stay_away(out)


def test_on_a_terminal() -> None:
    """The same in a terminal (a pseudo-terminal, 120 columns)."""
    a_terminal_gets_one_live_line_rewritten_in_place(run_in_a_terminal())


def run_in_a_terminal() -> str:
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen(
        HEAL, stdin=child, stdout=child, stderr=child, env=environment(), close_fds=True
    )
    os.close(child)
    out = bytearray()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 1)
        if not ready:
            if process.poll() is not None:
                break
            continue
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the terminal's other side is closed
            break
        if not chunk:
            break
        out += chunk
    os.close(main)
    assert process.wait(timeout=10) == 0, out.decode(errors="replace")
    return out.decode()


def plain_lines_show_each_poll_with_status_and_elapsed_time(piped: str) -> None:
    assert "\r" not in piped and "\x1b" not in piped  # no control characters in a pipe
    polls = re.findall(
        r"^  \[\s*(\d+)s\] detect drift: wait\s+poll (\d+): DetectionStatus "
        r"DETECTION_IN_PROGRESS$",
        piped,
        re.MULTILINE,
    )
    assert [poll for _, poll in polls] == [str(n) for n in range(1, len(polls) + 1)]
    assert polls, piped
    assert re.search(
        r"^  \[\s*\d+s\] detect drift: wait\s+done after \d+ polls \(\d+s\): "
        r"DetectionStatus DETECTION_COMPLETE, StackDriftStatus DRIFTED$",
        piped,
        re.MULTILINE,
    )
    # the last steps are shown too, and no step named after the execution
    assert re.search(r"^  \[\s*\d+s\] record metrics\s+done$", piped, re.MULTILINE)
    assert not re.search(r"\]\s+(local|heal-app-\d+)", piped)


def the_notification_is_printed_readably_then_the_result(piped: str) -> None:
    notice = piped.index("== The notification (not published: SNS_TOPIC_ARN is not set)")
    result = piped.index("== The result")
    assert notice < result
    text = piped[notice:result]
    assert "   Subject: [drift-healer] app: drift found (dry run)" in text
    assert '\n         /Value: expected "off", actual "on" (NOT_EQUAL)\n' in text
    assert "\\n" not in text and '"body"' not in text  # not a JSON log line
    parsed = json.loads(piped[piped.index("{", result) :])
    assert parsed["Outcome"] == "DRIFT_REPORTED"
    assert {r["LogicalResourceId"] for r in parsed["DriftedResources"]} == {
        "FeatureFlag",
        "Orders",
        "Alerts",
    }


def logs_metrics_and_the_server_access_log_stay_away(piped: str) -> None:
    assert "HTTP/1.1" not in piped  # werkzeug's access log of the sandbox server
    assert '"_aws"' not in piped  # the CloudWatch metrics (EMF) line
    assert '"level":"INFO"' not in piped  # the healer's structured log lines
    assert "inv-12345678" not in piped


def a_terminal_gets_one_live_line_rewritten_in_place(on_a_terminal: str) -> None:
    assert LIVE in on_a_terminal
    # what follows each rewrite: the live line (until the next rewrite), or a finished line
    live = [part for part in on_a_terminal.split(LIVE)[1:] if "\r\n" not in part]
    waiting = {text for text in live if "detect drift: wait" in text and " poll " in text}
    assert len(waiting) >= 2, live  # it moved on: a new poll or the clock ticked
    assert all(len(text) < 120 for text in live)  # never wraps: \r returns to one line only
    for text in waiting:
        assert re.match(r"  \[\s*\d+s\] detect drift: wait\s+poll \d+: DetectionStatus ", text)
    # each finished phase stays on a line of its own, the notification and the result follow
    assert re.search(r"detect drift: wait\s+done after \d+ polls? \(\d+s\): .*\r\n", on_a_terminal)
    assert "Subject: [drift-healer] app: drift found (dry run)" in on_a_terminal
    assert '"Outcome": "DRIFT_REPORTED"' in on_a_terminal
    assert "HTTP/1.1" not in on_a_terminal and '"_aws"' not in on_a_terminal


# ------------------------------------------------------------------------------ in detail
T0 = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
IN_PROGRESS = (
    '{"t":"m","v":{"value":{"t":"m","v":{"Status":{"t":"s","v":"CREATE_COMPLETE"},'
    '"ExecutionStatus":{"t":"s","v":"EXECUTE_IN_PROGRESS"},"StatusReason":{"t":"s","v":""},'
    '"StackStatus":{"t":"s","v":"UPDATE_IN_PROGRESS"}}},"errors":{"t":"i","v":0},'
    '"error":{"t":"s","v":""}}}'
)


def execute_wait(attempts: int, ended: bool = False) -> Phase:
    state = IN_PROGRESS.replace("IN_PROGRESS", "COMPLETE") if ended else IN_PROGRESS
    end = T0 + timedelta(seconds=46) if ended else None
    return Phase("execute change set: wait", T0, end, attempts, state)


def test_plain_progress_prints_a_line_per_poll_not_per_tick() -> None:
    out, names = io.StringIO(), []
    show = Progress(out=out, then=names.append, live=False)
    for phase in (
        execute_wait(0),
        execute_wait(1),
        execute_wait(1),  # the clock ticked, nothing new
        execute_wait(2),
        execute_wait(9, ended=True),
    ):
        show(phase)
    show.end()
    lines = out.getvalue().splitlines()
    assert [line.split(": wait", 1)[1].strip() for line in lines] == [
        "poll 1: ExecutionStatus EXECUTE_IN_PROGRESS, StackStatus UPDATE_IN_PROGRESS",
        "poll 2: ExecutionStatus EXECUTE_IN_PROGRESS, StackStatus UPDATE_IN_PROGRESS",
        "done after 9 polls (46s): ExecutionStatus EXECUTE_COMPLETE, StackStatus UPDATE_COMPLETE",
    ]
    assert names == ["execute change set: wait"]  # told once, as it started


def test_live_progress_rewrites_one_line_and_ends_it() -> None:
    out = io.StringIO()
    show = Progress(out=out, live=True)
    show(execute_wait(1))
    show(execute_wait(1))
    show.end()  # e.g. Ctrl-C: whatever comes next starts on a new line
    text = out.getvalue()
    assert text.count(LIVE) == 2 and text.endswith("\n") and text.count("\n") == 1
    assert text.split(LIVE)[2].startswith("  [   0s] execute change set: wait          poll 1: ")


def test_after_ctrl_c_plain_progress_shows_what_was_running() -> None:
    out = io.StringIO()
    show = Progress(out=out, live=False)
    show(Phase("pre-flight", T0, T0, 1, "{}"))
    show(Phase("execute change set", T0, None, 0))  # started: no line yet
    assert out.getvalue().splitlines()[-1].endswith("pre-flight                        done")
    show.end()  # interrupted there
    assert out.getvalue().splitlines()[-1].endswith("execute change set                running")
