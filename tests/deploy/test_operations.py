"""The operations targets (make invoke, reconcile, executions, history, logs) as a user runs them:
the real Makefile, with a fake `aws` first on PATH that plays the AWS CLI v2 or v1, with or
without credentials, and records every call. No venv is needed (they must run on a machine
that has only make and the AWS CLI), and the README shows what they run."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from drift_healer.models import HealMode, parse_request
from tests.support import ROOT, load

MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="needs GNU make")

V2 = "aws-cli/2.15.0 Python/3.11.6 Linux/6.1.0 exe/x86_64.ubuntu.22 prompt/off"
V1 = "aws-cli/1.18.69 Python/3.8.10 Linux/5.4.0-1045-aws botocore/1.17.12"
LOG_GROUP = "drift-healer-HealerLogs-1A2B3C4D5E6F"
OPERATIONS = ("invoke", "reconcile", "executions", "history", "logs")
# the variables of the Makefile a user's environment could set, and make's own
CLEARED = {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "GNUMAKEFLAGS", "MAKEOVERRIDES"} | {
    "ENV", "STACK", "MODE", "FUNCTION", "EXECUTION", "DRY_RUN", "NAME", "SINCE",
}  # fmt: skip

# The fake AWS CLI: prints the version it is told, answers sts as signed in or not, records its
# arguments and the content of any fileb:// payload (make deletes the file afterwards).
FAKE_AWS = """\
import json, sys
from pathlib import Path

here = Path(__file__).parent
config = json.loads((here / "config.json").read_text())
args = sys.argv[1:]
payloads = {a: Path(a[len("fileb://"):]).read_text() for a in args if a.startswith("fileb://")}
with open(here / "calls.jsonl", "a") as calls:
    calls.write(json.dumps({"args": args, "payloads": payloads}) + "\\n")
if args == ["--version"]:
    print(config["version"])
elif args[:2] == ["sts", "get-caller-identity"]:
    if not config["credentials"]:
        print('\\nUnable to locate credentials. You can configure credentials by running '
              '"aws configure".', file=sys.stderr)
        sys.exit(253)
    print("arn:aws:iam::123456789012:user/operator")
elif args[:2] == ["lambda", "get-function-configuration"]:
    print(config["log_group"])
elif args[:2] == ["lambda", "invoke"]:
    print('{"StatusCode": 202}')
"""


@dataclass
class Call:
    """One call of the fake AWS CLI: its arguments, and the content of its fileb:// payloads."""

    args: list[str]
    payloads: dict[str, str]

    @property
    def checks(self) -> bool:
        """Whether this call is the version or credentials check every target makes first."""
        return self.args == ["--version"] or self.args[:2] == ["sts", "get-caller-identity"]


@dataclass
class Run:
    """One `make` run: its exit code, output, and what it asked of the AWS CLI."""

    returncode: int
    stdout: str
    stderr: str
    calls: list[Call]

    def aws_calls(self) -> list[list[str]]:
        """The calls that do the work (not the version and credentials check)."""
        return [call.args for call in self.calls if not call.checks]

    def payloads(self) -> list[str]:
        return [payload for call in self.calls for payload in call.payloads.values()]

    def payload(self) -> str:
        (found,) = self.payloads()
        return found


