"""Every sample payload in events/ is a valid event, each as its name says."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from drift_healer.errors import NotSupported
from drift_healer.models import HealMode, HealRequest, parse_request
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


@pytest.mark.parametrize(
    "path", [p for p in EVENTS if p.stem != "require-approval"], ids=lambda p: p.stem
)
def test_payload_is_accepted_by_this_version(path: Path) -> None:
    """What the handler checks first, before any AWS call (require-approval.json is the event of
    a feature in progress: valid, and refused or run as events/README.md says)."""
    assert parse_request(json.loads(path.read_text())).stack_name


def test_events_readme_explains_every_file() -> None:
    text = (ROOT / "events" / "README.md").read_text()
    explained = set(re.findall(r"^\| `([a-z-]+\.json)` \|", text, flags=re.MULTILINE))
    assert explained == {p.name for p in EVENTS}


def test_events_readme_says_whether_this_version_runs_require_approval() -> None:
    """The table's line for require-approval.json follows the code: it says NotSupported
    exactly as long as parse_request refuses the event with NotSupported."""
    event = json.loads((ROOT / "events" / "require-approval.json").read_text())
    try:
        parse_request(event)
        refused = False
    except NotSupported:
        refused = True
    text = (ROOT / "events" / "README.md").read_text()
    (line,) = [li for li in text.splitlines() if li.startswith("| `require-approval.json` |")]
    assert ("refuses it with `NotSupported`" in line) == refused, line


def test_the_readme_points_to_the_events() -> None:
    assert "(events/README.md)" in (ROOT / "README.md").read_text()


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
