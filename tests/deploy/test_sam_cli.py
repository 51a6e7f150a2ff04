"""`sam validate` and `sam build` as a new user runs them, with the SAM CLI pinned in
requirements/sam.lock (`make test` installs it in .venv-sam and passes it as SAM): they succeed
on the repository with no extra flag and without AWS credentials, and each function's artifact
holds the pinned wheels and drift_healer/, nothing else, and their bytecode for the runtime's
Python when this machine has it (so a cold start compiles nothing).

No AWS account is used: credentials, profiles and the instance metadata service are taken away,
so a call to AWS would fail. The package registry is used (the build installs the wheels).
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from samtranslator.yaml_helper import yaml_parse

from tests.support import ROOT, load, resources_of

# Nothing of the repository's that the functions do not need, nor bytecode of another Python.
NEVER_SHIPPED = {"drift_sandbox", "drift_healer_cli", "tests", "src", "bin", "requirements"}
ARCHITECTURES = ("aarch64", "x86_64")


def _sam() -> str:
    found = os.environ.get("SAM") or str(ROOT / ".venv-sam" / "bin" / "sam")
    if not Path(found).exists():
        reason = (
            f"no SAM CLI at {found}: `make test` installs the pinned one "
            "(requirements/sam.lock) in .venv-sam and passes it as SAM"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI runs these tests, it does not skip them")
        pytest.skip(reason)
    return found


def _offline(app_dir: Path) -> dict[str, str]:
    """The environment without any AWS credentials or profile; SAM CLI's own state (telemetry
    off, version check done) in app_dir instead of the home folder."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "SAM_")) and k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")
    }
    app_dir.mkdir(parents=True, exist_ok=True)
    state = {"telemetryEnabled": False, "lastVersionCheck": time.time()}
    (app_dir / "metadata.json").write_text(json.dumps(state))
    nothing = app_dir / "none"
    return {
        **env,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(nothing),
        "AWS_SHARED_CREDENTIALS_FILE": str(nothing),
        "AWS_EC2_METADATA_DISABLED": "true",
        "SAM_CLI_TELEMETRY": "0",
        "__SAM_CLI_APP_DIR": str(app_dir),
    }


