"""Metrics (CloudWatch EMF), via Powertools. (Tracing is Lambda's own: ``Tracing: Active``.)

Metrics are recorded once per execution, from inside a durable step: orchestration code runs
again on every replay, a step's body does not. The alarm of the SAM template watches HealFailed.
"""

from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from .models import Outcome, ReconcileResult

NAMESPACE = "DriftHealer"
SERVICE = "drift-healer"
FLEET_SERVICE = "drift-healer-reconciler"

_metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
#: The reconciler's metrics; its alarm in the SAM template watches ReconcileErrors.
_fleet_metrics = Metrics(namespace=NAMESPACE, service=FLEET_SERVICE)


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


def record_reconcile(result: ReconcileResult) -> None:
    """Emit one reconciler run's metrics now (one EMF record on stdout)."""
    for name, value in (
        ("EnrolledStacks", result.enrolled),
        ("SchedulesWritten", result.created + result.updated + result.deleted),
        ("InvalidEnrolments", result.invalid_count),
        ("ReconcileErrors", result.error_count),
    ):
        _fleet_metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    _fleet_metrics.flush_metrics()
