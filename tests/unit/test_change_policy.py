"""The change policy document: loading, the messages of a document that cannot be used, a
stack's rules, accepted drift, and freezes across daylight saving."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time
from textwrap import dedent
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drift_healer.models import DriftedResource, PropertyDifference
from drift_healer.policy import change_policy
from drift_healer.policy.change_policy import (
    MAX_PROBLEMS,
    Accepted,
    ChangePolicy,
    PolicyInvalid,
    StackRules,
    accepted_drift,
    expired_rules,
    load,
    rules_for,
)

EXAMPLE = """\
{
  "Windows": {
    "weeknights": {"Days": ["Mon", "Tue", "Wed", "Thu", "Fri"], "Start": "22:00", "End": "06:00", "TimeZone": "Europe/Berlin"},
    "weekend": {"Days": ["Sat"], "Start": "08:00", "End": "20:00", "TimeZone": "UTC"}
  },
  "Freezes": [
    {"Name": "year-end", "From": "2026-12-20T00:00", "To": "2027-01-04T00:00", "TimeZone": "Europe/Berlin", "Kind": "hard"},
    {"Name": "launch", "From": "2027-03-01T00:00", "To": "2027-03-08T00:00", "TimeZone": "UTC", "Kind": "soft"}
  ],
  "ChangeCalendar": "drift-healer-freezes",
  "Tiers": {
    "critical": {"Approval": "always", "Windows": ["weeknights"]},
    "standard": {"Approval": "high", "Windows": ["weeknights", "weekend"]},
    "sandbox": {"Approval": "never", "Windows": []}
  },
  "DefaultTier": "standard",
  "Health": {"Alarms": ["checkout-5xx"], "AlarmPrefix": "prod-", "InsufficientData": "block", "BakeMinutes": 10},
  "AcceptedDrift": [
    {"ResourceType": "AWS::AutoScaling::AutoScalingGroup", "LogicalId": "*", "PropertyPath": "/DesiredCapacity", "Reason": "the autoscaler owns it", "Owner": "team-a@example.com", "Expires": "2027-06-30"}
  ]
}
"""  # noqa: E501
WINDOW = {"Days": ["Mon"], "Start": "22:00", "End": "06:00", "TimeZone": "UTC"}
RULE = {
    "ResourceType": "*",
    "LogicalId": "*",
    "PropertyPath": "*",
    "Reason": "known",
    "Owner": "team-a@example.com",
    "Expires": "2027-06-30",
}
#: One problem as load reports it: "source, line N: path: what is wrong; the fix".
PROBLEM = re.compile(
    r"(?P<source>[^,]+), line (?P<line>[0-9]+): "
    r"(?P<path>the document|(?:[^\s\[]|\[[^\]]*\])+): (?P<what>.+); .+"
)


def policy(**document: Any) -> ChangePolicy:
    return load(json.dumps(document), "test")


def problems(text: str, source: str = "policy.json") -> list[re.Match[str]]:
    """The problems load reports for ``text``, each checked to have the promised form."""
    with pytest.raises(PolicyInvalid) as caught:
        load(dedent(text), source)
    found = []
    for line in str(caught.value).splitlines():
        match = PROBLEM.fullmatch(line)
        assert match is not None, line
        assert match["source"] == source
        found.append(match)
    return found


def only(text: str) -> tuple[int, str, str]:
    """The one problem of ``text``: its line, its path and the whole message."""
    (problem,) = problems(text)
    return int(problem["line"]), problem["path"], problem.group()


# --- loading -----------------------------------------------------------------------------------


def test_the_example_loads_with_its_accessors() -> None:
    loaded = load(EXAMPLE, "example.json")
    nights = loaded.windows["weeknights"]
    assert nights.days == (0, 1, 2, 3, 4)
    assert (nights.start, nights.end, nights.timezone) == (time(22), time(6), "Europe/Berlin")
    assert loaded.windows["weekend"].days == (5,)
    year_end, launch = loaded.freezes
    assert year_end.name == "year-end" and year_end.hard and not launch.hard
    assert year_end.start.astimezone(UTC) == datetime(2026, 12, 19, 23, tzinfo=UTC)
    assert year_end.end.astimezone(UTC) == datetime(2027, 1, 3, 23, tzinfo=UTC)
    assert launch.start == datetime(2027, 3, 1, tzinfo=UTC)
    assert year_end.start.utcoffset() is not None  # aware
    assert loaded.change_calendar == "drift-healer-freezes"
    assert loaded.tiers["critical"].approval == "always"
    assert loaded.tiers["critical"].windows == ("weeknights",)
    assert loaded.tiers["sandbox"].windows == ()
    assert loaded.default_tier == "standard"
    assert loaded.health is not None
    assert loaded.health.alarms == ("checkout-5xx",) and loaded.health.alarm_prefix == "prod-"
    assert (loaded.health.insufficient_data, loaded.health.bake_minutes) == ("block", 10)
    (rule,) = loaded.accepted_drift
    assert rule.property_path == "/DesiredCapacity" and rule.expires == date(2027, 6, 30)


def test_the_document_round_trips() -> None:
    loaded = load(EXAMPLE, "example.json")
    again = load(json.dumps(loaded.model_dump(mode="json", by_alias=True)), "dumped")
    assert again == loaded


def test_an_empty_document_is_valid_and_asks_for_nothing() -> None:
    empty = load("{}", "empty")
    assert empty.windows == {} and empty.freezes == [] and empty.tiers == {}
    assert empty.default_tier is None and empty.health is None and empty.accepted_drift == []
    assert empty.change_calendar is None


def test_defaults() -> None:
    loaded = policy(
        Tiers={"standard": {}},
        Health={"AlarmPrefix": "prod-"},
        Freezes=[{"Name": "f", "From": "2027-01-01", "To": "2027-01-02", "TimeZone": "UTC"}],
    )
    assert loaded.default_tier == "standard"  # a tier named standard is the default
    assert loaded.tiers["standard"].approval == "high"
    assert loaded.tiers["standard"].windows is None
    assert loaded.health is not None
    assert (loaded.health.insufficient_data, loaded.health.bake_minutes) == ("block", 5)
    (freeze,) = loaded.freezes
    assert freeze.hard  # a freeze is hard unless it says soft
    assert freeze.start == datetime(2027, 1, 1, tzinfo=UTC)  # a date means its 00:00
    assert policy(Tiers={"gold": {}}).default_tier is None


# --- what is wrong, where, and the fix ---------------------------------------------------------


def test_unknown_key_suggests_the_near_miss() -> None:
    line, path, message = only(
        """\
        {
          "Window": {}
        }
        """
    )
    assert (line, path) == (2, "Window")
    assert "unknown key; did you mean Windows?" in message


def test_unknown_nested_key_names_its_place_and_the_keys_there() -> None:
    line, path, message = only(
        """\
        {
          "Tiers": {
            "critical": {
              "Windows": [],
              "approval": "always"
            }
          }
        }
        """
    )
    assert (line, path) == (5, "Tiers.critical.approval")
    assert "did you mean Approval?" in message and "the keys here are Approval, Windows" in message


def test_snake_case_names_are_unknown_keys() -> None:
    line, path, message = only('{"Tiers": {"gold": {}},\n "default_tier": "gold"}')
    assert (line, path) == (2, "default_tier") and "did you mean DefaultTier?" in message


def test_an_unknown_key_without_a_near_miss_is_to_be_removed() -> None:
    _, _, message = only('{"Colour": "blue"}')
    assert "unknown key; remove it" in message


def test_bad_day_name() -> None:
    line, path, message = only(
        """\
        {
          "Windows": {
            "nights": {
              "Days": [
                "Mon",
                "Tues"
              ],
              "Start": "22:00", "End": "06:00", "TimeZone": "UTC"
            }
          }
        }
        """
    )
    assert (line, path) == (6, "Windows.nights.Days[1]")
    assert '"Tues" is not a day name; did you mean Tue?' in message


@pytest.mark.parametrize(
    ("freeze", "path"),
    [
        ({"From": "0001-01-01", "To": "2030-01-01"}, "Freezes[0].From"),
        ({"From": "2030-01-01", "To": "9999-12-31T20:00"}, "Freezes[0].To"),
    ],
)
def test_a_date_near_the_ends_of_time_is_out_of_range_not_a_crash(
    freeze: dict[str, str], path: str
) -> None:
    """ "Since forever" and "until further notice" overflow a time zone's offset: a line that
    names the range, not an OverflowError."""
    document = {"Freezes": [{"Name": "f", "TimeZone": "America/Los_Angeles", **freeze}]}
    _, found, message = only(json.dumps(document))
    assert found == path and "is out of range; use a year from 1971 to 9998" in message


def test_a_number_too_long_to_read_is_a_policy_error() -> None:
    with pytest.raises(change_policy.PolicyInvalid, match="a change policy's numbers are small"):
        change_policy.load('{"Health": {"BakeMinutes": ' + "9" * 5000 + "}}", "p")


def test_the_time_zone_hint_never_suggests_localtime() -> None:
    _, _, message = only(json.dumps({"Windows": {"n": dict(WINDOW, TimeZone="local time")}}))
    assert "localtime" not in message and "IANA name" in message


def test_a_list_of_only_bad_days_is_one_problem_not_two() -> None:
    """Pydantic also finds the list empty once its only item is refused: the item says why."""
    line, path, message = only(json.dumps({"Windows": {"nights": dict(WINDOW, Days=["Funday"])}}))
    assert (line, path) == (1, "Windows.nights.Days[0]")
    assert '"Funday" is not a day name' in message


def test_days_are_named_once_and_at_least_one() -> None:
    twice = dict(WINDOW, Days=["Mon", "Tue", "Mon"])
    _, path, message = only(json.dumps({"Windows": {"w": twice}}))
    assert path == "Windows.w.Days" and "Mon listed twice" in message
    _, path, message = only(json.dumps({"Windows": {"w": dict(WINDOW, Days=[])}}))
    assert path == "Windows.w.Days" and "must not be empty" in message
    unordered = policy(Windows={"w": dict(WINDOW, Days=["Sun", "Fri", "Mon"])})
    assert unordered.windows["w"].days == (0, 4, 6)


def test_end_equal_to_start() -> None:
    line, path, message = only(
        """\
        {
          "Windows": {
            "nights": {"Days": ["Mon"], "Start": "22:00",
                       "End": "22:00", "TimeZone": "UTC"}
          }
        }
        """
    )
    assert (line, path) == (4, "Windows.nights.End")
    assert "End is Start (22:00)" in message and "set End to when it closes" in message


def test_a_time_is_24_hour_hh_mm() -> None:
    for wrong in ("8:00", "24:00", "22:00:00", "10pm"):
        _, path, message = only(json.dumps({"Windows": {"w": dict(WINDOW, Start=wrong)}}))
        assert path == "Windows.w.Start" and "write it as 24-hour HH:MM" in message


def test_unknown_time_zone() -> None:
    line, path, message = only(
        """\
        {
          "Freezes": [
            {"Name": "x", "From": "2027-01-01", "To": "2027-01-02", "TimeZone": "UTC"},
            {"Name": "y", "From": "2027-01-01", "To": "2027-01-02",
             "TimeZone": "Europe/Berln"}
          ]
        }
        """
    )
    assert (line, path) == (5, "Freezes[1].TimeZone")
    assert '"Europe/Berln" is not a time zone; did you mean Europe/Berlin?' in message
    _, _, message = only(json.dumps({"Windows": {"w": dict(WINDOW, TimeZone="Nowhere")}}))
    assert "use an IANA name like Europe/Berlin" in message
    # the machine's zone is no place: it may differ between a laptop and Lambda
    _, _, message = only(json.dumps({"Windows": {"w": dict(WINDOW, TimeZone="localtime")}}))
    assert '"localtime" is not a time zone' in message


def test_from_not_before_to() -> None:
    line, path, message = only(
        """\
        {
          "Freezes": [
            {"Name": "launch", "TimeZone": "UTC",
             "From": "2027-03-08T00:00",
             "To": "2027-03-01T00:00"}
          ]
        }
        """
    )
    assert (line, path) == (5, "Freezes[0].To")
    assert "To (2027-03-01T00:00) is not after From (2027-03-08T00:00) in UTC" in message
    same = {"Name": "x", "TimeZone": "UTC", "From": "2027-03-08", "To": "2027-03-08T00:00"}
    assert only(json.dumps({"Freezes": [same]}))[1] == "Freezes[0].To"


def test_from_and_to_inside_one_daylight_saving_gap_are_empty() -> None:
    gap = {"Name": "x", "TimeZone": "Europe/Berlin"}
    gap |= {"From": "2027-03-28T02:15", "To": "2027-03-28T02:45"}
    _, path, message = only(json.dumps({"Freezes": [gap]}))
    assert path == "Freezes[0].To" and "daylight saving skips" in message


@pytest.mark.parametrize(
    ("value", "why"),
    [("2027-02-30T10:00", "not a real date"), ("2027-03-01 10:00", "YYYY-MM-DDTHH:MM")],
)
def test_bad_local_date_time(value: str, why: str) -> None:
    freeze = {"Name": "x", "TimeZone": "UTC", "From": value, "To": "2028-01-01"}
    _, path, message = only(json.dumps({"Freezes": [freeze]}))
    assert path == "Freezes[0].From" and why in message


def test_tier_naming_an_unknown_window() -> None:
    line, path, message = only(
        """\
        {
          "Windows": {"weeknights": {"Days": ["Mon"], "Start": "22:00", "End": "06:00",
                                     "TimeZone": "UTC"}},
          "Tiers": {
            "critical": {
              "Windows": [
                "weeknights",
                "weeknight"
              ]
            }
          }
        }
        """
    )
    assert (line, path) == (8, "Tiers.critical.Windows[1]")
    assert '"weeknight" is not a window of the document; did you mean weeknights?' in message


def test_several_unknown_windows_each_have_their_line() -> None:
    found = problems(
        """\
        {
          "Tiers": {
            "a": {"Windows": ["x"]},
            "b": {"Windows": ["y"]}
          }
        }
        """
    )
    assert [(p["line"], p["path"]) for p in found] == [
        ("3", "Tiers.a.Windows[0]"),
        ("4", "Tiers.b.Windows[0]"),
    ]
    assert "the document has no Windows; add it there" in found[0].group()


def test_default_tier_unknown() -> None:
    line, path, message = only(
        """\
        {
          "Tiers": {"critical": {}, "sandbox": {}},
          "DefaultTier": "standard"
        }
        """
    )
    assert (line, path) == (3, "DefaultTier")
    assert '"standard" is not a tier of the document' in message
    assert "use one of critical, sandbox" in message
    _, _, message = only('{"DefaultTier": "standard"}')
    assert "the document has no Tiers" in message


@pytest.mark.parametrize("expires", ["2027-13-01", "30/06/2027", "2027-06-30T00:00", 20270630])
def test_bad_expires(expires: object) -> None:
    text = '{"AcceptedDrift": [\n' + json.dumps(dict(RULE, Expires=expires)) + "\n]}"
    line, path, message = only(text)
    assert (line, path) == (2, "AcceptedDrift[0].Expires")
    assert "YYYY-MM-DD" in message or "not a real date" in message


def test_accepted_drift_rule_fields() -> None:
    wrong = dict(RULE, ResourceType="AWS::EC2::*", PropertyPath="Tags/*", Owner=" ")
    found = problems(json.dumps({"AcceptedDrift": [wrong]}))
    assert {p["path"]: p.group() for p in found}.keys() == {
        "AcceptedDrift[0].ResourceType",
        "AcceptedDrift[0].PropertyPath",
        "AcceptedDrift[0].Owner",
    }
    assert "write it like /Tags/* or *" in found[1].group()
    missing = {k: v for k, v in RULE.items() if k != "Owner"}
    _, path, message = only(json.dumps({"AcceptedDrift": [missing]}))
    assert path == "AcceptedDrift[0].Owner" and 'required; add it, like "Owner":' in message


def test_a_missing_key_is_reported_on_its_object() -> None:
    line, path, message = only(
        """\
        {
          "Windows": {
            "nights": {
              "Days": ["Mon"], "Start": "22:00", "End": "06:00"
            }
          }
        }
        """
    )
    assert (line, path) == (3, "Windows.nights.TimeZone")
    assert 'required; add it, like "TimeZone": "Europe/Berlin"' in message


@pytest.mark.parametrize(
    ("health", "path", "why"),
    [
        ({"Alarms": ["a"], "BakeMinutes": 121}, "Health.BakeMinutes", "less than or equal to 120"),
        ({"Alarms": ["a"], "BakeMinutes": True}, "Health.BakeMinutes", "whole number"),
        ({"Alarms": ["a"], "BakeMinutes": "5"}, "Health.BakeMinutes", "whole number"),
        ({"Alarms": ["a"], "InsufficientData": "ok"}, "Health.InsufficientData", '"block"'),
        ({"BakeMinutes": 5}, "Health", "names no alarm to watch"),
        ({"Alarms": "checkout-5xx"}, "Health.Alarms", "must be a JSON array"),
    ],
)
def test_health(health: dict[str, Any], path: str, why: str) -> None:
    _, found, message = only(json.dumps({"Health": health}))
    assert found == path and why in message


def test_names_a_tag_can_carry() -> None:
    line, path, message = only('{"Tiers": {\n"Critical": {}}}')
    assert (line, path) == (2, "Tiers.Critical")
    assert 'the tier name "Critical" is not lowercase' in message and '"critical"' in message
    _, path, _ = only(json.dumps({"Windows": {"week end": WINDOW}}))
    assert path == 'Windows["week end"]'


def test_type_errors_show_the_form() -> None:
    _, path, message = only('{"Freezes": {}}')
    assert path == "Freezes" and "must be a JSON array; write it like [{" in message
    _, path, message = only('{"Tiers": {"a": {"Approval": "sometimes"}}}')
    assert path == "Tiers.a.Approval"
    assert '"sometimes" is not "never", "high" or "always"' in message
    _, path, message = only('{"ChangeCalendar": ""}')
    assert path == "ChangeCalendar" and "must not be empty" in message
    assert "at most 1011" in only(json.dumps({"ChangeCalendar": "x" * 1012}))[2]


def test_the_document_must_be_an_object() -> None:
    line, path, message = only('\n  ["Windows"]')
    assert (line, path) == (2, "the document")
    assert "policy.json, line 2: the document: must be a JSON object" in message


def test_a_duplicate_key_is_an_error() -> None:
    line, path, message = only('{"Tiers": {},\n "Tiers": {"gold": {}}}')
    assert (line, path) == (2, "Tiers") and "duplicate key" in message


def test_several_errors_are_reported_together_in_document_order() -> None:
    found = problems(
        """\
        {
          "Windows": {
            "nights": {"Days": ["Mon"], "Start": "22:00", "End": "22:00", "TimeZone": "UTC"}
          },
          "Health": {"Alarms": ["a"], "BakeMinutes": -1},
          "DefaultTiers": "standard",
          "AcceptedDrift": [
            {"ResourceType": "*", "LogicalId": "*", "PropertyPath": "*", "Reason": "r",
             "Owner": "o", "Expires": "soon"}
          ]
        }
        """
    )
    assert [(p["line"], p["path"]) for p in found] == [
        ("3", "Windows.nights.End"),
        ("5", "Health.BakeMinutes"),
        ("6", "DefaultTiers"),
        ("9", "AcceptedDrift[0].Expires"),
    ]


def test_many_errors_are_cut_and_counted() -> None:
    document = {"Tiers": {f"t{i}": {"Approval": "maybe"} for i in range(MAX_PROBLEMS + 3)}}
    with pytest.raises(PolicyInvalid) as caught:
        load(json.dumps(document, indent=1), "many")
    lines = str(caught.value).splitlines()
    assert len(lines) == MAX_PROBLEMS + 1
    assert lines[-1].startswith("many: and 3 more problems")


def test_json_syntax_error_names_its_line() -> None:
    with pytest.raises(PolicyInvalid) as caught:
        load('{\n  "Windows": {},\n  "Tiers": {},\n}\n', "ssm:/drift-healer/policy")
    message = str(caught.value)
    assert message.startswith("ssm:/drift-healer/policy, line 4: column 1: ")
    assert "fix the JSON" in message
    with pytest.raises(PolicyInvalid, match=r"^s, line 1: column 1: Expecting value"):
        load("", "s")


# --- the positions of keys in the text ---------------------------------------------------------

JSON_KEYS = st.text(st.characters(codec="utf-8"), max_size=6)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | JSON_KEYS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(JSON_KEYS, inner, max_size=4),
    max_leaves=25,
)


def _indented_lines(value: Any, path: tuple[Any, ...], line: int, out: dict[Any, int]) -> int:
    """Where json.dumps(indent=1) puts each key and item (one a line, an empty container
    inline, a closing bracket on a line of its own); the line of the container's last line."""
    members = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
    for key, member in members:
        line += 1
        out[(*path, key)] = line
        if isinstance(member, (dict, list)) and member:
            line = _indented_lines(member, (*path, key), line, out)
    return line + 1 if members else line


