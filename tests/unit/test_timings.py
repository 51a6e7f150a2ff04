"""A stack's timings from one heal to the next (policy.timings): where the document is kept, what
counts as one, how its first looks follow the stack's size, what a wait learns for the rest of
its heal and for the next night, and what the next document keeps."""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drift_healer.policy import polling, timings
from drift_healer.policy.timings import Look, Seen, Timings

STACK = (
    "arn:aws:cloudformation:eu-west-1:123456789012:stack/app/0a1b2c3d-1111-2222-3333-444455556666"
)
NIGHT = datetime(2030, 1, 2, 2, 0, tzinfo=UTC)
YEAR = 366 * 24 * 3600


def measured(first_look: int, streak: int = 0, changes: str | None = None) -> Look:
    return Look(first_look=first_look, measured=True, streak=streak, changes=changes)


LAST = Timings(
    version=timings.VERSION,
    resources=50,
    phases={
        "Detection": measured(40),
        "ChangeSet": measured(25),
        "Execution": measured(90, changes="sha256:abc"),
    },
    written=NIGHT,
)


def document(**fields: object) -> str:
    """LAST's JSON with ``fields`` replaced (None: removed)."""
    data = json.loads(LAST.to_json())
    for name, value in fields.items():
        if value is None:
            del data[name]
        else:
            data[name] = value
    return json.dumps(data)


def phases(**looks: object) -> dict[str, object]:
    return {phase: {"FirstLook": look, "Measured": True} for phase, look in looks.items()}


def scaled(look: int, model: polling.Model, before: int, now: int) -> int:
    return max(1, math.ceil(look * model.seconds(now) / model.seconds(before)))


# ------------------------------------------------------------------------------ key
def test_one_document_per_stack_by_account_region_and_name() -> None:
    assert timings.key(STACK) == "timings/123456789012/eu-west-1/app.json"
    china = "arn:aws-cn:cloudformation:cn-north-1:123456789012:stack/my-stack/abc"
    assert timings.key(china) == "timings/123456789012/cn-north-1/my-stack.json"


@pytest.mark.parametrize(
    "not_an_arn",
    [
        "app",
        "arn:aws:cloudformation:eu-west-1:123456789012:stack/app",  # no stack id
        "arn:aws:s3:eu-west-1:123456789012:stack/app/abc",
        "arn:aws:cloudformation:eu-west-1:1234:stack/app/abc",
    ],
)
def test_a_key_needs_a_stack_arn(not_an_arn: str) -> None:
    """A name alone would mix up stacks of the same name in other accounts and regions."""
    with pytest.raises(ValueError, match="not a stack ARN"):
        timings.key(not_an_arn)


# ------------------------------------------------------------------------------ parse
def test_a_document_reads_back_as_written() -> None:
    assert timings.parse(LAST.to_json()) == LAST
    assert json.loads(LAST.to_json()) == {
        "Version": 2,
        "Resources": 50,
        "Phases": {
            "Detection": {"FirstLook": 40, "Measured": True, "Streak": 0, "Changes": None},
            "ChangeSet": {"FirstLook": 25, "Measured": True, "Streak": 0, "Changes": None},
            "Execution": {
                "FirstLook": 90,
                "Measured": True,
                "Streak": 0,
                "Changes": "sha256:abc",
            },
        },
        "Written": "2030-01-02T02:00:00Z",
    }


def test_a_document_may_know_only_some_phases_and_carry_more_fields() -> None:
    """A heal that ended at detection writes Detection alone; a later version's extra fields
    do not make the document unreadable (and are not kept: the checkpoint holds what this
    version reads)."""
    partial = document(Phases=phases(Detection=1), Extra="ignored")
    read = timings.parse(partial)
    assert read == Timings(
        version=timings.VERSION, resources=50, phases={"Detection": measured(1)}, written=NIGHT
    )
    assert "Extra" not in read.to_json()
    assert timings.parse(document(Phases=phases(Execution=YEAR))) is not None


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "",
        "[]",
        "{}",
        "null",
        document(Version=3),
        document(Version=None),
        document(Resources=None),
        document(Phases=None),
        document(Written=None),
        document(Resources=-1),
        document(Written="last night"),
        document(Phases=phases(Detection=0)),
        document(Phases=phases(Detection=40, ChangeSet=-5)),
        document(Phases=phases(Execution=YEAR + 1)),
        document(Phases=phases(Rollback=40)),
        document(Phases=phases(Detection="soon")),
        document(Phases={"Detection": {"FirstLook": 40}}),
        document(Resources=10**400),
        document(FirstLook={"Detection": 40}, Phases=None),
    ],
)
def test_anything_else_is_no_document(text: str) -> None:
    """Damaged, written by another version, or a first look no wait could use: None, and the
    heal estimates from the stack's size."""
    assert timings.parse(text) is None


