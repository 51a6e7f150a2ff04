"""The SAM application as the SAM translator deploys it (for the template tests)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from tests.support import PARAMETERS, expand_for_each, load


class _NoManagedPolicies:
    """The translator asks IAM for managed policy names; ours are all ARNs."""

    def load(self) -> dict[str, str]:
        return {}


@pytest.fixture(scope="session")
def translated() -> dict[str, Any]:
    """template.yaml as CloudFormation will deploy it, for the sample stacks (what
    samtranslator's transform() does, with the region given rather than looked up)."""
    expanded = expand_for_each(load("template.yaml"), PARAMETERS)
    # as `sam package` leaves it: the built code uploaded to S3
    expanded["Resources"]["HealerFunction"]["Properties"]["CodeUri"] = "s3://artifacts/healer.zip"
    translator = Translator(None, Parser(), boto_session=boto3.Session(region_name="eu-west-1"))
    result: dict[str, Any] = translator.translate(
        expanded,
        parameter_values=dict(PARAMETERS),
        get_managed_policy_map=_NoManagedPolicies().load,
    )
    return result
