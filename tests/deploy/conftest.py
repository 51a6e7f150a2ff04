"""The SAM application as the SAM translator deploys it (for the template tests)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from tests.support import PARAMETERS, load, resources_of


class _NoManagedPolicies:
    """The translator asks IAM for managed policy names; ours are all ARNs."""

    def load(self) -> dict[str, str]:
        return {}


@pytest.fixture(scope="session")
def translated() -> dict[str, Any]:
    """template.yaml as CloudFormation will deploy it (what samtranslator's transform() does,
    with the region given rather than looked up)."""
    template = load("template.yaml")
    # as `sam package` leaves it: the built code uploaded to S3
    for logical_id in resources_of(template, "AWS::Serverless::Function"):
        properties = template["Resources"][logical_id]["Properties"]
        properties["CodeUri"] = f"s3://artifacts/{logical_id}.zip"
    translator = Translator(None, Parser(), boto_session=boto3.Session(region_name="eu-west-1"))
    result: dict[str, Any] = translator.translate(
        template,
        parameter_values=dict(PARAMETERS),
        get_managed_policy_map=_NoManagedPolicies().load,
    )
    return result
