from __future__ import annotations

from typing import Any

import pytest

from drift_sandbox import Sandbox
from tests.support import create_stack


@pytest.fixture
def cfn(sandbox: Sandbox) -> Any:
    return sandbox.client("cloudformation")


@pytest.fixture
def stack(sandbox: Sandbox) -> dict[str, str]:
    """The stack 'app' (Env=prod) and its physical resource ids by logical id."""
    return create_stack(sandbox)
