"""A stack's timings kept from one heal to the next (HISTORY_BUCKET), end to end: a heal writes
when each of its waits saw CloudFormation done; the stack's next heal looks there first and asks
CloudFormation less; a document that cannot be read or used is ignored (the model's estimate, as
on a first night), and a heal that ends at detection keeps what the last one knew of the rest.
Night after night: a first look seen done at once is looked for a little earlier each night in
a row (PROBE, its Streak), and the verifying detection does not undo what the heal's own
detection taught; a first look that was only the model's guess is neither probed nor polled for
as the stack's own time; a failed detection teaches nothing."""

from __future__ import annotations

import json
import logging
import math
from datetime import UTC, datetime
from typing import Any

import pytest

from drift_healer.durable import backoff_of
from drift_healer.policy import polling, timings
from drift_healer.policy.timings import Look
from drift_healer.settings import Settings
from drift_sandbox import ACCOUNT_ID, Timing
from tests.support import Harness

#: The sandbox's stack (tests.support.TEMPLATE) declares this many resources.
RESOURCES = 5
KEY = f"timings/{ACCOUNT_ID}/us-east-1/app.json"
#: CloudFormation exactly as long as the healer models it for the stack: each wait's model first
#: look (half of it) is early, so a first heal polls a few times and learns when it was done.
AS_MODELLED = Timing(
    detection_base=polling.DETECTION.seconds(RESOURCES),
    detection_per_resource=0,
    change_set_creation=polling.CHANGE_SET.seconds(RESOURCES),
    execution_base=polling.EXECUTION.seconds(RESOURCES),
    execution_per_change=0,
)
WAITS = {
    "Detection": "detect drift: wait",
    "ChangeSet": "create change set: wait",
    "Execution": "execute change set: wait",
}


def kept(harness: Harness) -> dict[str, Any] | None:
    """The stack's timings document in the bucket "history", decoded (None: none written)."""
    s3 = harness.sandbox.client("s3")
    if "Contents" not in s3.list_objects_v2(Bucket="history", Prefix=KEY):
        return None
    document: dict[str, Any] = json.loads(s3.get_object(Bucket="history", Key=KEY)["Body"].read())
    return document


def keep(harness: Harness, text: str) -> None:
    """Put ``text`` where the stack's timings are kept, as if a last heal had written it."""
    harness.sandbox.client("s3").put_object(Bucket="history", Key=KEY, Body=text.encode())


def last_night(changes: str | None = None, **first_look: int) -> str:
    """A document of measured first looks (the execution's for ``changes``)."""
    return json.dumps(
        {
            "Version": 2,
            "Resources": RESOURCES,
            "Phases": {
                phase: {"FirstLook": look, "Measured": True, "Changes": changes}
                for phase, look in first_look.items()
            },
            "Written": "2026-11-21T02:00:00Z",
        }
    )


def first_looks(document: dict[str, Any]) -> dict[str, int]:
    return {phase: look["FirstLook"] for phase, look in document["Phases"].items()}


def expected(run: Any, wait: str) -> dict[str, Any]:
    """The wait's checkpointed expectation: when it first looked, and from what."""
    expectation: dict[str, Any] = run.local.phase(wait).state()["expected"]
    return expectation


def modelled(phase: str) -> dict[str, Any]:
    """The expectation of a wait that knows only the stack's size."""
    model = timings.MODELS[phase]  # type: ignore[index]
    return {"FirstLook": polling.first_look(model, RESOURCES), "Resources": RESOURCES}


@pytest.fixture
def history(harness: Harness) -> Harness:
    """The bucket "history", CloudFormation as modelled, and the drifted stack "app"."""
    harness.sandbox.client("s3").create_bucket(Bucket="history")
    harness.sandbox.engine.timing = AS_MODELLED
    harness.stack()
    harness.drift()
    return harness


def test_a_heal_keeps_when_each_wait_saw_cloudformation_done(history: Harness) -> None:
    """One document per stack, by account and region, with a first look for every phase the
    heal waited for and the stack's size it was learned on."""
    run = history.run({"StackName": "app"}, history_bucket="history")
    assert run.outcome == "HEALED"
    document = kept(history)
    assert document is not None
    assert document["Version"] == timings.VERSION and document["Resources"] == RESOURCES
    assert document["Phases"].keys() == WAITS.keys()
    # each learned from polls after the model's early first look: the stack's own time
    for phase, look in first_looks(document).items():
        assert look > modelled(phase)["FirstLook"], phase
        assert document["Phases"][phase]["Measured"] is True
    assert document["Phases"]["Execution"]["Changes"].startswith("sha256:")


