"""``drift-healer demo``, run as a user runs it: a first deployment's story in the sandbox. It says
what is simulated, shows commands that are real, proposes first, heals once the team switches to
HealMode=heal, prints the result as the README documents it, and shows an approval round on the
review page."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

CLI = Path(sys.executable).with_name("drift-healer")


def test_the_demo_tells_a_first_deployments_story() -> None:
    """One run (a few seconds), every part of the story checked below."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    done = subprocess.run(
        [str(CLI), "demo"], capture_output=True, text=True, timeout=60, env=env, check=False
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    it_says_what_is_simulated_first(out)
    the_out_of_band_changes_are_real_aws_cli_commands(out)
    a_first_deployment_proposes_then_heals_once_heal_mode_is_heal(out)
    timelines_have_column_headers(out)
    the_result_is_the_full_json_of_the_readme(out)
    a_person_approves_on_the_review_page(out)
    a_heal_ready_in_the_afternoon_waits_for_the_change_window(out)
    nothing_else_reaches_the_screen(out)


def section(out: str, number: int) -> str:
    """The text of section ``number`` (from its ``== N.`` title to the next title)."""
    start = out.index(f"\n== {number}. ")
    end = out.find("\n== ", start + 1)
    return out[start : end if end != -1 else len(out)]


def it_says_what_is_simulated_first(demo: str) -> None:
    intro = demo[: demo.index("\n== 1. ")]
    assert "emulated AWS account runs inside this process" in intro
    assert "no AWS credentials are used" in intro
    assert "virtual clock" in intro and "pass in no time" in intro


def the_out_of_band_changes_are_real_aws_cli_commands(demo: str) -> None:
    commands = [line.strip()[2:] for line in section(demo, 2).splitlines() if "$ " in line]
    assert len(commands) == 3
    ssm, sqs, sns = (command.split("   #")[0] for command in commands)
    assert ssm == (
        "aws ssm put-parameter --name /checkout/demo/new-payment-flow --value on --type String "
        "--overwrite"
    )
    assert re.fullmatch(
        r"aws sqs set-queue-attributes --queue-url https://sqs\.us-east-1\.amazonaws\.com/"
        r"123456789012/checkout-Orders-\w+ --attributes VisibilityTimeout=5",
        sqs,
    )
    assert re.fullmatch(
        r"aws sns set-topic-attributes --topic-arn arn:aws:sns:us-east-1:123456789012:"
        r"checkout-Alerts-\w+ --attribute-name DisplayName --attribute-value tmp",
        sns,
    )
    assert "= on" not in section(demo, 2)  # not the pseudo-command of old


def a_first_deployment_proposes_then_heals_once_heal_mode_is_heal(demo: str) -> None:
    enrolment = section(demo, 3)
    assert "HealMode=propose" in enrolment
    assert "--tags Key=drift-healer,Value=enabled" in enrolment
    assert "reconciler (HealMode=propose): 1 enrolled stack; 1 schedule created" in enrolment
    assert '"CreateChangeSetOnly": true' in enrolment  # the schedule's event proposes

    proposal = section(demo, 4)
    assert "outcome CHANGE_SET_CREATED" in proposal
    assert "execute change set" not in proposal  # nothing was executed
    email = section(demo, 5)
    assert "Subject: [drift-healer] checkout: change set ready for review" in email
    assert "Review:     https://us-east-1.console.aws.amazon.com/cloudformation/" in email
    assert 'expected "off", actual "on"' in email

    switch = section(demo, 6)
    [change_set] = re.findall(r"Change set: (drift-heal-[0-9a-f]+)", email)
    assert (
        f"$ aws cloudformation delete-change-set --stack-name checkout --change-set-name "
        f"{change_set}" in switch
    )
    assert (
        "reconciler (HealMode=heal): 1 enrolled stack; 1 schedule created, 1 schedule deleted"
        in (switch)
    )
    [event] = re.findall(r"its event: (\{.*\})", switch)
    assert "CreateChangeSetOnly" not in json.loads(event)  # the schedule now heals

    healing = section(demo, 7)
    assert "execute change set: wait" in healing and "verify: wait" in healing
    assert "outcome HEALED: 3 resources reverted; verified in sync" in healing
    assert "notification: [drift-healer] checkout: drift healed" in healing
    assert "healed and verified." in section(demo, 9)


