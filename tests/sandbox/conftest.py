from __future__ import annotations

from typing import Any

import pytest

from drift_healer.sandbox import Sandbox
from tests.conftest import TEMPLATE, ManualClock


@pytest.fixture
def cfn(sandbox: Sandbox) -> Any:
    return sandbox.client("cloudformation")


@pytest.fixture
def stack(sandbox: Sandbox, cfn: Any) -> dict[str, str]:
    """The stack 'app' (Env=prod) and its physical resource ids by logical id."""
    cfn.create_stack(
        StackName="app",
        TemplateBody=TEMPLATE,
        Parameters=[{"ParameterKey": "Env", "ParameterValue": "prod"}],
    )
    resources = cfn.describe_stack_resources(StackName="app")["StackResources"]
    return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}


def detect(cfn: Any, clock: ManualClock, stack_name: str = "app") -> dict[str, Any]:
    """Run a detection to its end on the manual clock and return its status."""
    detection_id = cfn.detect_stack_drift(StackName=stack_name)["StackDriftDetectionId"]
    clock.advance(3600)
    return cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection_id)  # type: ignore[no-any-return]


def drifts(cfn: Any, stack_name: str = "app") -> dict[str, dict[str, Any]]:
    out = cfn.describe_stack_resource_drifts(StackName=stack_name)["StackResourceDrifts"]
    return {d["LogicalResourceId"]: d for d in out}