class Shell:
    """Runs the repository's Makefile with a PATH of the test's choosing."""

    def __init__(self, tmp_path: Path) -> None:
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        self.absent = tmp_path / "no-venv" / ".installed"
        # the user's PATH, which the fake shadows; without the fake, without any AWS CLI on it
        self.path = os.environ["PATH"]
        self.bare = os.pathsep.join(
            d for d in self.path.split(os.pathsep) if d and not (Path(d) / "aws").exists()
        )

    def aws(self, version: str = V2, *, credentials: bool = True) -> None:
        """Put a fake `aws` first on PATH."""
        script = self.bin / "aws"
        script.write_text(f"#!{sys.executable}\n{FAKE_AWS}")
        script.chmod(0o755)
        config = {"version": version, "credentials": credentials, "log_group": LOG_GROUP}
        (self.bin / "config.json").write_text(json.dumps(config))

    def make(self, *arguments: str) -> Run:
        env = {k: v for k, v in os.environ.items() if k not in CLEARED}
        faked = (self.bin / "aws").exists()
        env["PATH"] = os.pathsep.join([str(self.bin), self.path]) if faked else self.bare
        # A target that needed the venv would build $(STAMP) with $(PYTHON): here, fail.
        venv = [f"STAMP={self.absent}", "PYTHON=false"]
        done = subprocess.run(
            [str(MAKE), "-s", "--no-print-directory", *arguments, *venv],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        log = self.bin / "calls.jsonl"
        lines = log.read_text().splitlines() if log.exists() else []
        calls = [Call(**json.loads(line)) for line in lines]
        log.unlink(missing_ok=True)
        return Run(done.returncode, done.stdout, done.stderr, calls)


@pytest.fixture
def shell(tmp_path: Path) -> Shell:
    return Shell(tmp_path)


def _fails_with_one_line(run: Run, *expected: str) -> str:
    assert run.returncode != 0, run
    assert run.stdout == "", run
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    for text in expected:
        assert text in lines[0], lines[0]
    assert "Traceback" not in run.stderr
    return lines[0]


USAGES = [
    ("invoke", "STACK=app"),
    ("reconcile",),
    ("executions",),
    ("history", "EXECUTION=arn:aws:lambda:eu-west-1:123456789012:function:drift-healer:live/x"),
    ("logs",),
]


# -------------------------------------------------------------------- the AWS CLI v2, and only it
def test_help_says_the_operations_need_the_aws_cli_v2(shell: Shell) -> None:
    run = shell.make("help")
    assert run.returncode == 0, run
    lines = {line.split()[0]: line for line in run.stdout.splitlines() if line.strip()}
    for target in OPERATIONS:
        assert "AWS CLI v2" in lines[target], lines[target]
    assert "MODE=propose|heal|dry-run" in lines["invoke"]  # propose first: the default


@pytest.mark.parametrize("usage", USAGES, ids=lambda u: u[0])
def test_aws_cli_v1_is_refused_in_one_line(shell: Shell, usage: tuple[str, ...]) -> None:
    shell.aws(V1)
    run = shell.make(*usage)
    line = _fails_with_one_line(run, f"make {usage[0]} needs the AWS CLI v2", "aws-cli/1.18.69")
    assert "getting-started-install" in line
    assert [call.args for call in run.calls] == [["--version"]]


@pytest.mark.parametrize("usage", USAGES, ids=lambda u: u[0])
def test_no_credentials_is_refused_in_one_line(shell: Shell, usage: tuple[str, ...]) -> None:
    shell.aws(V2, credentials=False)
    run = shell.make(*usage)
    line = _fails_with_one_line(run, f"make {usage[0]} found no usable AWS credentials")
    assert "Unable to locate credentials" in line  # the AWS CLI's own reason
    assert "aws sso login" in line and "AWS_PROFILE" in line  # what to do
    assert [call.args[:2] for call in run.calls] == [["--version"], ["sts", "get-caller-identity"]]


@pytest.mark.parametrize("usage", USAGES, ids=lambda u: u[0])
def test_no_aws_cli_is_refused_in_one_line(shell: Shell, usage: tuple[str, ...]) -> None:
    run = shell.make(*usage)
    _fails_with_one_line(run, f"make {usage[0]} needs the AWS CLI v2", "no aws on PATH")


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        (("invoke",), "usage: make invoke STACK=<stack name or ARN> [MODE=propose|heal|dry-run]"),
        (("invoke", "STACK=app", "MODE=execute"), "MODE=execute is not a mode"),
        (("history",), "usage: make history EXECUTION=<durable execution ARN"),
        (
            ("logs", "NAME=Healer"),
            "usage: make logs [NAME=HealerFunction|ReconcilerFunction|ReviewFunction]",
        ),
    ],
)
def test_a_wrong_command_line_says_the_usage_and_calls_nothing(
    shell: Shell, usage: tuple[str, ...], expected: str
) -> None:
    shell.aws(V2)
    run = shell.make(*usage)
    _fails_with_one_line(run, expected)
    assert run.calls == []


def test_dry_run_of_make_prints_the_commands_and_checks_nothing(shell: Shell) -> None:
    run = shell.make("-n", "executions")
    assert run.returncode == 0, run
    assert (
        "aws lambda list-durable-executions-by-function --function-name drift-healer" in run.stdout
    )