@given(st.dictionaries(JSON_KEYS, JSON_VALUES, max_size=5))
def test_positions_find_the_line_of_every_key_and_item(document: dict[str, Any]) -> None:
    text = json.dumps(document, indent=1, ensure_ascii=False)
    expected: dict[Any, int] = {(): 1}
    _indented_lines(document, (), 1, expected)
    where = change_policy._Positions(text)
    assert where.lines == expected and where.duplicates == []


def test_positions_of_a_missing_key_fall_back_to_its_object() -> None:
    where = change_policy._Positions('{"a":\n [1,\n {"b": 2}]}')
    assert where.line(("a", 1, "b")) == 3
    assert where.line(("a", 1, "c")) == 3
    assert where.line(("a", 0)) == 2
    assert where.line(("z",)) == 1


# --- the rules of a stack ----------------------------------------------------------------------


def test_rules_without_tags_are_the_default_tiers() -> None:
    loaded = load(EXAMPLE, "example.json")
    assert rules_for(loaded, {}) == StackRules("standard", "high", ("weeknights", "weekend"))
    assert rules_for(loaded, {"drift-healer:tier": "critical"}) == StackRules(
        "critical", "always", ("weeknights",)
    )
    assert rules_for(loaded, {"drift-healer:tier": "sandbox"}) == StackRules("sandbox", "never", ())


