"""moto's stacks as the drift extension reads them: lookup, resources, deployed property values.

moto keeps the stacks; this module only reads them (and gives them the DriftInformation moto does
not model). Every function is stateless, so every executor can share it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import CloudFormationBackend, Stack, cloudformation_backends
from moto.cloudformation.parsing import clean_json

from .resources import LIVE_RESOURCES, Location, Properties

#: (logical id, resource type, physical id) of one resource a stack created.
Resource = tuple[str, str, str]


def backend(account_id: str, region: str) -> CloudFormationBackend:
    return cloudformation_backends[account_id][region]


def stack(account_id: str, region: str, name_or_id: str) -> Stack:
    """A live stack by name or ARN; a deleted one only by ARN, as AWS does."""
    return backend(account_id, region).get_stack(name_or_id)


def operable(account_id: str, region: str, name_or_id: str) -> Stack:
    """A stack that can still be acted on (detected, changed): a deleted one, even by ARN, is
    answered "Stack with id ... does not exist", as AWS does."""
    found = stack(account_id, region, name_or_id)
    if found.status == "DELETE_COMPLETE":
        raise ValidationError(message=f"Stack with id {name_or_id} does not exist")
    return found


def stack_by_id(stack_id: str) -> Stack:
    """The stack an ARN names, in the account and region the ARN says."""
    account_id, region = stack_id.split(":")[4], stack_id.split(":")[3]
    return backend(account_id, region).get_stack(stack_id)


def live_stack(stack_id: str) -> Stack | None:
    """The stack, or None once it was deleted (operations on it then fail)."""
    try:
        found = stack_by_id(stack_id)
    except ValidationError:
        return None
    return None if found.status == "DELETE_COMPLETE" else found


def resource_count(stack: Stack) -> int:
    """How many resources the stack's template declares (moto leaves some types, such as
    AWS::CloudFormation::WaitConditionHandle, out of what it parses)."""
    return len(stack.template_dict.get("Resources", {}))


def resources(stack: Stack) -> list[Resource]:
    """(logical id, type, physical id) of every resource the stack created."""
    out = []
    for logical_id, spec in stack.template_dict.get("Resources", {}).items():
        resource = stack.resource_map._parsed_resources.get(logical_id)
        if resource is None or isinstance(resource, str | dict):
            continue
        physical = getattr(resource, "physical_resource_id", None) or logical_id
        out.append((logical_id, spec["Type"], str(physical)))
    return out


def expected(
    stack: Stack, logical_id: str, parameters: Mapping[str, str] | None = None
) -> Properties:
    """Template properties of a resource with intrinsics resolved as deployed (or as the given
    parameter values would resolve them)."""
    props = stack.template_dict["Resources"][logical_id].get("Properties", {})
    resolver: Any = stack.resource_map
    if parameters is not None and dict(parameters) != dict(stack.resource_map.resolved_parameters):
        resolver = _ParameterOverlay(stack.resource_map, parameters)
    resolved = clean_json(json.loads(json.dumps(props)), resolver)
    return dict(resolved) if isinstance(resolved, dict) else {}


def location(stack: Stack, physical_id: str) -> Location:
    return Location(stack.account_id, stack.region_name, physical_id)


def start_in_sync(stack: Stack) -> None:
    """Complete moto's create: write every checked property to the live resources, so a new
    stack starts in sync, and give it drift information."""
    for logical_id, rtype, physical in resources(stack):
        live = LIVE_RESOURCES.get(rtype)
        if live is not None:
            live.write(location(stack, physical), expected(stack, logical_id))
    set_drift_information(stack, {"StackDriftStatus": "NOT_CHECKED"})


def set_drift_information(stack: Stack, info: dict[str, Any]) -> None:
    """Give a moto stack the DriftInformation DescribeStacks serialises from it."""
    stack.drift_information = info  # type: ignore[attr-defined]


class _ParameterOverlay:
    """The stack's resource map as seen with other parameter values (for change sets whose
    parameters differ from the deployed ones)."""

    def __init__(self, resource_map: Any, parameters: Mapping[str, str]) -> None:
        self._map = resource_map
        self._parameters = parameters

    def __getitem__(self, key: str) -> Any:
        if key in self._parameters:
            return self._parameters[key]
        return self._map[key]

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __getattr__(self, name: str) -> Any:
        return getattr(self._map, name)
