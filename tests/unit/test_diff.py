"""The sandbox's property differences, with plain data."""

from __future__ import annotations

from drift_sandbox.diff import property_differences


def kinds(expected: dict[str, object], actual: dict[str, object]) -> set[tuple[str, str]]:
    return {
        (d["PropertyPath"], d["DifferenceType"]) for d in property_differences(expected, actual)
    }


def test_scalars_compare_by_string_form() -> None:
    assert property_differences({"VisibilityTimeout": 30}, {"VisibilityTimeout": "30"}) == []
    assert kinds({"A": True}, {"A": "false"}) == {("/A", "NOT_EQUAL")}


def test_only_template_properties_are_compared_and_missing_ones_removed() -> None:
    assert property_differences({"A": 1}, {"A": 1, "Extra": 2}) == []
    assert kinds({"Description": "x"}, {}) == {("/Description", "REMOVE")}


def test_tags_compare_as_a_set_keyed_by_key() -> None:
    expected = [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    reordered = [{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "1"}]
    assert property_differences({"Tags": expected}, {"Tags": reordered}) == []
    actual = [
        {"Key": "b", "Value": "3"},
        {"Key": "c", "Value": "9"},
        {"Key": "aws:x", "Value": "y"},
    ]
    assert kinds({"Tags": expected}, {"Tags": actual}) == {
        ("/Tags/0", "REMOVE"),
        ("/Tags/1/Value", "NOT_EQUAL"),
        ("/Tags/1", "ADD"),
    }


def test_nested_objects_and_lists() -> None:
    assert kinds({"P": {"x": 1, "l": [1, 2]}}, {"P": {"x": 2, "l": [1], "y": 0}}) == {
        ("/P/x", "NOT_EQUAL"),
        ("/P/l/1", "REMOVE"),
        ("/P/y", "ADD"),
    }