def test_rules_of_an_empty_policy_ask_for_nothing_special() -> None:
    assert rules_for(load("{}", "empty"), {"Owner": "me"}) == StackRules(None, "high", ())


def test_a_tier_without_windows_gets_all_the_documents_windows() -> None:
    loaded = policy(Windows={"a": WINDOW, "b": WINDOW}, Tiers={"gold": {"Approval": "always"}})
    assert loaded.default_tier is None
    assert rules_for(loaded, {}) == StackRules(None, "high", ("a", "b"))
    assert rules_for(loaded, {"drift-healer:tier": "gold"}) == StackRules(
        "gold", "always", ("a", "b")
    )


def test_the_window_tag_overrides_the_tiers_windows() -> None:
    loaded = load(EXAMPLE, "example.json")
    tags = {"drift-healer:tier": "critical", "drift-healer:window": "weekend"}
    assert rules_for(loaded, tags) == StackRules("critical", "always", ("weekend",))
    tags = {"drift-healer:window": " weekend , weeknights,weekend"}
    assert rules_for(loaded, tags).windows == ("weekend", "weeknights")


def test_an_unknown_tier_tag_raises_naming_the_tag_and_the_tiers() -> None:
    loaded = load(EXAMPLE, "example.json")
    with pytest.raises(PolicyInvalid) as caught:
        rules_for(loaded, {"drift-healer:tier": "CRITICAL"})
    message = str(caught.value)
    assert 'drift-healer:tier="CRITICAL"' in message and "did you mean critical?" in message
    assert "critical, standard, sandbox" in message
    with pytest.raises(PolicyInvalid, match="the change policy has none"):
        rules_for(load("{}", "empty"), {"drift-healer:tier": "gold"})