def test_without_a_history_bucket_nothing_is_kept(history: Harness) -> None:
    run = history.run({"StackName": "app"})
    assert run.outcome == "HEALED"
    assert history.sandbox.client("s3").list_objects_v2(Bucket="history")["KeyCount"] == 0
    assert expected(run, "detect drift: wait") == modelled("Detection")


def test_the_next_heal_looks_when_the_stack_was_done_last_time(history: Harness) -> None:
    """Night two: every wait first looks where night one's document says, marked as the
    stack's own time, and asks CloudFormation less than night one did (no wait more)."""
    first = history.run({"StackName": "app"}, history_bucket="history")
    document = kept(history)
    assert first.outcome == "HEALED" and document is not None
    history.drift("off again")
    second = history.run({"StackName": "app"}, history_bucket="history")
    assert second.outcome == "HEALED"
    for phase, wait in WAITS.items():
        assert expected(second, wait) == {
            "FirstLook": first_looks(document)[phase],
            "Resources": RESOURCES,
            "Informed": True,
        }, wait
        assert second.attempts(wait) <= first.attempts(wait), wait
    assert sum(map(second.attempts, WAITS.values())) < sum(map(first.attempts, WAITS.values()))


def test_a_stack_that_changed_size_scales_last_nights_looks(history: Harness) -> None:
    """Last night's document was written for 50 resources: the waits look as much earlier as
    the model says a stack of 5 is quicker, still as the stack's own time."""
    keep(history, json.dumps({**json.loads(last_night(None, Detection=40)), "Resources": 50}))
    run = history.run({"StackName": "app"}, history_bucket="history")
    assert run.outcome == "HEALED"
    ratio = polling.DETECTION.seconds(RESOURCES) / polling.DETECTION.seconds(50)
    assert expected(run, "detect drift: wait") == {
        "FirstLook": math.ceil(40 * ratio),
        "Resources": RESOURCES,
        "Informed": True,
    }


@pytest.mark.parametrize(
    "damaged",
    [
        "not json",
        json.dumps({**json.loads(last_night(None, Detection=1, ChangeSet=1)), "Version": 3}),
        last_night(None, Detection=0),
    ],
    ids=["not json", "another version", "a look of 0"],
)
def test_a_document_that_cannot_be_used_is_ignored_and_replaced(
    history: Harness, damaged: str
) -> None:
    """The heal waits as on its first night (the model's first looks) and completes; the
    document it leaves is a valid one."""
    keep(history, damaged)
    run = history.run({"StackName": "app"}, history_bucket="history")
    assert run.outcome == "HEALED"
    for phase, wait in WAITS.items():
        assert expected(run, wait) == modelled(phase), wait
    document = kept(history)
    assert document is not None and document["Version"] == timings.VERSION
    assert document["Phases"].keys() == WAITS.keys()


@pytest.mark.fault(
    "The stack's timings (`HISTORY_BUCKET`) cannot be read or written",
    "logged; the waits estimate from the stack's size; the heal goes on",
)
def test_a_history_that_cannot_be_read_does_not_fail_the_heal(history: Harness) -> None:
    """The bucket does not exist (or the healer may not read it): the heal reads its template
    once, waits as it would without history, and heals."""
    run = history.run({"StackName": "app"}, history_bucket="no-such-bucket")
    assert run.outcome == "HEALED"
    assert run.result["Reason"] == "1 resource reverted; verified in sync"
    assert run.attempts("read template") == 1
    for phase, wait in WAITS.items():
        assert expected(run, wait) == modelled(phase), wait


@pytest.mark.parametrize("ends", ["IN_SYNC", "DRIFT_REPORTED"])
def test_a_heal_that_ends_at_detection_keeps_the_rest_of_last_nights_looks(
    harness: Harness, ends: str
) -> None:
    """In sync, or a dry run: the heal learns the detection alone (last night's look of 2 s
    was too early) and keeps last night's change set and execution."""
    harness.sandbox.client("s3").create_bucket(Bucket="history")
    harness.stack()
    if ends == "DRIFT_REPORTED":
        harness.drift()
    keep(harness, last_night("sha256:x", Detection=2, ChangeSet=123, Execution=456))
    run = harness.run(
        {"StackName": "app", "DryRun": ends == "DRIFT_REPORTED"}, history_bucket="history"
    )
    assert run.outcome == ends
    assert expected(run, "detect drift: wait") == {
        "FirstLook": 2,
        "Resources": RESOURCES,
        "Informed": True,
    }
    document = kept(harness)
    assert document is not None
    looks = first_looks(document)
    assert looks.keys() == {"Detection", "ChangeSet", "Execution"}
    assert looks["Detection"] > 2  # the detection took longer than 2 s
    assert (looks["ChangeSet"], looks["Execution"]) == (123, 456)
    assert document["Phases"]["Execution"]["Changes"] == "sha256:x"
    assert document["Written"] != "2026-11-21T02:00:00Z"


