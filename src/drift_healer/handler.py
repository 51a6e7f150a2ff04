"""Lambda entry point: ``drift_healer.handler.lambda_handler``. Thin on purpose."""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution

from . import reconciler
from .settings import Settings, get_settings
from .telemetry import tracer
from .workflow import run


def build_handler(settings: Settings | None = None) -> Any:
    """The durable handler. Tests and the CLI pass their settings; in Lambda, settings come from
    the environment."""

    @durable_execution
    def handler(event: Any, context: DurableContext) -> Any:
        return run(event, context, settings or get_settings())

    # X-Ray segment per invocation (off outside Lambda); boto3 calls become subsegments.
    return tracer.capture_lambda_handler(handler, capture_response=False)


lambda_handler = build_handler()


def reconcile_handler(event: Any, context: Any) -> dict[str, Any]:
    """The reconciler's entry point: ``drift_healer.handler.reconcile_handler`` (not durable)."""
    remaining = (
        (lambda: context.get_remaining_time_in_millis() / 1000)
        if hasattr(context, "get_remaining_time_in_millis")
        else None
    )
    return reconciler.run(event, remaining).dump()
