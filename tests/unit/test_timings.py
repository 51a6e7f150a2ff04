"""A stack's timings from one heal to the next (policy.timings): where the document is kept, what
counts as one, how its first looks follow the stack's size, what a wait learns, and what the
next document keeps."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drift_healer.policy import polling, timings
from drift_healer.policy.timings import Timings

STACK = (
    "arn:aws:cloudformation:eu-west-1:123456789012:stack/app/0a1b2c3d-1111-2222-3333-444455556666"
)
NIGHT = datetime(2030, 1, 2, 2, 0, tzinfo=UTC)
YEAR = 366 * 24 * 3600
LAST = Timings(
    resources=50, first_look={"Detection": 40, "ChangeSet": 25, "Execution": 90}, written=NIGHT
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
        "Version": 1,
        "Resources": 50,
        "FirstLook": {"Detection": 40, "ChangeSet": 25, "Execution": 90},
        "Written": "2030-01-02T02:00:00Z",
    }


def test_a_document_may_know_only_some_phases_and_carry_more_fields() -> None:
    """A heal that ended at detection writes Detection alone; a later version's extra fields
    do not make the document unreadable."""
    partial = document(FirstLook={"Detection": 1}, Extra="ignored")
    assert timings.parse(partial) == Timings(
        resources=50, first_look={"Detection": 1}, written=NIGHT
    )
    assert timings.parse(document(FirstLook={"Execution": YEAR})) is not None


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "",
        "[]",
        "{}",
        "null",
        document(Version=2),
        document(Resources=None),
        document(FirstLook=None),
        document(Written=None),
        document(Resources=-1),
        document(Written="last night"),
        document(FirstLook={"Detection": 0}),
        document(FirstLook={"Detection": 40, "ChangeSet": -5}),
        document(FirstLook={"Execution": YEAR + 1}),
        document(FirstLook={"Rollback": 40}),
        document(FirstLook={"Detection": "soon"}),
    ],
)
def test_anything_else_is_no_document(text: str) -> None:
    """Damaged, written by another version, or a first look no wait could use: None, and the
    heal estimates from the stack's size."""
    assert timings.parse(text) is None


first_looks = st.dictionaries(
    st.sampled_from(["Detection", "ChangeSet", "Execution"]), st.integers(1, YEAR)
)
documents = st.builds(
    lambda resources, first_look, written: Timings(
        resources=resources, first_look=first_look, written=written
    ),
    st.integers(0, 100_000),
    first_looks,
    st.datetimes(timezones=st.just(UTC)),
)


@given(documents)
def test_every_document_reads_back_as_written(timings_: Timings) -> None:
    assert timings.parse(timings_.to_json()) == timings_


# ------------------------------------------------------------------------------ looks
def test_no_document_no_looks() -> None:
    assert timings.looks(None, 50) == {}


def test_the_same_stack_looks_when_it_was_done_last_time() -> None:
    assert timings.looks(LAST, 50) == LAST.first_look
    assert timings.looks(LAST, None) == LAST.first_look  # size unknown: as it was


@pytest.mark.parametrize("now", [100, 5, 0])
def test_a_stack_that_changed_size_scales_each_look_by_its_model(now: int) -> None:
    looks = timings.looks(LAST, now)
    assert looks == {
        "Detection": scaled(40, polling.DETECTION, 50, now),
        "ChangeSet": scaled(25, polling.CHANGE_SET, 50, now),
        "Execution": scaled(90, polling.EXECUTION, 50, now),
    }
    grew = now > LAST.resources
    assert all((looks[p] > LAST.first_look[p]) == grew for p in looks)


@given(documents, st.integers(0, 100_000))
def test_a_scaled_look_is_always_one_a_wait_can_use(timings_: Timings, now: int) -> None:
    looks = timings.looks(timings_, now)
    assert looks.keys() == timings_.first_look.keys()
    assert all(look >= 1 for look in looks.values())


# ------------------------------------------------------------------------------ learned
def test_seen_done_after_seen_running_look_when_it_was_seen_done() -> None:
    assert timings.learned(44, 40, informed=False) == 44
    assert timings.learned(44, 40, informed=True) == 44


def test_seen_done_at_the_stacks_own_first_look_look_there_again() -> None:
    assert timings.learned(17, 0, informed=True) == 17


def test_seen_done_at_the_models_first_look_look_earlier() -> None:
    """The model's first look comes at the quickest stacks: this one may have been done long
    before, so the next wait looks at LEAD of it."""
    assert timings.learned(30, 0, informed=False) == math.ceil(polling.LEAD * 30)
    assert timings.learned(1, 0, informed=False) == 1


@pytest.mark.parametrize("informed", [False, True])
def test_done_before_the_wait_asked_teaches_nothing(informed: bool) -> None:
    assert timings.learned(0, 0, informed) is None


# ------------------------------------------------------------------------------ remember
def test_what_a_heal_learned_replaces_what_was_known() -> None:
    now = datetime(2030, 1, 3, 2, 0, tzinfo=UTC)
    learned: dict[timings.Phase, int] = {"Detection": 33, "ChangeSet": 21, "Execution": 70}
    kept = timings.remember(LAST, learned, 50, now)
    assert kept == Timings(resources=50, first_look=learned, written=now)


def test_phases_the_heal_did_not_reach_are_kept_scaled_to_the_stack_now() -> None:
    """A heal that ended at detection keeps last night's change set and execution, scaled to
    the stack's size now."""
    kept = timings.remember(LAST, {"Detection": 33}, 60, NIGHT)
    assert kept is not None and kept.resources == 60
    assert kept.first_look == {
        "Detection": 33,
        "ChangeSet": scaled(25, polling.CHANGE_SET, 50, 60),
        "Execution": scaled(90, polling.EXECUTION, 50, 60),
    }


def test_a_first_document_holds_what_was_learned() -> None:
    kept = timings.remember(None, {"Detection": 12}, 5, NIGHT)
    assert kept == Timings(resources=5, first_look={"Detection": 12}, written=NIGHT)


def test_nothing_learned_or_size_unknown_keeps_nothing() -> None:
    """The last document stays as it was rather than being rewritten without news, and a
    document without the size it was learned on could not be scaled."""
    assert timings.remember(LAST, {}, 50, NIGHT) is None
    assert timings.remember(None, {}, 50, NIGHT) is None
    assert timings.remember(LAST, {"Detection": 33}, None, NIGHT) is None


def test_the_next_night_probes_a_little_earlier_when_the_first_look_saw_it_done() -> None:
    """Seen done at a first look the stack's past gave, it may have been done well before: the
    next heal looks PROBE earlier, so that a first look too late does not stay too late; this
    heal's own verifying detection looks where it was seen (it takes as long again)."""
    assert timings.next_night(took=100, before=0, informed=True) == math.ceil(timings.PROBE * 100)
    assert timings.learned(took=100, before=0, informed=True) == 100
    assert timings.PROBE < 1


def test_the_next_night_looks_where_a_measured_operation_most_likely_ended() -> None:
    """Seen running, then done: it ended between the two polls; the next night, which may take a
    little more or less, looks half-way (this heal's own verifying detection looks at the
    later poll: it takes as long again)."""
    assert timings.next_night(took=57, before=51, informed=True) == 54
    assert timings.next_night(took=58, before=51, informed=False) == 55
    assert timings.learned(took=57, before=51, informed=True) == 57
    assert timings.next_night(took=40, before=0, informed=False) == math.ceil(polling.LEAD * 40)
    assert timings.next_night(took=0, before=0, informed=True) is None