def timelines_have_column_headers(demo: str) -> None:
    for number in (4, 7):
        lines = section(demo, number).splitlines()
        header = [line.split() for line in lines].index(["start", "phase", "took", "polls"])
        assert lines[header + 1].split()[:3] == ["t+", "0.0s", "pre-flight"]
        assert lines[header + 1].index("pre-flight") == lines[header].index("phase")


def the_result_is_the_full_json_of_the_readme(demo: str) -> None:
    text = section(demo, 8)
    result: dict[str, Any] = json.loads(text[text.index("{") : text.rindex("}") + 1])
    assert result["Outcome"] == "HEALED"
    assert {"StackName", "StackId", "Reason", "DriftedResourceCount", "ChangeSet"} <= result.keys()
    assert result["DriftedResourceCount"] == 3
    flag = result["DriftedResources"][0]
    assert flag["PropertyDifferences"] == [
        {
            "PropertyPath": "/Value",
            "ExpectedValue": "off",
            "ActualValue": "on",
            "DifferenceType": "NOT_EQUAL",
        }
    ]
    assert {"Id", "Name", "Url", "Risk", "RiskReasons"} <= result["ChangeSet"].keys()
    assert result["Verification"] == {"StackDriftStatus": "IN_SYNC"}


def a_person_approves_on_the_review_page(demo: str) -> None:
    assert "ApprovalFor=all ReviewLinks=enabled" in section(demo, 10)
    request = section(demo, 11)
    assert "Subject: [drift-healer] checkout: approval needed" in request
    assert "in your browser" in request and "/?t=v1." in request
    page = section(demo, 12)
    assert re.search(r"GET http://127\.0\.0\.1:\d+/\?t=v1\.\S+ -> 200", page)
    assert "| Approve the heal of checkout?" in page
    assert "| FeatureFlag (AWS::SSM::Parameter, MODIFIED) /Value off on" in page
    assert re.search(r"POST http://127\.0\.0\.1:\d+/ -> 200: Approved: checkout", page)
    assert "the same link again -> 409: This approval was already answered" in page
    healed = section(demo, 13)
    assert "approval" in healed and "execute change set: wait" in healed
    assert "outcome HEALED: 1 resource reverted; verified in sync" in healed
    assert '"Approver": "ana@example.com (review link)", "Ticket": "CHG-1234"' in healed


def a_heal_ready_in_the_afternoon_waits_for_the_change_window(demo: str) -> None:
    window = section(demo, 14)
    assert "ChangePolicyParameter=/drift-healer/change-policy" in window
    assert re.search(r"the schedule fires at \w+ 14:00 Berlin", window)
    assert re.search(r"change window 1 +2878\d\.\ds", window)  # 14:00 to 22:00, less the steps
    notes = [line for line in window.splitlines() if "notification:" in line]
    assert [n.split(": ", 1)[1] for n in notes][-1] == "[drift-healer] checkout: drift healed"
    assert "heal deferred until" in notes[0]
    assert "outcome HEALED: 1 resource reverted; verified in sync" in window
    assert '"Window": "weeknights"' in window


def nothing_else_reaches_the_screen(demo: str) -> None:
    assert '"_aws"' not in demo  # the CloudWatch metrics (EMF) line
    assert '"level":' not in demo  # the structured log lines
    assert "inv-12345678" not in demo
    assert not re.search(r"\]\s+local\b", demo)  # the unexplained "[ 2s] local" step
    assert "HTTP/1.1" not in demo  # a server's access log
