"""Every sample payload in events/ is a valid event, each as its name says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drift_healer.models import HealMode, HealRequest
from drift_healer.policy import fleet
from tests.support import ROOT, load

EVENTS = sorted((ROOT / "events").glob("*.json"))


def test_there_is_a_payload_per_mode() -> None:
    assert {p.stem for p in EVENTS} >= {
        "heal",
        "create-change-set-only",
        "dry-run",
        "require-approval",
        "other-account",
        "schedule",
    }


@pytest.mark.parametrize("path", EVENTS, ids=lambda p: p.stem)
def test_payload_is_a_valid_event(path: Path) -> None:
    request = HealRequest.model_validate(json.loads(path.read_text()))
    assert request.stack_name


def test_payloads_say_what_their_name_says() -> None:
    def load(name: str) -> HealRequest:
        return HealRequest.model_validate(json.loads((ROOT / "events" / name).read_text()))

    assert load("heal.json").mode == "heal"
    assert load("dry-run.json").mode == "dry-run"
    assert load("create-change-set-only.json").mode == "create-change-set-only"
    assert load("require-approval.json").mode == "require-approval"
    other = load("other-account.json")
    assert other.role_arn and other.region


def test_schedule_payload_is_what_a_schedule_sends_for_a_stack_that_proposes() -> None:
    """The reconciler writes each schedule's event; events/schedule.json is the one of a stack
    tagged enabled under the default HealMode (propose), in the healer's own account."""
    schedule = json.loads((ROOT / "events" / "schedule.json").read_text())
    defaults = fleet.Defaults(
        heal_mode=HealMode(load("template.yaml")["Parameters"]["HealMode"]["Default"]),
        expression="cron(0 2 * * ? *)",
        timezone="UTC",
        spread_minutes=180,
        flexible_minutes=15,
        target_arn="arn:aws:lambda:eu-west-1:123456789012:function:drift-healer:live",
        scheduler_role_arn="arn:aws:iam::123456789012:role/drift-healer/scheduler",
        dead_letter_arn="arn:aws:sqs:eu-west-1:123456789012:dead-letters",
    )
    stack = fleet.Enrolled(arn=schedule["StackName"], tags={"drift-healer": "enabled"})
    assert fleet.schedule(stack, defaults).event == schedule


@pytest.mark.parametrize(
    ("mode", "sample"),
    [("heal", "heal"), ("propose", "create-change-set-only"), ("dry-run", "dry-run")],
)
def test_make_invoke_sends_the_sample_payloads(mode: str, sample: str) -> None:
    makefile = (ROOT / "Makefile").read_text()
    line = next(li for li in makefile.splitlines() if li.startswith(f"PAYLOAD_{mode} "))
    payload = json.loads(line.split("=", 1)[1].strip().replace("$(STACK)", "my-app"))
    HealRequest.model_validate(payload)
    assert payload == json.loads((ROOT / "events" / f"{sample}.json").read_text())
