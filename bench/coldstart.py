"""Cold start: how long the Lambda handler module takes to import in a fresh interpreter, next to
``import boto3`` alone in the same run; the memory that takes; the artifact's size.

Imports are timed inside fresh interpreters (``time.perf_counter`` around the import), in pairs
(handler, boto3, then boto3, handler, ...) after a warm-up of each, so a machine that speeds up
or slows down during the run moves both alike; the report quotes medians and the median of the
per-pair ratios. Two conditions: with the bytecode Python caches on this machine, which is how
Lambda imports the artifact built with the runtime's Python at hand (the Makefile's
``bytecode``), and with none (``-B`` and an empty ``PYTHONPYCACHEPREFIX``), which is how it
imports one built without: Lambda cannot write bytecode, so every cold start then compiles what
it imports.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HANDLER = "drift_healer.handler"
#: What the handler imports that is not the healer's own code: the durable SDK (boto3 with it),
#: pydantic-settings (pydantic with it) and Powertools' metrics. Timed alone, they show how much
#: of the handler's import is the healer's and how low the ratio to boto3 can go with them.
DEPENDENCIES = "aws_durable_execution_sdk_python, pydantic_settings, aws_lambda_powertools.metrics"
#: Timed in the child; its peak resident memory from /proc (ru_maxrss would carry the parent's
#: high-water mark across exec on Linux), else ru_maxrss.
_TIMED = (
    "import re, resource, time\n"
    "began = time.perf_counter()\n"
    "import {module}\n"
    "seconds = time.perf_counter() - began\n"
    "try:\n"
    "    with open('/proc/self/status') as status:\n"
    "        peak = int(re.search(r'VmHWM:\\s+(\\d+)', status.read())[1])\n"
    "except OSError:\n"
    "    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "print(seconds, peak)\n"
)


def _import(module: str, bytecode: bool) -> tuple[float, int]:
    """Seconds to import ``module`` in a fresh interpreter, and its peak RSS in KiB."""
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}
    command = [sys.executable, *([] if bytecode else ["-B"]), "-c", _TIMED.format(module=module)]
    with tempfile.TemporaryDirectory() as empty:
        if not bytecode:
            env["PYTHONPYCACHEPREFIX"] = empty
        out = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"python -c 'import {module}' failed: {out.stderr.strip()[-500:]}")
    seconds, rss = out.stdout.split()
    return float(seconds), int(rss)


def import_times(repetitions: int, bytecode: bool) -> dict[str, Any]:
    """Paired, alternating runs (after one warm-up each, unless a single pair is asked for)."""
    modules = (HANDLER, "boto3", DEPENDENCIES)
    if repetitions > 1:
        for module in modules:
            _import(module, bytecode)
    runs: dict[str, list[float]] = {module: [] for module in modules}
    rss: list[int] = []
    for rep in range(repetitions):
        for module in modules[rep % 3 :] + modules[: rep % 3]:  # each goes first in turn
            seconds, peak = _import(module, bytecode)
            runs[module].append(seconds)
            if module == HANDLER:
                rss.append(peak)
    handler, boto3, dependencies = runs[HANDLER], runs["boto3"], runs[DEPENDENCIES]
    ratios = [h / b for h, b in zip(handler, boto3, strict=True)]
    return {
        "bytecode": bytecode,
        "repetitions": repetitions,
        "handler_seconds": statistics.median(handler),
        "boto3_seconds": statistics.median(boto3),
        "dependencies_seconds": statistics.median(dependencies),
        "dependencies_ratio": statistics.median(
            [d / b for d, b in zip(dependencies, boto3, strict=True)]
        ),
        "ratio": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "handler_rss_kib": statistics.median(rss),
        "runs": {"handler": handler, "boto3": boto3, "dependencies": dependencies},
    }


def artifact_size() -> dict[str, Any]:
    """The arm64 zip ``make package`` built, if there is one; else the size of the function's
    code and its pinned runtime requirements as installed on this machine (unzipped)."""
    built = ROOT / "dist" / "drift-healer-arm64.zip"
    if built.exists():
        with zipfile.ZipFile(built) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
        return {
            "source": str(built.relative_to(ROOT)),
            "zipped_bytes": built.stat().st_size,
            "unzipped_bytes": unzipped,
        }
    code = sum(
        p.stat().st_size
        for p in (ROOT / "src" / "drift_healer").rglob("*")
        if p.is_file() and _shipped(p)
    )
    requirements = 0
    for line in (ROOT / "requirements" / "lambda.txt").read_text().splitlines():
        name = re.split(r"[=<>\[ ;]", line.strip(), maxsplit=1)[0]
        if not name or name.startswith("#"):
            continue
        dist = importlib.metadata.distribution(name)
        for file in dist.files or []:
            if file.parts[0] == ".." or not _shipped(Path(str(file))):
                continue
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                requirements += path.stat().st_size
    return {
        "source": "src/drift_healer and requirements/lambda.txt as installed on this machine, "
        "with their bytecode; `make package` builds the arm64 zip, which this size then comes "
        "from",
        "zipped_bytes": None,
        "unzipped_bytes": code + requirements,
        "code_bytes": code,
    }


def _shipped(path: Path) -> bool:
    """A file the artifact ships: a source, or this Python's bytecode of one (the artifact has
    the runtime's, about as large), not another Python's or an optimized level's."""
    if path.suffix != ".pyc":
        return "__pycache__" not in path.parts
    tag = sys.implementation.cache_tag
    return path.name.endswith(f".{tag}.pyc")


def measure(repetitions: int) -> dict[str, Any]:
    return {
        "cached": import_times(repetitions, bytecode=True),
        "no_bytecode": import_times(repetitions, bytecode=False),
        "artifact": artifact_size(),
    }