@pytest.mark.parametrize(
    ("value", "named"),
    [("weekday", '"weekday"'), ("weekend,holidays", '"holidays"'), (" , ", '" , "')],
)
def test_an_unknown_window_tag_raises(value: str, named: str) -> None:
    loaded = load(EXAMPLE, "example.json")
    with pytest.raises(PolicyInvalid) as caught:
        rules_for(loaded, {"drift-healer:tier": "sandbox", "drift-healer:window": value})
    message = str(caught.value)
    assert f"drift-healer:window={named} names no window" in message
    assert "use one of weeknights, weekend" in message


# --- accepted drift ----------------------------------------------------------------------------


def resource(
    logical_id: str,
    *paths: str,
    resource_type: str = "AWS::SQS::Queue",
    status: str = "MODIFIED",
    omitted: int = 0,
) -> DriftedResource:
    return DriftedResource(
        logical_resource_id=logical_id,
        resource_type=resource_type,
        stack_resource_drift_status=status,
        property_differences=[
            PropertyDifference(property_path=p, difference_type="NOT_EQUAL") for p in paths
        ],
        omitted_differences=omitted,
    )


def rules(*overrides: dict[str, str]) -> ChangePolicy:
    return policy(AcceptedDrift=[dict(RULE, **o) for o in overrides])