looks_ = st.builds(
    Look,
    first_look=st.integers(1, YEAR),
    measured=st.booleans(),
    streak=st.integers(0, 8),
    changes=st.one_of(st.none(), st.text(max_size=20)),
)
documents = st.builds(
    lambda resources, phases_, written: Timings(
        version=timings.VERSION, resources=resources, phases=phases_, written=written
    ),
    st.integers(0, 100_000),
    st.dictionaries(st.sampled_from(["Detection", "ChangeSet", "Execution"]), looks_),
    st.datetimes(timezones=st.just(UTC)),
)


@given(documents)
def test_every_document_reads_back_as_written(timings_: Timings) -> None:
    assert timings.parse(timings_.to_json()) == timings_


# ------------------------------------------------------------------------------ looks
def test_no_document_no_looks() -> None:
    assert timings.looks(None, 50) == {}


def test_the_same_stack_looks_when_it_was_done_last_time() -> None:
    assert timings.looks(LAST, 50) == LAST.phases
    assert timings.looks(LAST, None) == LAST.phases  # size unknown: as it was


@pytest.mark.parametrize("now", [100, 5, 0])
def test_a_stack_that_changed_size_scales_each_look_by_its_model(now: int) -> None:
    looks = timings.looks(LAST, now)
    assert {phase: look.first_look for phase, look in looks.items()} == {
        "Detection": scaled(40, polling.DETECTION, 50, now),
        "ChangeSet": scaled(25, polling.CHANGE_SET, 50, now),
        "Execution": scaled(90, polling.EXECUTION, 50, now),
    }
    assert looks["Execution"].changes == "sha256:abc"  # the rest of each Look as it was
    grew = now > LAST.resources
    assert all((looks[p].first_look > LAST.phases[p].first_look) == grew for p in looks)


@given(documents, st.integers(0, 100_000))
def test_a_scaled_look_is_always_one_a_wait_can_use(timings_: Timings, now: int) -> None:
    """At least a second, and never beyond what a document may hold (the next heal must be
    able to read what this one writes)."""
    looks = timings.looks(timings_, now)
    assert looks.keys() == timings_.phases.keys()
    assert all(1 <= look.first_look <= YEAR for look in looks.values())


# ------------------------------------------------------------------------------ changed
def change(logical: str, action: str = "Modify", replacement: str = "False") -> dict[str, object]:
    return {
        "Type": "Resource",
        "ResourceChange": {
            "LogicalResourceId": logical,
            "ResourceType": "AWS::SSM::Parameter",
            "Action": action,
            "Replacement": replacement,
            "Details": [{"Target": {"Name": "Value"}, "AfterValue": str(random.random())}],
        },
    }


def test_an_execution_is_known_by_what_it_changes_not_the_values() -> None:
    """The same drift reverted again (other values, another order) executes alike; another
    resource, or a replacement, does not."""
    tonight = timings.changed([change("A"), change("B")])
    assert timings.changed([change("B"), change("A")]) == tonight
    assert timings.changed([change("A")]) != tonight
    assert timings.changed([change("A"), change("B", replacement="True")]) != tonight
    assert timings.changed([change("A", action="Remove"), change("B")]) != tonight
    assert timings.changed([]) != tonight


# ------------------------------------------------------------------------------ again
def test_seen_done_after_seen_running_look_when_it_was_seen_done() -> None:
    assert timings.again(Seen(44, 40, None)) == measured(44)
    assert timings.again(Seen(44, 40, measured(30))) == measured(44)


def test_seen_done_at_the_stacks_own_first_look_look_there_again() -> None:
    assert timings.again(Seen(17, 0, measured(17))) == measured(17)


def test_seen_done_at_the_models_first_look_look_earlier_as_a_guess() -> None:
    """The model's first look comes at the quickest stacks: this one may have been done long
    before, so the next wait looks at LEAD of it, and the look is a guess, not the stack's own
    time (its wait polls on the model's schedule, and the next night does not probe it)."""
    guess = Look(first_look=math.ceil(polling.LEAD * 30), measured=False)
    assert timings.again(Seen(30, 0, None)) == guess
    assert timings.again(Seen(30, 0, guess.model_copy(update={"first_look": 30}))) == guess
    assert timings.again(Seen(1, 0, None)) == Look(first_look=1, measured=False)


@pytest.mark.parametrize("look", [None, measured(10)])
def test_done_before_the_wait_asked_teaches_nothing(look: Look | None) -> None:
    assert timings.again(Seen(0, 0, look)) is None
    assert timings.next_night(Seen(0, 0, look)) is None


# ------------------------------------------------------------------------------ next night
def test_the_next_night_looks_where_a_measured_operation_most_likely_ended() -> None:
    """Seen running, then done: it ended between the two polls; the next night, which may take a
    little more or less, looks half-way (this heal's own verifying detection looks at the later
    poll: it takes as long again)."""
    assert timings.next_night(Seen(57, 51, measured(51))) == measured(54)
    assert timings.next_night(Seen(58, 51, None), "sha256:x") == measured(55, changes="sha256:x")
    assert timings.again(Seen(57, 51, measured(51))) == measured(57)


