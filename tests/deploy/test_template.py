"""Proof that the SAM application is right before anyone deploys it."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint_all

from drift_healer import telemetry
from drift_healer.settings import FleetSettings, Settings
from tests.support import ROOT, load, resources_of

TEMPLATES = ["template.yaml", "member-account.yaml"]
# X-Ray supports no resource-level permissions; SAM adds these for Tracing: Active.
TELEMETRY = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
READ_ONLY = ("Describe", "List", "Get")
GROUP_SCHEDULES = (
    "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/${Schedules}/*"
)
# Every value of the drift-healer tag, and none (an untagged stack).
TAG_VALUES = ["enabled", "propose", "heal", "dry-run", "paused", "Enabled", "yes", None]


@pytest.mark.parametrize("name", TEMPLATES)
def test_cfn_lint_passes(name: str) -> None:
    matches = lint_all((ROOT / name).read_text())
    # errors and warnings, as the cfn-lint command reports by default (not informational rules)
    assert [str(m) for m in matches if m.rule.id[0] in "EW"] == []


# ------------------------------------------------------------------------------ the shape
def test_plain_sam_no_language_extensions_no_stack_list() -> None:
    """`sam build` of current SAM CLI releases crashes on Fn::ForEach; stacks enrol by tag."""
    text = (ROOT / "template.yaml").read_text()
    template = load("template.yaml")
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    assert "LanguageExtensions" not in text
    assert "Fn::ForEach" not in text
    assert "StackNames" not in text
    assert not any(key.startswith("Fn::") for key in template["Resources"])


def _function(translated: dict[str, Any], logical_id: str) -> dict[str, Any]:
    function = translated["Resources"][logical_id]
    assert function["Type"] == "AWS::Lambda::Function"
    props: dict[str, Any] = function["Properties"]
    return props


def test_both_functions_build_from_src_with_the_makefile() -> None:
    """`sam build` copies CodeUri (src/, not the repository with its virtual environments) and
    runs the Makefile of ContextPath (the repository's)."""
    template = load("template.yaml")
    functions = resources_of(template, "AWS::Serverless::Function")
    assert sorted(functions) == ["HealerFunction", "ReconcilerFunction", "ReviewFunction"]
    for logical_id, function in functions.items():
        assert function["Properties"]["CodeUri"] == "src/", logical_id
        assert function["Metadata"]["BuildMethod"] == "makefile", logical_id
        assert function["Metadata"]["ContextPath"] == ".", logical_id
        made = subprocess.run(
            ["make", "-n", f"build-{logical_id}", "ARTIFACTS_DIR=/tmp/artifact"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        pip = [line for line in made.splitlines() if "pip install" in line]
        assert len(pip) == 2, made  # the wheels of both architectures
        for line in pip:
            assert "--no-compile" in line and "--python-version 3.13" in line, line
            assert f"-r {ROOT}/requirements/lambda.txt" in line, line
        assert {"manylinux2014_aarch64", "manylinux2014_x86_64"} <= set(made.split())
        assert f"{ROOT}/src/drift_healer /tmp/artifact" in made


def test_the_healer_is_durable_and_configured(translated: dict[str, Any]) -> None:
    props = _function(translated, "HealerFunction")
    assert props["Runtime"] == "python3.13"
    assert props["Handler"] == "drift_healer.handler.lambda_handler"
    assert props["DurableConfig"] == {
        "ExecutionTimeout": {"Ref": "ExecutionTimeoutSeconds"},
        "RetentionPeriodInDays": {"Ref": "RetentionPeriodInDays"},
    }
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["LoggingConfig"] == {"LogFormat": "JSON", "LogGroup": {"Ref": "HealerLogs"}}
    variables = props["Environment"]["Variables"]
    assert variables["HEAL_MODE"] == {"Ref": "HealMode"}
    assert "OPT_IN_TAG_VALUE" not in variables  # any enrolment value counts
    assert variables["OPT_IN_TAG_KEY"] == {"Fn::If": ["HasOptInTag", "drift-healer", ""]}
    template = load("template.yaml")
    assert template["Parameters"]["ExecutionTimeoutSeconds"]["Default"] >= 7 * 24 * 3600
    logs = resources_of(translated, "AWS::Logs::LogGroup")
    assert all("RetentionInDays" in lg["Properties"] for lg in logs.values())


def test_durable_execution_policy_is_attached_to_the_healer_only(
    translated: dict[str, Any],
) -> None:
    roles = resources_of(translated, "AWS::IAM::Role")
    for logical_id in ("HealerFunctionRole", "ReconcilerFunctionRole"):
        role = roles[logical_id]["Properties"]
        durable = "service-role/AWSLambdaBasicDurableExecutionRolePolicy"
        assert (durable in json.dumps(role["ManagedPolicyArns"])) == (
            logical_id == "HealerFunctionRole"
        )
        assert role["Path"] == "/drift-healer/"


def test_the_reconciler_is_a_plain_function(translated: dict[str, Any]) -> None:
    props = _function(translated, "ReconcilerFunction")
    healer = _function(translated, "HealerFunction")
    assert "DurableConfig" not in props
    assert props["Handler"] == "drift_healer.handler.reconcile_handler"
    assert props["Runtime"] == "python3.13"
    assert props["Architectures"] == healer["Architectures"] == [{"Ref": "Architecture"}]
    assert (props["Timeout"], props["MemorySize"]) == (900, 512)
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["LoggingConfig"] == {"LogFormat": "JSON", "LogGroup": {"Ref": "ReconcilerLogs"}}
    assert props["FunctionName"] == {"Fn::Sub": "${AWS::StackName}-reconciler"}
    logs = translated["Resources"]["ReconcilerLogs"]["Properties"]
    assert logs["KmsKeyId"] == {"Fn::GetAtt": ["NotificationKey", "Arn"]}
    assert logs["RetentionInDays"] == {"Ref": "LogRetentionInDays"}
    # no alias: Scheduler and people invoke it by name
    aliases = resources_of(translated, "AWS::Lambda::Alias")
    assert [a["Properties"]["FunctionName"] for a in aliases.values()] == [
        {"Ref": "HealerFunction"}
    ]


def test_the_template_passes_the_fleet_to_the_reconciler(translated: dict[str, Any]) -> None:
    [alias_id] = resources_of(translated, "AWS::Lambda::Alias")
    variables = _function(translated, "ReconcilerFunction")["Environment"]["Variables"]
    assert variables == {
        "HEAL_MODE": {"Ref": "HealMode"},
        "FLEET_REGIONS": {"Ref": "Regions"},
        "FLEET_ACCOUNTS": {"Ref": "MemberAccountIds"},
        "MEMBER_ROLE_NAME": {"Ref": "MemberRoleName"},
        "SCHEDULE_GROUP": {"Ref": "Schedules"},
        "SCHEDULER_ROLE_ARN": {"Fn::GetAtt": ["SchedulerRole", "Arn"]},
        "HEALER_TARGET_ARN": {"Ref": alias_id},  # durable functions need a qualified ARN
        "SCHEDULE_DEAD_LETTER_ARN": {"Fn::GetAtt": ["ScheduleDeadLetters", "Arn"]},
        "SCHEDULE_EXPRESSION": {"Ref": "ScheduleExpression"},
        "SCHEDULE_TIMEZONE": {"Ref": "ScheduleTimezone"},
        "SPREAD_MINUTES": {"Ref": "SpreadMinutes"},
        "FLEXIBLE_WINDOW_MINUTES": {"Ref": "FlexibleWindowMinutes"},
        "POWERTOOLS_SERVICE_NAME": "drift-healer-reconciler",
        "POWERTOOLS_METRICS_NAMESPACE": "DriftHealer",
    }


@pytest.mark.parametrize(
    ("logical_id", "settings"),
    [
        ("HealerFunction", [Settings]),
        ("ReconcilerFunction", [Settings, FleetSettings]),
        ("ReviewFunction", [Settings]),
    ],
)
def test_every_variable_the_template_sets_is_read_by_the_code(
    translated: dict[str, Any], logical_id: str, settings: list[type[Any]]
) -> None:
    """pydantic-settings ignores unknown variables: a misspelt one would silently fall back to
    its default. Every variable is a settings field, and every required field is set."""
    variables = _function(translated, logical_id)["Environment"]["Variables"]
    names = {v.lower() for v in variables if not v.startswith("POWERTOOLS_")}
    fields = {name for model in settings for name in model.model_fields}
    assert names - fields == set()
    required = {
        name for model in settings for name, f in model.model_fields.items() if f.is_required()
    }
    assert required <= names


def test_parameters_the_reconciler_reads_are_checked_alike() -> None:
    """What CloudFormation accepts for Regions and MemberAccountIds, the reconciler accepts: a
    typo fails the deployment, not every reconciler run after it."""
    parameters = load("template.yaml")["Parameters"]
    alias = "arn:aws:lambda:eu-west-1:123456789012:function:drift-healer:live"
    required = {
        "schedule_group": "drift-healer-schedules",
        "scheduler_role_arn": "arn:aws:iam::123456789012:role/drift-healer/x",
        "healer_target_arn": alias,
        "schedule_dead_letter_arn": "arn:aws:sqs:eu-west-1:123456789012:q",
        "member_role_name": "DriftHealerMember",
    }
    samples = {
        "Regions": (
            ["", "eu-west-1", "eu-west-1,us-east-1", "us-gov-west-1, ap-southeast-5"],
            ["eu-west", "EU-WEST-1", "eu-west-0", "eu-west-1,", "eu-west-1;us-east-1", "*"],
        ),
        "MemberAccountIds": (
            ["", "210987654321", "210987654321,345678901234", "210987654321, 345678901234"],
            ["21098765432", "210987654321,", "o-a1b2c3d4e5", "210987654321 345678901234"],
        ),
    }
    field = {"Regions": "fleet_regions", "MemberAccountIds": "fleet_accounts"}
    for name, (good, bad) in samples.items():
        pattern = parameters[name]["AllowedPattern"]
        assert parameters[name]["Default"] == ""
        for value in good:
            assert re.fullmatch(pattern, value), (name, value)
            FleetSettings(**required, **{field[name]: value})
        for value in bad:
            assert not re.fullmatch(pattern, value), (name, value)
    assert "MemberAccountsNeedTheMemberRole" in load("template.yaml")["Rules"]


def test_schedule_parameters_and_their_defaults() -> None:
    parameters = load("template.yaml")["Parameters"]
    assert parameters["SpreadMinutes"] | {"Description": ""} == {
        "Type": "Number",
        "Default": 180,
        "MinValue": 0,
        "MaxValue": 1440,
        "Description": "",
    }
    flexible = parameters["FlexibleWindowMinutes"]
    assert (flexible["Default"], flexible["MinValue"], flexible["MaxValue"]) == (15, 0, 1440)
    assert parameters["ReconcileSchedule"]["Default"] == "rate(1 hour)"
    assert parameters["ScheduleExpression"]["Default"] == "cron(0 2 * * ? *)"
    assert parameters["ScheduleTimezone"]["Default"] == "UTC"
    fleet = FleetSettings.model_fields
    assert fleet["spread_minutes"].default == parameters["SpreadMinutes"]["Default"]
    assert fleet["flexible_window_minutes"].default == flexible["Default"]
    assert fleet["schedule_expression"].default == parameters["ScheduleExpression"]["Default"]


def test_every_parameter_is_in_exactly_one_group() -> None:
    template = load("template.yaml")
    groups = template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    grouped = [p for group in groups for p in group["Parameters"]]
    assert sorted(grouped) == sorted(template["Parameters"])


def test_default_mode_only_proposes() -> None:
    """A first deployment changes nothing on its own."""
    template = load("template.yaml")
    assert template["Parameters"]["HealMode"]["Default"] == "propose"
    assert template["Parameters"]["HealMode"]["AllowedValues"] == ["propose", "heal", "dry-run"]


# ------------------------------------------------------------------------------ schedules
def test_the_only_schedule_in_the_template_runs_the_reconciler(translated: dict[str, Any]) -> None:
    """The stacks' schedules are the reconciler's to write; the template has one schedule, the
    reconciler's own, outside the group the reconciler owns (it would delete it there)."""
    schedules = resources_of(translated, "AWS::Scheduler::Schedule")
    [schedule] = schedules.values()
    props = schedule["Properties"]
    assert props["ScheduleExpression"] == {"Ref": "ReconcileSchedule"}
    assert "GroupName" not in props  # the default group
    assert "Name" not in props  # generated: two deployments in one account do not collide
    target = props["Target"]
    assert target["Arn"] == {"Fn::GetAtt": ["ReconcilerFunction", "Arn"]}
    assert target["RoleArn"] == {"Fn::GetAtt": ["ReconcileScheduleRole", "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["ScheduleDeadLetters", "Arn"]}}
    assert target["Input"] == "{}"  # the reconciler's event: reconcile and write
    # the role invokes the reconciler and nothing else
    role = translated["Resources"]["ReconcileScheduleRole"]["Properties"]
    statements = role["Policies"][0]["PolicyDocument"]["Statement"]
    invoke = [s for s in statements if s["Action"] == "lambda:InvokeFunction"]
    assert [s["Resource"] for s in invoke] == [{"Fn::GetAtt": ["ReconcilerFunction", "Arn"]}]
    trust = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust[0]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    }


def test_the_schedules_role_invokes_the_healers_alias_only(translated: dict[str, Any]) -> None:
    [alias_id] = resources_of(translated, "AWS::Lambda::Alias")
    role = translated["Resources"]["SchedulerRole"]["Properties"]
    statements = role["Policies"][0]["PolicyDocument"]["Statement"]
    invoke = [s for s in statements if s["Action"] == "lambda:InvokeFunction"]
    assert [s["Resource"] for s in invoke] == [{"Ref": alias_id}]
    group = translated["Resources"]["Schedules"]["Properties"]
    assert group["Name"] == {"Fn::Sub": "${AWS::StackName}-schedules"}


# ------------------------------------------------------------------------------ IAM
def _branches(node: Any) -> list[Any]:
    """A policy, or both branches of an Fn::If around it."""
    if isinstance(node, dict) and "Fn::If" in node:
        return [b for branch in node["Fn::If"][1:] for b in _branches(branch)]
    return [node] if isinstance(node, dict) else []


def _statements(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        policies = [p for node in props.get("Policies", []) for p in _branches(node)]
        documents = [p["PolicyDocument"] for p in policies if "PolicyDocument" in p]
        if "PolicyDocument" in props:
            documents.append(props["PolicyDocument"])
        for document in documents:
            for statement in document.get("Statement", []):
                out.append((logical_id, statement))
    return out


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _allowed(template: dict[str, Any]) -> list[tuple[str, list[str], Any, dict[str, Any]]]:
    out = []
    for logical_id, statement in _statements(template):
        if statement.get("Effect") != "Allow" or "Principal" in statement:
            continue
        out.append((logical_id, _listed(statement["Action"]), statement["Resource"], statement))
    return out


@pytest.mark.parametrize("which", ["translated", "member"])
def test_no_write_action_on_star(translated: dict[str, Any], which: str) -> None:
    template = translated if which == "translated" else load("member-account.yaml")
    for logical_id, actions, resource, _ in _allowed(template):
        if resource != "*" and resource != ["*"]:
            continue
        writes = [
            a for a in actions if a not in TELEMETRY and not a.split(":")[1].startswith(READ_ONLY)
        ]
        assert writes == [], f"{logical_id} allows {writes} on *"


def test_the_reconciler_may_touch_its_groups_schedules_and_nothing_else(
    translated: dict[str, Any],
) -> None:
    """Discover by tag, write the group's schedules, pass the schedules' role to Scheduler only,
    assume the member role as the healer does; no CloudFormation, no reading of resources."""
    allowed = [
        (a, r, s) for lid, a, r, s in _allowed(translated) if lid == "ReconcilerFunctionRole"
    ]
    by_action: dict[str, list[tuple[Any, dict[str, Any]]]] = {}
    for actions, resource, statement in allowed:
        for action in actions:
            by_action.setdefault(action, []).append((resource, statement))
    assert set(by_action) == {
        "tag:GetResources",
        "scheduler:ListSchedules",
        "scheduler:GetSchedule",
        "scheduler:CreateSchedule",
        "scheduler:UpdateSchedule",
        "scheduler:DeleteSchedule",
        "iam:PassRole",
        "sts:AssumeRole",
        "sqs:SendMessage",  # SAM's, for the function's DeadLetterQueue
    }
    # only these two support nothing narrower than "*"
    for action in ("tag:GetResources", "scheduler:ListSchedules"):
        assert by_action[action] == [("*", by_action[action][0][1])]
    for action in ("Get", "Create", "Update", "Delete"):
        [(resource, _)] = by_action[f"scheduler:{action}Schedule"]
        assert resource == {"Fn::Sub": GROUP_SCHEDULES}
    [(resource, pass_role)] = by_action["iam:PassRole"]
    assert resource == {"Fn::GetAtt": ["SchedulerRole", "Arn"]}
    assert pass_role["Condition"] == {
        "StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}
    }
    [(_, assume)] = by_action["sts:AssumeRole"]
    healers = [s for lid, a, _, s in _allowed(translated) if lid == "HealerFunctionRole"]
    assert assume in [s for s in healers if s.get("Sid") == "AssumeMemberRole"]
    role = translated["Resources"]["ReconcilerFunctionRole"]["Properties"]
    assert role["Path"] == "/drift-healer/"  # what member roles trust
    assert all("ReadOnlyAccess" not in json.dumps(arn) for arn in role["ManagedPolicyArns"])


def test_change_set_writes_are_limited_to_the_healers_own_change_sets(
    translated: dict[str, Any],
) -> None:
    statements = [
        s
        for _, actions, _, s in _allowed(translated)
        if {"cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet"} & set(actions)
    ]
    assert statements
    # the name (CreateChangeSet) or the change set's ARN (Describe/Execute/DeleteChangeSet by ARN)
    own_arn = "arn:${AWS::Partition}:cloudformation:*:${AWS::AccountId}:changeSet/drift-heal-*/*"
    for statement in statements:
        assert statement["Condition"] == {
            "StringLike": {"cloudformation:ChangeSetName": ["drift-heal-*", {"Fn::Sub": own_arn}]}
        }


def _denied(statements: list[dict[str, Any]], action: str, tag: str | None) -> bool:
    """Whether a Deny among the statements applies to a stack carrying the tag value (IAM:
    StringNotEquals with several values holds when the value equals none of them, and when the
    key is absent)."""
    for statement in statements:
        if statement.get("Effect") != "Deny" or action not in _listed(statement["Action"]):
            continue
        condition = statement.get("Condition")
        if condition is None:
            return True
        [(operator, keys)] = condition.items()
        [(key, values)] = keys.items()
        assert (operator, key) == ("StringNotEquals", "aws:ResourceTag/drift-healer")
        if tag is None or tag not in _listed(values):
            return True
    return False


@pytest.mark.parametrize("which", TEMPLATES)
def test_iam_lets_the_tag_say_how_far_a_heal_may_go(translated: dict[str, Any], which: str) -> None:
    """Change sets only on stacks tagged enabled, propose or heal; executed only on stacks tagged
    enabled or heal: a stack tagged propose or dry-run is never changed, whatever the event."""
    if which == "template.yaml":
        denies = [
            s
            for lid, s in _statements(translated)
            if lid == "HealerFunctionRole" and "aws:ResourceTag/drift-healer" in json.dumps(s)
        ]
    else:
        denies = [s for _, s in _statements(load(which))]
    create = {t for t in TAG_VALUES if not _denied(denies, "cloudformation:CreateChangeSet", t)}
    execute = {t for t in TAG_VALUES if not _denied(denies, "cloudformation:ExecuteChangeSet", t)}
    assert create == {"enabled", "propose", "heal"}
    assert execute == {"enabled", "heal"}


def test_iam_enforces_the_heal_mode_ceiling(translated: dict[str, Any]) -> None:
    """Below HealMode=heal the healer cannot execute a change set in this account; in dry-run it
    cannot create one either."""
    conditions = load("template.yaml")["Conditions"]
    assert conditions["NeverExecutes"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "HealMode"}, "heal"]}]
    }
    assert conditions["NeverCreatesChangeSets"] == {"Fn::Equals": [{"Ref": "HealMode"}, "dry-run"]}
    policies = translated["Resources"]["HealerFunctionRole"]["Properties"]["Policies"]
    [ceiling] = [p for p in policies if "CeilingBelowHeal" in json.dumps(p)]
    assert ceiling["Fn::If"][0] == "NeverExecutes"
    [statement] = ceiling["Fn::If"][1]["PolicyDocument"]["Statement"]
    assert (statement["Effect"], statement["Resource"]) == ("Deny", "*")
    assert statement["Action"] == {
        "Fn::If": [
            "NeverCreatesChangeSets",
            ["cloudformation:ExecuteChangeSet", "cloudformation:CreateChangeSet"],
            ["cloudformation:ExecuteChangeSet"],
        ]
    }


def test_publish_only_to_the_topic_and_assume_only_the_member_role(
    translated: dict[str, Any],
) -> None:
    assumers = set()
    for logical_id, actions, resource, _ in _allowed(translated):
        if "sns:Publish" in actions:
            assert resource == {"Ref": "Notifications"}
        if "sts:AssumeRole" in actions:
            assert "role/drift-healer/${MemberRoleName}" in json.dumps(resource)
            assumers.add(logical_id)
    assert assumers == {"HealerFunctionRole", "ReconcilerFunctionRole"}


def test_member_role_trusts_both_functions_and_lets_the_reconciler_discover() -> None:
    member = load("member-account.yaml")
    role = member["Resources"]["MemberRole"]["Properties"]
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    principal = trust["Condition"]["ArnLike"]["aws:PrincipalArn"]["Fn::Sub"]
    session = trust["Condition"]["StringLike"]["sts:RoleSessionName"]

    def like(pattern: str, value: str) -> bool:
        return re.fullmatch(re.escape(pattern).replace(r"\*", ".*"), value) is not None

    account = "210987654321"
    principal = principal.replace("${AWS::Partition}", "aws").replace("${HealerAccountId}", account)
    for function_role in ("HealerFunctionRole", "ReconcilerFunctionRole"):
        arn = f"arn:aws:iam::{account}:role/drift-healer/drift-healer-{function_role}-1A2B3C"
        assert like(principal, arn), function_role
    assert like(session, "drift-healer-reconciler")
    statements = role["Policies"][0]["PolicyDocument"]["Statement"]
    [discover] = [s for s in statements if s.get("Action") == "tag:GetResources"]
    assert discover["Resource"] == "*"


def test_topic_encrypted_and_failures_alarm_to_it(translated: dict[str, Any]) -> None:
    topic = translated["Resources"]["Notifications"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Ref": "NotificationKey"}
    key = translated["Resources"]["NotificationKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    alarm = translated["Resources"]["FailedHealsAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("DriftHealer", "HealFailed")
    assert alarm["AlarmActions"] == [{"Ref": "Notifications"}]
    # the reconciler's metric, as telemetry emits it (namespace, service dimension, name)
    fleet = translated["Resources"]["FleetIncompleteAlarm"]["Properties"]
    assert (fleet["Namespace"], fleet["MetricName"]) == (telemetry.NAMESPACE, "ReconcileErrors")
    assert fleet["Dimensions"] == [{"Name": "service", "Value": telemetry.FLEET_SERVICE}]
    assert fleet["AlarmActions"] == [{"Ref": "Notifications"}]
    errors = {
        json.dumps(a["Properties"]["Dimensions"])
        for a in resources_of(translated, "AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == "Errors"
    }
    assert errors == {
        json.dumps([{"Name": "FunctionName", "Value": {"Ref": f}}])
        for f in ("HealerFunction", "ReconcilerFunction")
    }


def test_approver_policy_sends_callbacks_to_this_function_only(translated: dict[str, Any]) -> None:
    policy = translated["Resources"]["ApproverPolicy"]["Properties"]["PolicyDocument"]
    [statement] = policy["Statement"]
    assert all(a.startswith("lambda:SendDurableExecutionCallback") for a in statement["Action"])
    assert "HealerFunction" in json.dumps(statement["Resource"])
    assert "*" not in statement["Resource"]


def test_the_review_page_is_off_by_default_and_public_only_through_its_url(
    translated: dict[str, Any],
) -> None:
    """ReviewLinks=enabled adds the review function behind a public Function URL, its secret and
    its logs; by default none of it exists and the healer gets no link to sign."""
    template = load("template.yaml")
    assert template["Parameters"]["ReviewLinks"]["Default"] == "disabled"
    review = {"ReviewFunction", "ReviewSecret", "ReviewLogs", "ReviewFunctionInvokeViaUrl"}
    for logical_id in review:
        assert template["Resources"][logical_id]["Condition"] == "HasReviewLinks", logical_id
    props = _function(translated, "ReviewFunction")
    assert props["Handler"] == "drift_healer.review.lambda_handler"
    assert "/drift-healer/" not in json.dumps(  # member accounts trust roles there
        translated["Resources"]["ReviewFunctionRole"]["Properties"]["Path"]
    )
    assert props["Environment"]["Variables"]["REVIEW_SECRET_ARN"] == {"Ref": "ReviewSecret"}
    [url] = resources_of(translated, "AWS::Lambda::Url").values()
    assert url["Properties"]["AuthType"] == "NONE" and url["Condition"] == "HasReviewLinks"
    grants = {
        p["Properties"]["Action"]: p["Properties"]
        for p in resources_of(translated, "AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == {"Ref": "ReviewFunction"}
    }
    assert grants["lambda:InvokeFunction"]["InvokedViaFunctionUrl"] is True
    assert grants["lambda:InvokeFunctionUrl"]["FunctionUrlAuthType"] == "NONE"
    variables = _function(translated, "HealerFunction")["Environment"]["Variables"]
    assert variables["REVIEW_URL"] == {
        "Fn::If": ["HasReviewLinks", {"Fn::GetAtt": ["ReviewFunctionUrl", "FunctionUrl"]}, ""]
    }
    secret = template["Resources"]["ReviewSecret"]["Properties"]
    assert secret["GenerateSecretString"]["PasswordLength"] >= 32  # policy.links.MIN_SECRET


def test_the_review_page_reads_its_key_and_answers_the_healers_approvals_only(
    translated: dict[str, Any],
) -> None:
    statements = [s for logical_id, s in _statements(translated) if logical_id.startswith("Review")]
    actions = {a for s in statements for a in _listed(s["Action"])}
    assert actions == {
        "secretsmanager:GetSecretValue",
        "kms:Decrypt",
        "lambda:GetDurableExecutionHistory",
        "lambda:SendDurableExecutionCallbackSuccess",
        "lambda:SendDurableExecutionCallbackFailure",
    }
    for statement in statements:
        assert statement["Effect"] == "Allow" and statement["Resource"] != "*"
    [lambdas] = [s for s in statements if "lambda:" in json.dumps(s["Action"])]
    assert lambdas["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:"
        "${AWS::StackName}:*"
    }
    healer = [s for logical_id, s in _statements(translated) if logical_id == "HealerFunctionRole"]
    [signing] = [s for s in healer if s.get("Sid") == "SignReviewLinks"]
    assert signing["Resource"] == {"Ref": "ReviewSecret"}


# ------------------------------------------------------------------------------ tear-down
def test_sam_delete_keeps_the_logs_and_the_key_that_encrypts_them(
    translated: dict[str, Any],
) -> None:
    """The record of every heal outlives the stack, readable: the log groups and their key are
    retained (on deletion and on replacement); everything else goes with the stack."""
    kept = {
        logical_id
        for logical_id, resource in translated["Resources"].items()
        if resource.get("DeletionPolicy") == "Retain"
        # SAM retains the versions it publishes; they go with their function all the same
        and resource["Type"] != "AWS::Lambda::Version"
    }
    assert kept == {
        "HealerLogs",
        "ReconcilerLogs",
        "ReviewLogs",
        "NotificationKey",
        "ChangeRecords",
    }
    for logical_id in kept:
        assert translated["Resources"][logical_id]["UpdateReplacePolicy"] == "Retain"
    for logs in ("HealerLogs", "ReconcilerLogs", "ReviewLogs"):
        properties = translated["Resources"][logs]["Properties"]
        assert properties["KmsKeyId"] == {"Fn::GetAtt": ["NotificationKey", "Arn"]}


# ------------------------------------------------------------------------------ checkov
def _checkov() -> str:
    found = os.environ.get("CHECKOV") or str(ROOT / ".venv-scan" / "bin" / "checkov")
    if not Path(found).exists():
        pytest.fail("checkov is not installed: run the tests with `make test` (it installs it)")
    return found


def test_security_scan_finds_nothing(translated: dict[str, Any], tmp_path: Path) -> None:
    """checkov on the source templates and on what CloudFormation will really deploy; every
    suppression is justified next to the resource in the template."""
    deployed = tmp_path / "translated.json"
    deployed.write_text(json.dumps(translated))
    files = [str(ROOT / "template.yaml"), str(ROOT / "member-account.yaml"), str(deployed)]
    report = subprocess.run(
        [
            _checkov(),
            "--skip-download",
            "--framework",
            "cloudformation",
            "--output",
            "json",
            "--quiet",
            *(a for f in files for a in ("-f", f)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
    )
    parsed = json.loads(report.stdout)
    reports = parsed if isinstance(parsed, list) else [parsed]
    failed = [
        f"{c['check_id']} {c['resource']} ({c.get('file_path')})"
        for r in reports
        for c in r.get("results", {}).get("failed_checks", [])
    ]
    assert failed == []
    skipped = [c for r in reports for c in r.get("results", {}).get("skipped_checks", [])]
    assert all(c.get("suppress_comment") for c in skipped)


# ------------------------------------------------------------------------------ operations
def _make_n(*arguments: str) -> str:
    return subprocess.run(
        ["make", "-n", *arguments], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout


def test_functions_are_named_after_their_stack_as_the_makefile_assumes() -> None:
    """`make invoke`/`reconcile`/`executions`/`history` address the functions by the samconfig
    stack name, with payloads that AWS CLI v1 and v2 both read as they are (fileb://)."""
    functions = load("template.yaml")["Resources"]
    assert functions["HealerFunction"]["Properties"]["FunctionName"] == {"Ref": "AWS::StackName"}
    reconciler = functions["ReconcilerFunction"]["Properties"]["FunctionName"]
    assert reconciler == {"Fn::Sub": "${AWS::StackName}-reconciler"}
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    for env in ("default", "prod"):
        stack_name = config[env]["global"]["parameters"]["stack_name"]
        invoke = _make_n("invoke", "STACK=app", f"ENV={env}")
        assert f"--function-name {stack_name}:live" in invoke, (env, invoke)
        reconcile = _make_n("reconcile", f"ENV={env}")
        assert f"--function-name {stack_name}-reconciler" in reconcile, (env, reconcile)
        for made in (invoke, reconcile):
            assert "--payload fileb://" in made and "--cli-binary-format" not in made, made
    assert "printf '%s' '{}'" in _make_n("reconcile")
    assert """printf '%s' '{"DryRun": true}'""" in _make_n("reconcile", "DRY_RUN=1")


def _overrides(text: str) -> dict[str, str]:
    return {k: v for k, _, v in (item.partition("=") for item in shlex.split(text))}


def test_samconfig_deploys_no_stack_list_and_no_example_values() -> None:
    """`make deploy-prod` deploys what samconfig.toml says: nothing invented (an example address
    would receive the notifications), nothing the template no longer has."""
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    parameters = load("template.yaml")["Parameters"]
    for env in ("default", "prod"):
        deploy = config[env]["deploy"]["parameters"]
        overrides = _overrides(deploy.get("parameter_overrides", ""))
        assert set(overrides) <= set(parameters), env
        assert overrides.get("HealMode", "propose") == "propose", env  # the first run proposes
        assert not any("example" in value for value in overrides.values()), (env, overrides)
        assert "tags" not in deploy or "example" not in deploy["tags"], env
        # the build cache does not see requirements/lambda.txt
        assert config[env]["build"]["parameters"].get("cached") is not True, env


def test_iam_change_set_condition_matches_the_default_prefix() -> None:
    prefix = Settings().change_set_prefix
    for name in TEMPLATES:
        values = _change_set_name_conditions(load(name)["Resources"])
        names = [v for v in values if isinstance(v, str)]
        arns = [v["Fn::Sub"] for v in values if isinstance(v, dict)]
        assert names and arns, name
        assert all(v == f"{prefix}-*" for v in names), (name, names)
        assert all(v.endswith(f":changeSet/{prefix}-*/*") for v in arns), (name, arns)


def _change_set_name_conditions(node: Any) -> list[Any]:
    """Every value of a cloudformation:ChangeSetName condition anywhere in a template."""
    if isinstance(node, dict):
        found = []
        for key, value in node.items():
            if key == "cloudformation:ChangeSetName":
                found += value if isinstance(value, list) else [value]
            else:
                found += _change_set_name_conditions(value)
        return found
    if isinstance(node, list):
        return [v for item in node for v in _change_set_name_conditions(item)]
    return []


def test_the_health_gates_may_read_alarms_without_a_change_policy(
    translated: dict[str, Any],
) -> None:
    """A stack's tag drift-healer:alarms gates its heal with or without a change policy: the
    healer may read alarms whatever ChangePolicyParameter says (not under its condition)."""
    policies = translated["Resources"]["HealerFunctionRole"]["Properties"]["Policies"]
    always = [p["PolicyDocument"] for p in policies if "PolicyDocument" in p]  # no Fn::If
    allowed = {
        action
        for document in always
        for statement in document["Statement"]
        if statement["Effect"] == "Allow"
        for action in _listed(statement["Action"])
    }
    assert "cloudwatch:DescribeAlarms" in allowed