TODAY = date(2027, 6, 1)


def test_rules_match_by_type_logical_id_and_path_pattern() -> None:
    loaded = rules(
        {"ResourceType": "AWS::SQS::Queue", "LogicalId": "Queue*", "PropertyPath": "/Tags/*"},
        {"ResourceType": "AWS::SNS::Topic", "LogicalId": "*", "PropertyPath": "/DisplayName"},
    )
    drifted = [
        resource("QueueA", "/Tags/2/Value"),  # accepted by rule 0
        resource("Other", "/Tags/2/Value"),  # logical id does not match
        resource("QueueB", "/Tags/0/Key", resource_type="AWS::SNS::Topic"),  # type differs
        resource("Topic", "/DisplayName", resource_type="AWS::SNS::Topic"),  # rule 1
        resource("QueueC", "/VisibilityTimeout"),  # path does not match
        resource("queued", "/Tags/1/Value"),  # patterns are case-sensitive
    ]
    accepted, counting = accepted_drift(loaded, drifted, TODAY)
    assert [(a.logical_resource_id, a.property_path, a.rule) for a in accepted] == [
        ("QueueA", "/Tags/2/Value", 0),
        ("Topic", "/DisplayName", 1),
    ]
    assert accepted[0] == Accepted(
        "QueueA", "/Tags/2/Value", 0, "known", "team-a@example.com", date(2027, 6, 30)
    )
    assert [r.logical_resource_id for r in counting] == ["Other", "QueueB", "QueueC", "queued"]
    assert counting[0] is drifted[1]  # untouched resources are passed through as they are


