"""Proof that the SAM application is right before anyone deploys it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint_all

from tests.support import ROOT, SAMPLE_STACKS, load, resources_of

TEMPLATES = ["template.yaml", "member-account.yaml"]
# X-Ray supports no resource-level permissions; SAM adds these for Tracing: Active.
TELEMETRY = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
READ_ONLY = ("Describe", "List", "Get")


@pytest.mark.parametrize("name", TEMPLATES)
def test_cfn_lint_passes(name: str) -> None:
    matches = lint_all((ROOT / name).read_text())
    # errors and warnings, as the cfn-lint command reports by default (not informational rules)
    assert [str(m) for m in matches if m.rule.id[0] in "EW"] == []


def test_one_schedule_per_stack_targeting_the_alias(translated: dict[str, Any]) -> None:
    schedules = resources_of(translated, "AWS::Scheduler::Schedule")
    assert sorted(schedules) == ["Schedulecheckout", "Scheduleidentityv2", "Schedulepayments"]
    aliases = resources_of(translated, "AWS::Lambda::Alias")
    [alias_id] = aliases
    assert aliases[alias_id]["Properties"]["Name"] == "live"
    for logical_id, schedule in schedules.items():
        props = schedule["Properties"]
        target = props["Target"]
        assert target["Arn"] == {"Ref": alias_id}, logical_id
        assert props["FlexibleTimeWindow"]["Mode"] == "FLEXIBLE"
        assert props["ScheduleExpressionTimezone"] == {"Ref": "ScheduleTimezone"}
        assert props["GroupName"] == {"Ref": "Schedules"}
        assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
        assert "DeadLetterConfig" in target
    inputs = json.dumps([s["Properties"]["Target"]["Input"] for s in schedules.values()])
    for stack in SAMPLE_STACKS:
        assert f'{{\\"StackName\\": \\"{stack}\\", \\"CreateChangeSetOnly\\": true}}' in inputs


def test_default_mode_only_proposes(translated: dict[str, Any]) -> None:
    """A first deployment changes nothing on its own."""
    assert load("template.yaml")["Parameters"]["HealMode"]["Default"] == "propose"
    schedule = resources_of(translated, "AWS::Scheduler::Schedule")["Schedulecheckout"]
    # Input: If ModeHeal -> heal; If ModeDryRun -> dry run; else (propose) -> CreateChangeSetOnly
    heal_if = schedule["Properties"]["Target"]["Input"]["Fn::If"]
    assert heal_if[0] == "ModeHeal"
    assert "CreateChangeSetOnly" in json.dumps(heal_if[2]["Fn::If"][2])


def test_durable_function_is_configured(translated: dict[str, Any]) -> None:
    [function] = resources_of(translated, "AWS::Lambda::Function").values()
    props = function["Properties"]
    assert props["Runtime"] == "python3.13"
    assert props["Handler"] == "drift_healer.handler.lambda_handler"
    assert props["DurableConfig"] == {
        "ExecutionTimeout": {"Ref": "ExecutionTimeoutSeconds"},
        "RetentionPeriodInDays": {"Ref": "RetentionPeriodInDays"},
    }
    assert props["TracingConfig"] == {"Mode": "Active"}
    template = load("template.yaml")
    assert template["Parameters"]["ExecutionTimeoutSeconds"]["Default"] >= 7 * 24 * 3600
    logs = resources_of(translated, "AWS::Logs::LogGroup")
    assert all("RetentionInDays" in lg["Properties"] for lg in logs.values())


def test_durable_execution_policy_is_attached(translated: dict[str, Any]) -> None:
    [role] = [
        r
        for k, r in resources_of(translated, "AWS::IAM::Role").items()
        if k == "HealerFunctionRole"
    ]
    arns = json.dumps(role["Properties"]["ManagedPolicyArns"])
    assert "service-role/AWSLambdaBasicDurableExecutionRolePolicy" in arns
    assert role["Properties"]["Path"] == "/drift-healer/"


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


def _allowed(template: dict[str, Any]) -> list[tuple[str, list[str], Any, dict[str, Any]]]:
    out = []
    for logical_id, statement in _statements(template):
        if statement.get("Effect") != "Allow" or "Principal" in statement:
            continue
        actions = statement["Action"]
        actions = actions if isinstance(actions, list) else [actions]
        out.append((logical_id, actions, statement["Resource"], statement))
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
    denies = [s for _, s in _statements(translated) if s.get("Effect") == "Deny"]
    assert any(
        s["Condition"] == {"StringNotEquals": {"aws:ResourceTag/drift-healer": "enabled"}}
        for s in denies
    )


def test_publish_only_to_the_topic_and_assume_only_the_member_role(
    translated: dict[str, Any],
) -> None:
    for _, actions, resource, _ in _allowed(translated):
        if "sns:Publish" in actions:
            assert resource == {"Ref": "Notifications"}
        if "sts:AssumeRole" in actions:
            assert "role/drift-healer/${MemberRoleName}" in json.dumps(resource)


def test_topic_encrypted_and_failures_alarm_to_it(translated: dict[str, Any]) -> None:
    topic = translated["Resources"]["Notifications"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Ref": "NotificationKey"}
    key = translated["Resources"]["NotificationKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    alarm = translated["Resources"]["FailedHealsAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("DriftHealer", "HealFailed")
    assert alarm["AlarmActions"] == [{"Ref": "Notifications"}]


def test_approver_policy_sends_callbacks_to_this_function_only(translated: dict[str, Any]) -> None:
    policy = translated["Resources"]["ApproverPolicy"]["Properties"]["PolicyDocument"]
    [statement] = policy["Statement"]
    assert all(a.startswith("lambda:SendDurableExecutionCallback") for a in statement["Action"])
    assert "HealerFunction" in json.dumps(statement["Resource"])
    assert "*" not in statement["Resource"]


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


def test_function_is_named_after_its_stack_as_the_makefile_assumes() -> None:
    """`make invoke`/`executions`/`history` address the function by the samconfig stack name."""
    import tomllib

    function = load("template.yaml")["Resources"]["HealerFunction"]["Properties"]
    assert function["FunctionName"] == {"Ref": "AWS::StackName"}
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    makefile = (ROOT / "Makefile").read_text()
    for env in ("default", "prod"):
        stack_name = config[env]["global"]["parameters"]["stack_name"]
        made = subprocess.run(
            ["make", "-n", "invoke", "STACK=app", f"ENV={env}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert f"--function-name {stack_name}:live" in made, (env, made)
    assert "FUNCTION ?=" in makefile


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


def test_iam_change_set_condition_matches_the_default_prefix() -> None:
    from drift_healer.settings import Settings

    prefix = Settings().change_set_prefix
    for name in TEMPLATES:
        values = _change_set_name_conditions(load(name)["Resources"])
        names = [v for v in values if isinstance(v, str)]
        arns = [v["Fn::Sub"] for v in values if isinstance(v, dict)]
        assert names and arns, name
        assert all(v == f"{prefix}-*" for v in names), (name, names)
        assert all(v.endswith(f":changeSet/{prefix}-*/*") for v in arns), (name, arns)