def test_an_execution_that_changes_something_else_is_estimated_from_the_model(
    history: Harness,
) -> None:
    """Last night's execution reverted other resources (another digest of what it changed): its
    time says nothing of tonight's, and the execution's wait looks where the model says; the
    detection and the change set still look where last night's did."""
    keep(history, last_night("sha256:another", Detection=12, ChangeSet=14, Execution=400))
    run = history.run({"StackName": "app"}, history_bucket="history")
    assert run.outcome == "HEALED"
    assert expected(run, "execute change set: wait") == modelled("Execution")
    assert expected(run, "detect drift: wait")["FirstLook"] == 12
    document = kept(history)
    assert document is not None
    assert document["Phases"]["Execution"]["Changes"] not in (None, "sha256:another")
    assert document["Phases"]["Execution"]["FirstLook"] < 400


def test_a_failed_execution_is_not_kept(history: Harness) -> None:
    """A rollback takes longer than the change would have: the failed heal keeps last night's
    execution, and learns the detection and change set that succeeded."""
    keep(history, last_night("sha256:any", Detection=12, ChangeSet=14, Execution=33))
    history.sandbox.faults.fail_execution("app", "Param")
    run = history.run({"StackName": "app"}, history_bucket="history")
    assert run.error.type.endswith("ExecutionFailed")
    document = kept(history)
    assert document is not None
    assert document["Phases"]["Execution"] == {
        "FirstLook": 33,
        "Measured": True,
        "Streak": 0,
        "Changes": "sha256:any",
    }
    assert first_looks(document)["Detection"] != 12
    assert first_looks(document)["ChangeSet"] != 14


def test_a_failed_change_set_is_not_kept(history: Harness) -> None:
    """A change set that fails took as long as it took to fail: last night's stays."""
    keep(history, last_night(None, Detection=12, ChangeSet=14))
    history.sandbox.faults.fail_change_set("app", "Requires capabilities : [CAPABILITY_IAM]")
    run = history.run({"StackName": "app"}, history_bucket="history")
    assert run.error.type.endswith("ChangeSetFailed")
    document = kept(history)
    assert document is not None
    assert first_looks(document)["ChangeSet"] == 14
    assert first_looks(document)["Detection"] != 12  # the detection that succeeded is learned


#: A document as the first release wrote it (Version 1: a first look per phase, nothing more).
FIRST_RELEASE = json.dumps(
    {
        "Version": 1,
        "Resources": RESOURCES,
        "FirstLook": {"Detection": 15, "ChangeSet": 17, "Execution": 43},
        "Written": "2026-11-20T02:00:00Z",
    }
)


@pytest.mark.parametrize("before", [None, FIRST_RELEASE], ids=["none", "the first release's"])
def test_a_stack_with_no_timings_yet_reads_as_none_without_a_warning(
    history: Harness, caplog: pytest.LogCaptureFixture, before: str | None
) -> None:
    """A stack's first night is not a fault, nor is the first night after an upgrade: nothing
    logged of the timings; the waits estimate from the stack's size, and this version's
    document replaces an earlier one's."""
    if before is not None:
        keep(history, before)
    run = history.run({"StackName": "app"}, history_bucket="history")
    assert run.outcome == "HEALED"
    assert "timings" not in caplog.text
    for phase, wait in WAITS.items():
        assert expected(run, wait) == modelled(phase), wait
    document = kept(history)
    assert document is not None and document["Version"] == timings.VERSION


#: How long the sandbox's CloudFormation takes on the stack (AS_MODELLED): 15 s a detection,
#: 16.5 s a change set.
DETECTION = AS_MODELLED.detection(RESOURCES).total_seconds()
CHANGE_SET = AS_MODELLED.creation().total_seconds()
#: The geometric schedule of the settings the harness runs with (Settings' defaults).
BACKOFF = backoff_of(Settings())
READ = (
    "could not read the stack's timings; this heal's waits estimate from the stack's size instead"
)
WRITE = (
    "could not write the stack's timings; the next heal's waits estimate from the stack's size "
    "instead"
)


