"""The Lambda artifact holds what the Lambda needs and nothing else."""

from __future__ import annotations

import ast
import fnmatch
import re
from pathlib import Path

from .conftest import ROOT

TEST_ONLY = ("moto", "aws_durable_execution_sdk_python_testing", "pytest", "drift_healer.sandbox")


def _excluded_patterns() -> list[str]:
    """The ignore patterns of the Makefile's copy-code (what `sam build` and `make package` use)."""
    makefile = (ROOT / "Makefile").read_text()
    match = re.search(r"ignore_patterns\(([^)]*)\)", makefile.replace("\\\n", ""))
    assert match, "copy-code in the Makefile must use shutil.ignore_patterns"
    return re.findall(r"'([^']+)'", match.group(1))


def _shipped() -> list[Path]:
    patterns = _excluded_patterns()
    package = ROOT / "src" / "drift_healer"
    return [
        path
        for path in package.rglob("*.py")
        if not any(
            fnmatch.fnmatch(part, p) for part in path.relative_to(package).parts for p in patterns
        )
    ]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = "drift_healer." if node.level else ""
            names.add(base + (node.module or ""))
    return names


def test_the_sandbox_and_the_cli_are_left_out() -> None:
    shipped = {p.relative_to(ROOT / "src").as_posix() for p in _shipped()}
    assert "drift_healer/handler.py" in shipped
    assert "drift_healer/workflow.py" in shipped
    assert not any(p.startswith("drift_healer/sandbox/") for p in shipped)
    assert "drift_healer/cli.py" not in shipped and "drift_healer/local.py" not in shipped


def test_shipped_code_imports_nothing_test_only() -> None:
    for path in _shipped():
        bad = {name for name in _imports(path) if name.startswith(TEST_ONLY)}
        assert not bad, f"{path} imports {bad}"


def test_the_check_sees_relative_imports_of_the_sandbox() -> None:
    cli = ROOT / "src" / "drift_healer" / "cli.py"  # left out of the artifact: it uses the sandbox
    assert any(name.startswith(TEST_ONLY) for name in _imports(cli))
