"""The README's fault matrix, written from the test run.

A test marked ``@pytest.mark.fault(fault, what_the_healer_does)`` proves one row. After a run of
the whole suite in which every test passed, the rows of the marked tests replace the README's
table between the ``fault-matrix`` markers; in CI (``CI=true``) a stale table fails the run,
so what README.md says is what the tests proved.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BEGIN = "<!-- fault-matrix:begin (written by the test run: tests/matrix.py) -->"
END = "<!-- fault-matrix:end -->"
_proved: dict[tuple[str, str], set[str]] = {}
_failed = False


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fault(fault, response): a row of the README's fault matrix this test proves"
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    marker = item.get_closest_marker("fault")
    if marker is not None and report.when == "call":
        report.user_properties.append(("fault", (*marker.args, item.originalname)))  # type: ignore[attr-defined]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    global _failed
    _failed = _failed or report.failed
    for key, value in report.user_properties:
        if key == "fault" and report.passed:
            fault, response, test = value
            _proved.setdefault((fault, response), set()).add(test)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if hasattr(config, "workerinput") or _failed or exitstatus != 0 or not _whole_suite(config):
        return
    if not _proved:  # nothing ran that proves a row (collect-only, setup-only): keep the table
        return
    table = render(_proved)
    text = README.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    if text[start:end] == table:
        return
    README.write_text(text[:start] + table + text[end:])
    message = "README.md's fault matrix was out of date and has been rewritten from this run"
    if os.environ.get("CI") == "true":
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        message += "; commit the new README.md"
    config.get_terminal_writer().line(message, yellow=True)


def render(proved: dict[tuple[str, str], set[str]]) -> str:
    rows = sorted(proved.items(), key=lambda row: row[0][0].lower().strip("`"))
    lines = ["", "| fault | what the healer does | proved by |", "|---|---|---|"]
    for (fault, response), tests in rows:
        names = ", ".join(f"`{t}`" for t in sorted(tests))
        lines.append(f"| {fault} | {response} | {names} |")
    return "\n".join(lines) + "\n"


def _whole_suite(config: pytest.Config) -> bool:
    """Only a run of every test may rewrite the table (a subset would shrink it)."""
    option = config.option
    narrowed = ("keyword", "markexpr", "lf", "deselect", "ignore", "ignore_glob")
    skipped_runs = ("collectonly", "setuponly", "setupplan")
    return (
        config.args_source == pytest.Config.ArgsSource.TESTPATHS
        and not any(getattr(option, name, None) for name in narrowed)
        and not any(getattr(option, name, False) for name in skipped_runs)
    )