def document(phases: dict[timings.Phase, Look]) -> str:
    """The stack's timings as its last heal would have written them."""
    written = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
    return timings.Timings(
        version=timings.VERSION, resources=RESOURCES, phases=phases, written=written
    ).to_json()


def asked(harness: Harness, action: str) -> int:
    """How often CloudFormation was asked ``action`` so far (the sandbox counts every call)."""
    return harness.sandbox.calls[("cloudformation", action)]


def polls_until(seconds: float, schedule: tuple[int, ...]) -> int:
    """The polls a wait that does not ask at once (its check at 0 s) makes on ``schedule``
    until it sees an operation of ``seconds`` done."""
    return next(n for n, at in enumerate(schedule) if at >= seconds)


def test_a_guessed_first_look_is_neither_probed_nor_polled_for_as_the_stacks_own(
    history: Harness,
) -> None:
    """Last night's first looks were only the model's guesses (Measured: false). The detection
    is not done at its guess: its wait polls on the model's schedule from there (a tenth later
    each time), not CLOSER as after a first look the stack measured, and learns the stack's own
    time. The change set is done at its guess: it may have taken much less, so the next night
    looks earlier again (LEAD), still a guess with no streak, not PROBE's little earlier."""
    guess: dict[timings.Phase, int] = {"Detection": 10, "ChangeSet": 20}
    assert guess["Detection"] < DETECTION and guess["ChangeSet"] >= CHANGE_SET
    keep(
        history,
        document({phase: Look(first_look=look, measured=False) for phase, look in guess.items()}),
    )
    modelled = polling.poll_times(BACKOFF, guess["Detection"])
    closer = polling.poll_times(BACKOFF, guess["Detection"], informed=True)
    polls = polls_until(DETECTION, modelled)
    assert polls != polls_until(DETECTION, closer)  # the count tells the schedules apart
    before = asked(history, "DescribeStackDriftDetectionStatus")

    run = history.run({"StackName": "app"}, history_bucket="history")

    assert run.outcome == "HEALED"
    assert expected(run, "detect drift: wait") == {
        "FirstLook": guess["Detection"],
        "Resources": RESOURCES,
        "Informed": False,
    }
    seen, running = modelled[polls], modelled[polls - 1]
    # the verifying detection looks when the first was seen done, and sees it done: one poll
    assert expected(run, "verify: wait") == {
        "FirstLook": seen,
        "Resources": RESOURCES,
        "Informed": True,
    }
    assert asked(history, "DescribeStackDriftDetectionStatus") - before == polls + 1
    kept_now = kept(history)
    assert kept_now is not None
    assert kept_now["Phases"]["Detection"] == {
        "FirstLook": math.ceil((running + seen) / 2),
        "Measured": True,
        "Streak": 0,
        "Changes": None,
    }
    assert kept_now["Phases"]["ChangeSet"] == {
        "FirstLook": math.ceil(polling.LEAD * guess["ChangeSet"]),
        "Measured": False,
        "Streak": 0,
        "Changes": None,
    }


def test_nights_in_a_row_seen_done_at_once_look_earlier_each_night(history: Harness) -> None:
    """Three nights in a row the detection and the change set are done at the first look the
    stack's past gave: each night's look is the last one times PROBE to the power of the nights
    in a row (Streak 1, 2, 3: detection 20 s -> 19, 18, 16; change set 25 s -> 24, 22, 19),
    one poll each. The verifying detection is seen done at its first look too, but that look
    came from this heal's detection (no streak): had it overwritten what the heal's detection
    taught, the streak would start again at 1."""
    durations = {"Detection": DETECTION, "ChangeSet": CHANGE_SET}
    looks: dict[timings.Phase, int] = {"Detection": 20, "ChangeSet": 25}
    keep(
        history,
        document({phase: Look(first_look=look, measured=True) for phase, look in looks.items()}),
    )
    for night in (1, 2, 3):
        if night > 1:
            history.drift(f"off on night {night}")
        before = asked(history, "DescribeStackDriftDetectionStatus")

        run = history.run({"StackName": "app"}, history_bucket="history")

        assert run.outcome == "HEALED", night
        informed = {"Resources": RESOURCES, "Informed": True}
        for wait in ("detect drift: wait", "verify: wait"):
            assert expected(run, wait) == {"FirstLook": looks["Detection"], **informed}, night
        assert expected(run, "create change set: wait") == {
            "FirstLook": looks["ChangeSet"],
            **informed,
        }, night
        assert asked(history, "DescribeStackDriftDetectionStatus") - before == 2, night
        kept_now = kept(history)
        assert kept_now is not None
        for phase, look in looks.items():
            assert look >= durations[phase]  # the sandbox is done by then: seen at once
            looks[phase] = math.ceil(look * timings.PROBE**night)
            assert kept_now["Phases"][phase] == {
                "FirstLook": looks[phase],
                "Measured": True,
                "Streak": night,
                "Changes": None,
            }, (night, phase)