def test_a_resource_partly_accepted_counts_with_what_is_left() -> None:
    loaded = rules({"LogicalId": "Asg", "PropertyPath": "/DesiredCapacity"})
    drifted = [resource("Asg", "/DesiredCapacity", "/MaxSize")]
    accepted, counting = accepted_drift(loaded, drifted, TODAY)
    assert [a.property_path for a in accepted] == ["/DesiredCapacity"]
    (left,) = counting
    assert [d.property_path for d in left.property_differences] == ["/MaxSize"]
    assert drifted[0].property_differences[0].property_path == "/DesiredCapacity"  # unchanged


def test_the_first_matching_rule_is_the_one_recorded() -> None:
    loaded = rules(
        {"LogicalId": "Nothing*"},
        {"PropertyPath": "/Tags/*", "Reason": "tags"},
        {"Reason": "anything"},
    )
    accepted, counting = accepted_drift(loaded, [resource("Q", "/Tags/1/Value", "/X")], TODAY)
    assert [(a.property_path, a.rule, a.reason) for a in accepted] == [
        ("/Tags/1/Value", 1, "tags"),
        ("/X", 2, "anything"),
    ]
    assert counting == []


def test_expiry_is_inclusive_of_its_day_and_not_after() -> None:
    loaded = rules({"Expires": "2027-06-30"})
    drifted = [resource("Q", "/X")]
    assert accepted_drift(loaded, drifted, date(2027, 6, 30))[1] == []
    assert expired_rules(loaded, date(2027, 6, 30)) == []
    accepted, counting = accepted_drift(loaded, drifted, date(2027, 7, 1))
    assert accepted == [] and counting == drifted
    assert expired_rules(loaded, date(2027, 7, 1)) == [0]