# -------------------------------------------------------------------- what each target sends
def test_invoke_proposes_by_default(shell: Shell) -> None:
    shell.aws(V2)
    run = shell.make("invoke", "STACK=app")
    assert run.returncode == 0, run
    ((*arguments, payload, outfile),) = run.aws_calls()
    assert arguments == [
        "lambda", "invoke", "--function-name", "drift-healer:live", "--invocation-type", "Event",
        "--payload",
    ]  # fmt: skip
    assert payload.startswith("fileb://") and outfile == "/dev/stdout"
    assert not Path(payload.removeprefix("fileb://")).exists()  # the temporary file is gone
    assert run.payload() == '{"StackName": "app", "CreateChangeSetOnly": true}'
    assert parse_request(json.loads(run.payload())).heal_mode is HealMode.PROPOSE
    assert '"StatusCode": 202' in run.stdout
    assert "make history" in run.stderr  # how to follow it


@pytest.mark.parametrize(
    ("arguments", "function", "payload"),
    [
        (["MODE=heal"], "drift-healer:live", '{"StackName": "app"}'),
        (["MODE=dry-run"], "drift-healer:live", '{"StackName": "app", "DryRun": true}'),
        (
            ["ENV=prod"],
            "drift-healer-prod:live",
            '{"StackName": "app", "CreateChangeSetOnly": true}',
        ),
    ],
)
def test_invoke_modes_and_environments(
    shell: Shell, arguments: list[str], function: str, payload: str
) -> None:
    shell.aws(V2)
    run = shell.make("invoke", "STACK=app", *arguments)
    assert run.returncode == 0, run
    ((*sent, _, _),) = run.aws_calls()
    assert sent[:6] == [
        "lambda",
        "invoke",
        "--function-name",
        function,
        "--invocation-type",
        "Event",
    ]
    assert run.payload() == payload
    parse_request(json.loads(payload))


@pytest.mark.parametrize(
    ("arguments", "payload"), [([], "{}"), (["DRY_RUN=1"], '{"DryRun": true}')]
)
def test_reconcile_waits_for_the_reconciler(
    shell: Shell, arguments: list[str], payload: str
) -> None:
    shell.aws(V2)
    run = shell.make("reconcile", *arguments)
    assert run.returncode == 0, run
    ((*sent, _, outfile),) = run.aws_calls()
    assert sent == [
        "lambda", "invoke", "--function-name", "drift-healer-reconciler", "--cli-read-timeout", "0",
        "--payload",
    ]  # fmt: skip
    assert outfile == "/dev/stdout"
    assert run.payload() == payload


def test_executions_history_and_logs(shell: Shell) -> None:
    shell.aws(V2)
    executions = shell.make("executions", "ENV=prod")
    assert executions.returncode == 0, executions
    assert executions.aws_calls() == [
        [
            "lambda", "list-durable-executions-by-function", "--function-name", "drift-healer-prod",
            "--query", "DurableExecutions[].[DurableExecutionArn,Status,StartTimestamp]",
            "--output", "table",
        ]
    ]  # fmt: skip
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:drift-healer:live/durable-execution/x/y"
    history = shell.make("history", f"EXECUTION={arn}")
    assert history.returncode == 0, history
    assert history.aws_calls() == [
        ["lambda", "get-durable-execution", "--durable-execution-arn", arn],
        [
            "lambda", "get-durable-execution-history", "--durable-execution-arn", arn,
            "--include-execution-data",
        ],
    ]  # fmt: skip
    for arguments, function in (
        ([], "drift-healer"),
        (["NAME=ReconcilerFunction"], "drift-healer-reconciler"),
        (["NAME=ReviewFunction"], "drift-healer-review"),
    ):
        logs = shell.make("logs", *arguments, "SINCE=2h")
        assert logs.returncode == 0, logs
        assert logs.aws_calls() == [
            [
                "lambda", "get-function-configuration", "--function-name", function,
                "--query", "LoggingConfig.LogGroup", "--output", "text",
            ],
            ["logs", "tail", LOG_GROUP, "--follow", "--since", "2h", "--format", "short"],
        ]  # fmt: skip


