"""Lambda entry points: ``drift_healer.handler.lambda_handler`` (the heal) and
``reconcile_handler`` (the fleet). Thin on purpose, and quick to import: the heal's cold start
does not import the reconciler (the reconciler's does import the heal's modules).

No X-Ray SDK: the template's ``Tracing: Active`` has Lambda trace every invocation without it, and
the SDK (in maintenance since February 2026) would double the heal's cold start."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution

from .settings import Settings, get_settings
from .workflow import run


def build_handler(
    settings: Settings | None = None, clock: Callable[[], datetime] | None = None
) -> Any:
    """The durable handler. Tests and the CLI pass their settings, and the local runner its
    virtual clock (what the change policy's windows are judged by); in Lambda, settings come
    from the environment and the time from the system."""

    @durable_execution
    def handler(event: Any, context: DurableContext) -> Any:
        return run(event, context, settings or get_settings(), clock)

    return handler


lambda_handler = build_handler()


def reconcile_handler(event: Any, context: Any) -> dict[str, Any]:
    """The reconciler's entry point: ``drift_healer.handler.reconcile_handler`` (not durable).
    Its module is imported here, not above: the heal's function never runs it."""
    from . import reconciler

    remaining = (
        (lambda: context.get_remaining_time_in_millis() / 1000)
        if hasattr(context, "get_remaining_time_in_millis")
        else None
    )
    return reconciler.run(event, remaining).dump()