def test_expired_rules_lists_only_the_expired() -> None:
    loaded = rules({"Expires": "2027-01-01"}, {"Expires": "2028-01-01"}, {"Expires": "2026-05-05"})
    assert expired_rules(loaded, TODAY) == [0, 2]
    expired_first = rules({"Expires": "2027-01-01", "Reason": "old"}, {"Reason": "new"})
    accepted, _ = accepted_drift(expired_first, [resource("Q", "/X")], TODAY)
    assert [(a.rule, a.reason) for a in accepted] == [(1, "new")]


def test_a_deleted_resource_is_accepted_only_by_a_rule_for_any_path() -> None:
    deleted = resource("Gone", status="DELETED")
    by_path = rules({"PropertyPath": "/*"})
    assert accepted_drift(by_path, [deleted], TODAY) == ([], [deleted])
    any_path = rules({"PropertyPath": "/*"}, {"LogicalId": "Gone", "PropertyPath": "*"})
    accepted, counting = accepted_drift(any_path, [deleted], TODAY)
    assert counting == []
    assert [(a.logical_resource_id, a.property_path, a.rule) for a in accepted] == [("Gone", "", 1)]
    other = rules({"LogicalId": "Kept"})
    assert accepted_drift(other, [deleted], TODAY) == ([], [deleted])
    # whatever it lists, a DELETED resource is gone as a whole: only "*" accepts that
    listed = resource("Gone", "/X", status="DELETED")
    assert accepted_drift(by_path, [listed], TODAY) == ([], [listed])


