"""The Lambda artifact holds what the Lambda needs and nothing else: the handler's package, whose
imports never reach the sandbox, the CLI or test-only code (the import contract `shipped`,
checked against the artifact as the Makefile builds it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support import ROOT

BIN = Path(sys.executable).parent


def _build(out: Path) -> None:
    subprocess.run(
        ["make", "--no-print-directory", "lambda-code", f"OUT={out}"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )


def test_the_artifact_ships_the_handler_package_alone(tmp_path: Path) -> None:
    _build(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["drift_healer"]
    shipped = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.py")}
    assert {"drift_healer/handler.py", "drift_healer/workflow.py"} <= shipped


def test_the_shipped_code_keeps_the_import_contract(tmp_path: Path) -> None:
    _build(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    where = subprocess.run(
        [sys.executable, "-c", "import drift_healer; print(drift_healer.__file__)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(str(tmp_path))  # the contract below reads the artifact's copy
    check = subprocess.run(
        [str(BIN / "lint-imports"), "--contract", "shipped", "--no-cache"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "KEPT" in check.stdout