@pytest.mark.fault(
    "The stack's timings (`HISTORY_BUCKET`) cannot be read or written",
    "logged; the waits estimate from the stack's size; the heal goes on",
)
@pytest.mark.parametrize(
    ("bucket", "text", "denied", "cause", "warnings"),
    [
        ("history", "not json", None, "ValueError: not a timings document", [READ]),
        ("no-such-bucket", None, None, "NoSuchBucket", [READ, WRITE]),
        ("history", "{}", "GetObject", "AccessDenied", [READ]),
        ("history", None, "PutObject", "AccessDenied", [WRITE]),
    ],
    ids=["a damaged document", "no such bucket", "no s3:GetObject", "no s3:PutObject"],
)
def test_a_document_that_cannot_be_read_is_logged_once_and_the_heal_heals(
    history: Harness,
    caplog: pytest.LogCaptureFixture,
    bucket: str,
    text: str | None,
    denied: str | None,
    cause: str,
    warnings: list[str],
) -> None:
    """One warning says the timings could not be read or written, and why (a bucket that does
    not exist cannot be written either; IAM may deny either); the heal heals."""
    if text is not None:
        keep(history, text)
    if denied is not None:
        history.sandbox.faults.deny(denied, times=99, service="s3")
    caplog.set_level(logging.WARNING, logger="drift-healer")

    run = history.run({"StackName": "app"}, history_bucket=bucket)

    assert run.outcome == "HEALED"
    assert run.result["Reason"] == "1 resource reverted; verified in sync"
    logged = [
        record
        for record in caplog.records
        if record.name == "drift-healer" and "timings" in record.getMessage()
    ]
    assert [record.getMessage() for record in logged] == warnings
    assert all(record.levelno == logging.WARNING for record in logged)
    assert cause in str(getattr(logged[0], "error", ""))


def test_a_failed_detection_teaches_nothing(history: Harness) -> None:
    """A detection that ends DETECTION_FAILED (here partly: "Rate exceeded" after the drifted
    resource) took as long as it took to fail, not to detect: the heal goes on (its change set
    is left for review) and learns its change set, and the document keeps last night's
    detection as it was, though the wait polled past its first look."""
    last: dict[timings.Phase, Look] = {
        "Detection": Look(first_look=2, measured=True, streak=3),
        "ChangeSet": Look(first_look=14, measured=True),
        "Execution": Look(first_look=33, measured=True, changes="sha256:x"),
    }
    keep(history, document(last))
    history.sandbox.faults.fail_detection("app", "Rate exceeded", checked=1)
    before = asked(history, "DescribeStackDriftDetectionStatus")

    run = history.run({"StackName": "app"}, history_bucket="history")

    assert run.outcome == "CHANGE_SET_CREATED"
    assert "drift detection was partial" in run.result["Reason"]
    assert expected(run, "detect drift: wait") == {
        "FirstLook": 2,
        "Resources": RESOURCES,
        "Informed": True,
    }
    assert asked(history, "DescribeStackDriftDetectionStatus") - before > 1  # seen after polls
    kept_now = kept(history)
    assert kept_now is not None
    assert kept_now["Written"] != json.loads(document(last))["Written"]  # written tonight ...
    assert kept_now["Phases"]["Detection"] == {
        "FirstLook": 2,
        "Measured": True,
        "Streak": 3,
        "Changes": None,
    }
    assert kept_now["Phases"]["ChangeSet"]["FirstLook"] != 14  # ... with the change set learned
    assert kept_now["Phases"]["Execution"] == {
        "FirstLook": 33,
        "Measured": True,
        "Streak": 0,
        "Changes": "sha256:x",
    }