def _run(
    arguments: list[str], app_dir: Path, timeout: float, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_sam(), *arguments],
        cwd=ROOT,
        env={**_offline(app_dir), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _tail(result: subprocess.CompletedProcess[str]) -> str:
    return f"\n--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}"


def test_sam_validate_lint_passes_without_credentials(tmp_path: Path) -> None:
    result = _run(["validate", "--lint"], tmp_path / "sam", timeout=300)
    assert result.returncode == 0, _tail(result)
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_sam_validate_needs_a_region_but_no_credentials(tmp_path: Path) -> None:
    """Plain `sam validate` translates the template; it would ask IAM only for managed policies
    named without an ARN, and every one here is an ARN."""
    result = _run(["validate", "--region", "us-east-1"], tmp_path / "sam", timeout=300)
    assert result.returncode == 0, _tail(result)


# ------------------------------------------------------------------------------ sam build
@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One `sam build` per test run, shared by the pytest-xdist workers (a lock; the first
    builds, the others read its result): parallel, uncached, into a temporary build folder."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    base = tmp_path_factory.getbasetemp()
    shared = base.parent / f"sam-build-{run}" if run else base / "sam-build"
    shared.mkdir(exist_ok=True)
    summary = shared / "summary.json"
    with (shared / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not summary.exists():
            _sam()
            started = time.monotonic()
            arguments = ["build", "--build-dir", str(shared / "build"), "--no-cached", "--parallel"]
            # the runtime's Python, to compile the bytecode with (the Makefile's LAMBDA_PYTHON)
            python = _python313()
            runtime = {"LAMBDA_PYTHON": python} if python else {}
            result = _run(arguments, shared / "sam", timeout=900, **runtime)
            summary.write_text(
                json.dumps(
                    {
                        "returncode": result.returncode,
                        "output": _tail(result),
                        "seconds": round(time.monotonic() - started, 1),
                        "build": str(shared / "build"),
                    }
                )
            )
    outcome: dict[str, Any] = json.loads(summary.read_text())
    assert outcome["returncode"] == 0, outcome["output"]
    yield outcome


def _artifacts(built: dict[str, Any]) -> dict[str, Path]:
    build = Path(built["build"])
    template = yaml_parse((build / "template.yaml").read_text())
    functions = resources_of(template, "AWS::Serverless::Function")
    return {k: build / f["Properties"]["CodeUri"] for k, f in functions.items()}


def _pins() -> dict[str, str]:
    """requirements/lambda.txt: normalized distribution name -> version."""
    pins = {}
    for line in (ROOT / "requirements" / "lambda.txt").read_text().splitlines():
        name, _, version = line.strip().partition("==")
        if name and not name.startswith("#"):
            pins[_normalize(name)] = version
    return pins


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_sam_build_succeeds_offline_in_reasonable_time(built: dict[str, Any]) -> None:
    # the wheels come from the package registry (cached by pip after the first build)
    assert built["seconds"] < 600, built["seconds"]
    assert "Build Succeeded" in built["output"], built["output"]


def test_both_functions_are_built_with_their_handlers(built: dict[str, Any]) -> None:
    artifacts = _artifacts(built)
    assert sorted(artifacts) == ["HealerFunction", "ReconcilerFunction", "ReviewFunction"]
    source = load("template.yaml")["Resources"]
    built_template = yaml_parse((Path(built["build"]) / "template.yaml").read_text())
    for logical_id, folder in artifacts.items():
        assert folder.is_dir(), logical_id
        handler = built_template["Resources"][logical_id]["Properties"]["Handler"]
        assert handler == source[logical_id]["Properties"]["Handler"]
        module = handler.rpartition(".")[0]
        assert (folder / (module.replace(".", "/") + ".py")).is_file(), handler


@pytest.mark.parametrize("logical_id", ["HealerFunction", "ReconcilerFunction", "ReviewFunction"])
def test_the_artifact_holds_the_pinned_wheels_and_drift_healer_only(
    built: dict[str, Any], logical_id: str
) -> None:
    folder = _artifacts(built)[logical_id]
    top = {p.name for p in folder.iterdir()}
    assert not top & NEVER_SHIPPED, top & NEVER_SHIPPED
    assert not [name for name in top if name.startswith(".")], top

    # exactly the distributions of requirements/lambda.txt, at their pinned versions
    dist_infos = {p for p in folder.glob("*.dist-info")}
    found = {}
    for dist_info in dist_infos:
        name, _, version = dist_info.name.removesuffix(".dist-info").rpartition("-")
        found[_normalize(name)] = version
    assert found == _pins()

    # and nothing at the top but what their RECORDs install, and the handler's package
    installed = {
        entry.split(",")[0].split("/")[0]
        for dist_info in dist_infos
        for entry in (dist_info / "RECORD").read_text().splitlines()
        if entry and not entry.startswith("..")
    }
    # (and the bytecode of the top-level modules, six.py's, if it was compiled)
    expected = installed | {"drift_healer"} | ({"__pycache__"} & top)
    assert top == expected, top ^ expected

    # the handler's package as in src/, without bytecode
    shipped = {p.relative_to(folder).as_posix() for p in (folder / "drift_healer").rglob("*.py")}
    source = {
        p.relative_to(ROOT / "src").as_posix()
        for p in (ROOT / "src" / "drift_healer").rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert shipped == source

    # bytecode only for the runtime's Python, hash-based and checked against its source (the
    # zip's timestamps say nothing), never the building Python's; with a Python 3.13 here,
    # every module of the package has it
    for pyc in folder.rglob("*.pyc"):
        assert pyc.parent.name == "__pycache__" and pyc.name.endswith(".cpython-313.pyc"), pyc
        flags = int.from_bytes(pyc.read_bytes()[4:8], "little")
        assert flags == 0b11, f"{pyc}: not checked-hash bytecode (flags {flags:#b})"
    if _python313():
        missing = [
            p
            for p in (folder / "drift_healer").rglob("*.py")
            if not (p.parent / "__pycache__" / f"{p.stem}.cpython-313.pyc").is_file()
        ]
        assert missing == [], missing

    # compiled extensions: CPython 3.13, each for both architectures (one artifact serves
    # Architecture=arm64 and x86_64; each runtime imports the one named for it)
    extensions = [p.relative_to(folder).as_posix() for p in folder.rglob("*.so")]
    assert extensions, "pydantic_core has a compiled extension"
    pattern = re.compile(r"(?P<stem>.+)\.cpython-313-(?P<arch>aarch64|x86_64)-linux-gnu\.so")
    pairs: dict[str, set[str]] = {}
    for path in extensions:
        match = pattern.fullmatch(path)
        assert match, f"{path}: not a CPython 3.13 extension for Linux arm64 or x86_64"
        pairs.setdefault(match["stem"], set()).add(match["arch"])
    assert all(arches == set(ARCHITECTURES) for arches in pairs.values()), pairs

    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert size < 120 * 2**20, f"{size // 2**20} MiB: more than the wheels and the package"


def test_the_three_functions_ship_the_same_bytes(built: dict[str, Any]) -> None:
    """One artifact, built three times in three folders: byte for byte the same (one upload, and
    a rebuild in another checkout changes nothing), its bytecode naming each source where Lambda
    puts it (/var/task), not where it was built."""
    trees = {
        logical_id: {
            p.relative_to(folder).as_posix(): p.read_bytes()
            for p in folder.rglob("*")
            if p.is_file()
        }
        for logical_id, folder in _artifacts(built).items()
    }
    healer = trees.pop("HealerFunction")
    where = str(_artifacts(built)["HealerFunction"]).encode()
    for logical_id, tree in trees.items():
        assert tree.keys() == healer.keys(), logical_id
        differ = [path for path, data in tree.items() if healer[path] != data]
        assert differ == [], (logical_id, differ[:5])
    for path, data in healer.items():
        if path.endswith(".pyc"):
            assert b"/var/task/" in data, path
            assert where not in data, path


@functools.cache
def _python313() -> str | None:
    """A CPython 3.13 interpreter (the runtime's version), if this machine has one: its own
    path, not a version manager's shim."""
    path = shutil.which("python3.13")
    if path is None:
        return None
    env = {**os.environ, "PYENV_VERSION": os.environ.get("PYENV_VERSION", "3.13")}
    probe = subprocess.run(
        [path, "-c", "import sys; print(sys.version_info[:2], sys.executable)"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    version, _, executable = probe.stdout.strip().partition(") ")
    return executable if probe.returncode == 0 and version == "(3, 13" else None


def test_the_handlers_import_from_the_artifact_alone_on_python313(built: dict[str, Any]) -> None:
    """What Lambda does at a cold start, on this machine's architecture: import each handler
    with nothing but the artifact on the path (no site-packages, no bytecode written), and
    compile none of the artifact's modules (its bytecode is used: the audit event ``compile``
    is raised for each source Python compiles)."""
    python = _python313()
    if python is None:
        pytest.skip("no CPython 3.13 on this machine to import the artifact with")
    source = load("template.yaml")["Resources"]
    for logical_id, folder in _artifacts(built).items():
        module, _, function = source[logical_id]["Properties"]["Handler"].rpartition(".")
        code = (
            f"import sys; sys.path.insert(0, {str(folder)!r}); compiled = []; "
            "sys.addaudithook(lambda event, args: event == 'compile' "
            f"and str(args[1]).startswith({str(folder)!r}) and compiled.append(args[1])); "
            f"import {module} as m; assert callable(m.{function}); "
            "import pydantic_core; print(pydantic_core._pydantic_core.__file__); "
            "print(len(compiled), compiled[:3])"
        )
        env = {
            "PATH": os.environ["PATH"],
            "PYENV_VERSION": os.environ.get("PYENV_VERSION", "3.13"),
            "AWS_REGION": "us-east-1",
        }
        result = subprocess.run(
            [python, "-I", "-S", "-B", "-c", code],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert result.returncode == 0, (logical_id, result.stderr[-3000:])
        extension, compiled = result.stdout.strip().splitlines()
        assert extension.startswith(str(folder)), result.stdout
        assert compiled == "0 []", f"{logical_id}: compiled at import: {compiled}"
