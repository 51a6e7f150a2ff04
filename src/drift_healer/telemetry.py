"""Metrics (CloudWatch EMF) and tracing, via Powertools.

Metrics are recorded once per execution, from inside a durable step: orchestration code runs
again on every replay, a step's body does not. The alarm of the SAM template watches HealFailed.
"""

from __future__ import annotations

from aws_lambda_powertools import Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from .models import Outcome

NAMESPACE = "DriftHealer"
SERVICE = "drift-healer"

tracer = Tracer(service=SERVICE)
_metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def record(outcome: Outcome, drifted_resources: int, change_set_created: bool) -> None:
    """Emit this execution's metrics now (one EMF record on stdout)."""
    if drifted_resources:
        _metrics.add_metric(name="DriftDetected", unit=MetricUnit.Count, value=1)
    _metrics.add_metric(name="DriftedResources", unit=MetricUnit.Count, value=drifted_resources)
    if change_set_created:
        _metrics.add_metric(name="ChangeSetsCreated", unit=MetricUnit.Count, value=1)
    if outcome is Outcome.HEALED:
        _metrics.add_metric(name="Heals", unit=MetricUnit.Count, value=1)
    if outcome is Outcome.RESIDUAL_DRIFT:
        _metrics.add_metric(name="ResidualDrift", unit=MetricUnit.Count, value=1)
    if outcome is Outcome.FAILED:
        _metrics.add_metric(name="HealFailed", unit=MetricUnit.Count, value=1)
    _metrics.add_metadata(key="outcome", value=outcome.value)
    _metrics.flush_metrics()
