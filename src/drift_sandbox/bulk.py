"""Many real CloudFormation stacks at once, and new tags on one: the sandbox's shortcuts.

A fleet test needs thousands of stacks. CreateStack through boto3 costs 2 to 4 ms a stack (the
HTTP round trip, moto's YAML parse of the template, its check of the name against every stack), so
5,000 take 20 s. These helpers make the same moto stacks in the backend directly: the template is
parsed once, names are checked against a set. What comes out is what CreateStack makes
(CREATE_COMPLETE, events, describable, updatable, deletable, listed by the tagging API); the
caller completes it as CreateStack would (the drift engine's ``on_stack_created``).
"""

from __future__ import annotations

import copy
import json
import warnings
from collections.abc import Iterable, Mapping

from moto.cloudformation.exceptions import AlreadyExistsException
from moto.cloudformation.models import Stack
from moto.cloudformation.utils import generate_stack_id

from .stacks import backend

#: One resource that creates nothing: CloudFormation's own no-op, the WaitConditionHandle
#: (moto models it as nothing, so a stack of it costs nothing either).
TRIVIAL_TEMPLATE = json.dumps(
    {"Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}}
)


def create_stacks(
    names: Iterable[str],
    tags: Mapping[str, str],
    account_id: str,
    region: str,
    template: str = TRIVIAL_TEMPLATE,
) -> list[Stack]:
    """Create one stack per name, each with ``tags``, from a parameterless ``template``; as
    CreateStack does, a name in use is refused (AlreadyExistsException) and nothing after it is
    made."""
    cfn = backend(account_id, region)
    taken = {stack.name for stack in cfn.stacks.values()}
    parsed = Stack.parse_template(template)
    created: list[Stack] = []
    with warnings.catch_warnings():  # moto warns of every WaitConditionHandle it does not model
        warnings.simplefilter("ignore", UserWarning)
        for name in names:
            if name in taken:
                raise AlreadyExistsException(f"Stack [{name}] already exists")
            stack = Stack(  # type: ignore[abstract]  # moto instantiates it so too
                stack_id=generate_stack_id(name, region, account_id),
                name=name,
                template={},  # parsed below, once for all of them
                parameters={},
                account_id=account_id,
                region_name=region,
                tags=dict(tags),
                cross_stack_resources=cfn.exports,
            )
            stack.template = template
            stack.template_dict = copy.deepcopy(parsed)
            stack.description = stack.template_dict.get("Description")
            stack.resource_map = stack._create_resource_map()
            stack.output_map = stack._create_output_map()
            cfn.stacks[stack.stack_id] = stack
            stack._add_stack_event("CREATE_IN_PROGRESS", resource_status_reason="User Initiated")
            stack.create_resources()
            taken.add(name)
            created.append(stack)
    return created


def retag(stack: Stack, tags: Mapping[str, str]) -> None:
    """What UpdateStack with UsePreviousTemplate, every parameter's previous value and these Tags
    does: the stack's tags become ``tags`` (all of them: an empty mapping removes every tag) and
    the stack goes through UPDATE_IN_PROGRESS to UPDATE_COMPLETE.
    https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_UpdateStack.html"""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        backend(stack.account_id, stack.region_name).update_stack(
            name=stack.stack_id,
            template=stack.template,  # type: ignore[arg-type]
            role_arn=stack.role_arn,
            parameters=[{"ParameterKey": k, "UsePreviousValue": True} for k in stack.parameters],
            tags=dict(tags),
        )
