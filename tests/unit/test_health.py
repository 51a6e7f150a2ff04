"""The health gates' verdicts (policy.health), with plain data."""

from __future__ import annotations

from drift_healer.policy import health


def test_a_prefix_that_matches_no_alarm_is_an_alarm_without_data() -> None:
    """A typo in AlarmPrefix must not turn the gate off: nothing watches what it names."""
    assert health.read({}, "prdo-") == {"prdo-*": "INSUFFICIENT_DATA"}
    assert health.blocking(health.read({}, "prdo-"), "block") == ["prdo-* (INSUFFICIENT_DATA)"]
    assert health.read({"prod-a": "OK"}, "prod-") == {"prod-a": "OK"}
    assert health.read({"named": "OK"}, None) == {"named": "OK"}


def test_what_is_shown_is_bounded_and_leads_with_what_is_not_ok() -> None:
    """Thousands of alarms under a prefix fit a checkpoint: SHOWN at most, those not OK first."""
    states = {f"prod-{i:04}": "OK" for i in range(3000)}
    states |= {"prod-2999": "ALARM", "prod-0500": "INSUFFICIENT_DATA"}
    shown = health.shown(states)
    assert len(shown) == health.SHOWN
    assert list(shown.items())[:2] == [("prod-0500", "INSUFFICIENT_DATA"), ("prod-2999", "ALARM")]
    assert all(state == "OK" for state in list(shown.values())[2:])


def test_a_regression_is_an_alarm_ok_before_and_not_after() -> None:
    before = {"a": "OK", "b": "INSUFFICIENT_DATA", "gone": "OK"}
    after = {"a": "ALARM", "b": "INSUFFICIENT_DATA", "c": "OK"}
    assert health.regressions(before, after) == ["a (ALARM)", "gone (INSUFFICIENT_DATA)"]


def test_an_alarm_left_out_of_what_was_shown_before_was_ok() -> None:
    """``before`` is bounded (health.shown): an alarm it leaves out was OK, so one of them that
    went off after the change is a regression."""
    states = {f"prod-{i:04}": "OK" for i in range(200)}
    before = health.shown(states)
    assert "prod-0199" not in before
    assert health.regressions(before, {**states, "prod-0199": "ALARM"}) == ["prod-0199 (ALARM)"]


def test_allowing_missing_data_never_lets_an_alarm_through() -> None:
    states = {"a": "ALARM", "b": "INSUFFICIENT_DATA", "c": "OK"}
    assert health.blocking(states, "allow") == ["a (ALARM)"]
    assert health.blocking(states, "block") == ["a (ALARM)", "b (INSUFFICIENT_DATA)"]


def test_a_stacks_alarm_tag_may_be_written_with_spaces() -> None:
    tags = {"drift-healer:alarms": " orders-lag , checkout-5xx ,"}
    assert health.watched(("checkout-5xx",), tags) == ("checkout-5xx", "orders-lag")


def test_a_prefix_matching_nothing_counts_beside_named_alarms() -> None:
    """A typo in AlarmPrefix next to named alarms (the policy's, a stack's tag) must not turn the
    prefix's gate off."""
    assert health.read({"checkout-5xx": "OK"}, "prdo-") == {
        "checkout-5xx": "OK",
        "prdo-*": "INSUFFICIENT_DATA",
    }
    assert health.read({"prod-a": "OK", "checkout-5xx": "OK"}, "prod-") == {
        "prod-a": "OK",
        "checkout-5xx": "OK",
    }