def test_omitted_differences_count_unless_any_path_is_accepted() -> None:
    partial = resource("Q", "/Tags/1/Value", omitted=3)
    tags_only = rules({"PropertyPath": "/Tags/*"})
    accepted, (left,) = accepted_drift(tags_only, [partial], TODAY)
    assert len(accepted) == 1
    assert left.property_differences == [] and left.omitted_differences == 3
    accepted, counting = accepted_drift(rules({}), [partial], TODAY)
    assert len(accepted) == 1 and counting == []


def test_no_rules_accept_nothing() -> None:
    drifted = [resource("Q", "/X"), resource("Gone", status="DELETED")]
    assert accepted_drift(load("{}", "empty"), drifted, TODAY) == ([], drifted)


# --- freezes and daylight saving ---------------------------------------------------------------


def freeze(start: str, end: str, zone: str = "Europe/Berlin") -> Any:
    (found,) = policy(Freezes=[{"Name": "f", "From": start, "To": end, "TimeZone": zone}]).freezes
    return found


def test_a_freeze_from_a_time_skipped_by_daylight_saving_starts_at_the_end_of_the_gap() -> None:
    # 2027-03-28: Berlin's clocks go from 02:00 CET to 03:00 CEST (01:00Z); 02:30 never happens
    found = freeze("2027-03-28T02:30", "2027-03-29T00:00")
    assert found.start.astimezone(UTC) == datetime(2027, 3, 28, 1, tzinfo=UTC)
    assert found.start.isoformat() == "2027-03-28T03:00:00+02:00"
    assert str(found.start.tzinfo) == "Europe/Berlin"
    assert found.end.astimezone(UTC) == datetime(2027, 3, 28, 22, tzinfo=UTC)  # CEST


def test_a_freeze_at_a_repeated_time_takes_its_first_occurrence() -> None:
    # 2027-10-31: 03:00 CEST becomes 02:00 CET (01:00Z); 02:30 happens twice
    found = freeze("2027-10-30T12:00", "2027-10-31T02:30")
    assert found.end.astimezone(UTC) == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
    assert found.start.astimezone(UTC) == datetime(2027, 10, 30, 10, tzinfo=UTC)


def test_a_freeze_across_a_skipped_day() -> None:
    # Samoa skipped 2011-12-30 entirely (midnight of the 30th was midnight of the 31st)
    found = freeze("2011-12-30T10:00", "2011-12-31T10:00", "Pacific/Apia")
    assert found.start.astimezone(UTC) == datetime(2011, 12, 30, 10, tzinfo=UTC)
    assert found.start.isoformat() == "2011-12-31T00:00:00+14:00"
    assert found.end.astimezone(UTC) == datetime(2011, 12, 30, 20, tzinfo=UTC)