def test_seen_at_the_stacks_own_first_look_the_next_night_probes_earlier_each_night() -> None:
    """It may have been done well before: look PROBE earlier, and more each night in a row."""
    first = timings.next_night(Seen(100, 0, measured(100)), "sha256:x")
    assert first == measured(math.ceil(100 * timings.PROBE), streak=1, changes="sha256:x")
    assert timings.PROBE == 0.95
    second = timings.next_night(Seen(95, 0, first))
    assert second == measured(math.ceil(95 * timings.PROBE**2), streak=2)
    # seen running again: measured, the streak ends
    assert timings.next_night(Seen(90, 86, second)) == measured(88)


def test_a_guess_is_not_probed() -> None:
    """A look that was the model's guess, seen done at once, stays a guess below it."""
    guess = Look(first_look=20, measured=False)
    assert timings.next_night(Seen(20, 0, guess), "sha256:x") == Look(
        first_look=10, measured=False, changes="sha256:x"
    )


def test_the_probe_stops_growing() -> None:
    """After _LONGEST_STREAK nights in a row the step stays PROBE to that power."""
    long = measured(1000, streak=50)
    assert timings.next_night(Seen(1000, 0, long)) == measured(
        math.ceil(1000 * timings.PROBE**8), streak=8
    )


@pytest.mark.parametrize("too_late", [1.5, 2.0, 4.0])
def test_a_night_far_slower_than_usual_is_forgotten_within_days(too_late: float) -> None:
    """One night took ``too_late`` times as long as the stack's usual 100 s: the nights after it
    look earlier and earlier, each costing at most one poll more when too early, until the first
    look is back within a fifth of the usual time: in days, not weeks."""
    usual = 100.0
    backoff = polling.Backoff(initial=1, rate=1.6, ceiling=120, max_wait=3600)
    look = measured(math.ceil(usual * too_late))  # what the slow night left
    nights = 0
    while look.first_look > 1.2 * usual and nights < 50:
        times = polling.poll_times(backoff, look.first_look, look.measured)
        took = next(t for t in times if t >= usual)
        before = max(t for t in times if t < usual) if took != look.first_look else 0
        found = timings.next_night(Seen(took, before, look))
        assert found is not None
        look, nights = found, nights + 1
    assert nights <= {1.5: 3, 2.0: 5, 4.0: 7}[too_late]


# ------------------------------------------------------------------------------ remember
def test_what_a_heal_learned_replaces_what_was_known() -> None:
    now = datetime(2030, 1, 3, 2, 0, tzinfo=UTC)
    learned: dict[timings.Phase, Look] = {
        "Detection": measured(33),
        "ChangeSet": measured(21),
        "Execution": measured(70, changes="sha256:def"),
    }
    kept = timings.remember(LAST, learned, 50, now)
    assert kept == Timings(version=timings.VERSION, resources=50, phases=learned, written=now)


def test_phases_the_heal_did_not_reach_are_kept_scaled_to_the_stack_now() -> None:
    """A heal that ended at detection keeps last night's change set and execution."""
    kept = timings.remember(LAST, {"Detection": measured(12)}, 100, NIGHT)
    assert kept is not None and kept.resources == 100
    assert kept.phases["Detection"] == measured(12)
    assert kept.phases["ChangeSet"].first_look == scaled(25, polling.CHANGE_SET, 50, 100)
    assert kept.phases["Execution"] == measured(
        scaled(90, polling.EXECUTION, 50, 100), changes="sha256:abc"
    )


def test_a_first_document_holds_what_was_learned() -> None:
    kept = timings.remember(None, {"ChangeSet": measured(9)}, 5, NIGHT)
    assert kept == Timings(
        version=timings.VERSION, resources=5, phases={"ChangeSet": measured(9)}, written=NIGHT
    )


def test_nothing_learned_or_size_unknown_keeps_nothing() -> None:
    assert timings.remember(LAST, {}, 50, NIGHT) is None
    assert timings.remember(LAST, {"Detection": measured(12)}, None, NIGHT) is None


@pytest.mark.parametrize(
    ("text", "superseded"),
    [
        ('{"Version": 1, "FirstLook": {"Detection": 15}}', True),
        (LAST.to_json(), False),  # this version's
        ('{"Version": 3}', False),  # a later one's: not read, and not an earlier one's
        ('{"Version": true}', False),
        ('{"Version": "1"}', False),
        ("[1]", False),
        ("not json", False),
    ],
)
def test_only_an_earlier_versions_document_is_superseded(text: str, superseded: bool) -> None:
    assert timings.superseded(text) is superseded