# -------------------------------------------------------------------- the README agrees
def _code_blocks(text: str) -> list[str]:
    return re.findall(r"^```[a-z]*\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def _make_commands(text: str, *, inline: bool = True) -> list[list[str]]:
    """Every `make ...` command the README shows: a line of a code block, or inline code."""
    lines = [line for block in _code_blocks(text) for line in block.splitlines()]
    lines += re.findall(r"`(make [^`]*)`", text) if inline else []
    found = []
    for line in lines:
        command = line.split("#", 1)[0].strip()
        words = shlex.split(command) if command.startswith("make ") else []
        if len(words) > 1 and re.fullmatch(r"[a-z][a-zA-Z0-9-]*", words[1]):  # not make -n <target>
            found.append(words[1:])
    return found


def _makefile_targets() -> set[str]:
    targets: set[str] = set()
    for line in (ROOT / "Makefile").read_text().splitlines():
        rule = re.match(r"([A-Za-z0-9_.-]+(?: [A-Za-z0-9_.-]+)*) *:(?!=)", line)
        if rule:
            targets.update(rule.group(1).split())
    return targets


def test_every_make_command_the_readme_shows_exists() -> None:
    makefile = (ROOT / "Makefile").read_text()
    commands = _make_commands((ROOT / "README.md").read_text())
    assert {"invoke", "executions", "history", "logs", "reconcile"} <= {c[0] for c in commands}
    for target, *variables in commands:
        assert target in _makefile_targets(), (
            f"README shows `make {target}`, the Makefile has no such target"
        )
        for variable in variables:
            name = variable.split("=", 1)[0]
            assert f"$({name})" in makefile, (
                f"README shows `make {target} {variable}`, the Makefile has no {name}"
            )


def test_every_operation_the_readme_shows_runs(shell: Shell) -> None:
    shell.aws(V2)
    shown = _make_commands((ROOT / "README.md").read_text(), inline=False)
    commands = [c for c in shown if c[0] in OPERATIONS]
    for command in {tuple(c): c for c in commands}.values():
        run = shell.make(*command)
        assert run.returncode == 0, (command, run)
        assert run.aws_calls(), command


def _what_each_target_runs(text: str) -> dict[str, tuple[list[list[str]], list[str]]]:
    """The README block that lists, under `# make ...`, the commands each target runs."""
    blocks = [b for b in _code_blocks(text) if b.startswith("# make ")]
    assert len(blocks) == 1, "the README shows what each make target runs in one block (# make ...)"
    (block,) = blocks
    shown: dict[str, tuple[list[list[str]], list[str]]] = {}
    for line in block.splitlines():
        if line.startswith("# make "):
            calls: list[list[str]] = []
            payloads: list[str] = []
            shown[line.removeprefix("# make ")] = (calls, payloads)
        elif line.startswith("printf "):
            payloads.append(shlex.split(line)[2])
        else:
            inner = re.fullmatch(r"\w+=\$\((aws .*)\)", line)
            calls.append(shlex.split(inner.group(1) if inner else line)[1:])
    return shown


def test_the_readme_shows_exactly_what_each_target_runs(shell: Shell) -> None:
    shell.aws(V2)
    shown = _what_each_target_runs((ROOT / "README.md").read_text())
    assert {command.split()[0] for command in shown} == set(OPERATIONS)
    for command, (calls, payloads) in shown.items():
        run = shell.make(*shlex.split(command))
        assert run.returncode == 0, (command, run)
        made = [
            ["fileb://event.json" if a.startswith("fileb://") else a for a in call]
            for call in run.aws_calls()
        ]
        expected = [[LOG_GROUP if a == "$group" else a for a in call] for call in calls]
        assert made == expected, command
        assert run.payloads() == payloads, command


# -------------------------------------------------------------------- samconfig.toml's prod
def _values(node: object) -> list[str]:
    if isinstance(node, dict):
        return [*node.keys(), *(v for value in node.values() for v in _values(value))]
    return [str(node)]


def _overrides(text: str) -> dict[str, str]:
    return {k: v for k, _, v in (item.partition("=") for item in shlex.split(text))}


def test_prod_deploys_no_example_and_asks_for_the_address() -> None:
    """`make deploy-prod` (sam deploy --config-env prod) uses samconfig.toml's prod values as
    they are: none may be an example a deploy would take for the real one, and the guided
    deploy asks for the notification address instead of offering an empty one."""
    prod = tomllib.loads((ROOT / "samconfig.toml").read_text())["prod"]
    for value in _values(prod):
        for example in ("example.com", "example", "StackNames", "my-app", "checkout"):
            assert example not in value, value
    overrides = _overrides(prod["deploy"]["parameters"].get("parameter_overrides", ""))
    assert "NotificationEmail" not in overrides
    assert overrides.get("HealMode", "propose") == "propose"  # the first deployment proposes
    assert set(overrides) <= set(load("template.yaml")["Parameters"])
    assert prod["deploy"]["parameters"]["confirm_changeset"] is True
