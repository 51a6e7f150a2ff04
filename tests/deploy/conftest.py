"""The SAM application as AWS's own tools see it: cfn-lint, the SAM translator, checkov."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import boto3
import pytest
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_STACKS = ["checkout", "payments", "identity-v2"]
PARAMETERS = {
    "StackNames": SAMPLE_STACKS,
    "AWS::Region": "eu-west-1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::StackName": "drift-healer",
}


def load(name: str) -> dict[str, Any]:
    parsed: dict[str, Any] = yaml_parse((ROOT / name).read_text())
    return parsed


def expand_for_each(template: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    """What AWS::LanguageExtensions does to the Fn::ForEach we use: one copy of the body per
    item, ``&{Id}`` in keys (non-alphanumerics stripped), ``${Id}`` in Fn::Sub and ``Ref: Id``."""
    out = copy.deepcopy(template)
    out["Transform"] = [t for t in out["Transform"] if t != "AWS::LanguageExtensions"]
    resources: dict[str, Any] = {}
    for key, value in out["Resources"].items():
        if not key.startswith("Fn::ForEach::"):
            resources[key] = value
            continue
        identifier, collection, body = value
        items = parameters[collection["Ref"]] if isinstance(collection, dict) else collection
        for item in items:
            for key_template, resource in body.items():
                name = key_template.replace(f"&{{{identifier}}}", re.sub(r"[^A-Za-z0-9]", "", item))
                resources[name] = _substitute(resource, identifier, item)
    out["Resources"] = resources
    return out


def _substitute(node: Any, identifier: str, item: str) -> Any:
    if isinstance(node, dict):
        if node == {"Ref": identifier}:
            return item
        if "Fn::Sub" in node and isinstance(node["Fn::Sub"], str):
            return {"Fn::Sub": node["Fn::Sub"].replace(f"${{{identifier}}}", item)}
        return {k: _substitute(v, identifier, item) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, identifier, item) for v in node]
    return node


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


def resources_of(template: dict[str, Any], rtype: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == rtype}
