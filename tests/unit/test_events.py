"""The event contract (DESIGN §3.1): what parse_request accepts, what it refuses, and how it says
so: the field by name, the fix, and never more than a short prefix of a value."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import botocore
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drift_healer.errors import InvalidRequest
from drift_healer.models import PARTITION_REGIONS, SHOWN, HealRequest, _explain, parse_request

FIELDS = ("StackName", "CreateChangeSetOnly", "DryRun", "RequireApproval", "Region", "RoleArn")
FLAGS = ("CreateChangeSetOnly", "DryRun", "RequireApproval")
ALLOWED = (
    "unknown field (allowed: StackName, CreateChangeSetOnly, DryRun, RequireApproval, Region, "
    "RoleArn; names are case-sensitive)"
)
STACK = (
    "arn:aws:cloudformation:us-east-1:123456789012:stack/app/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
)
ROLE = "arn:aws:iam::123456789012:role/drift-healer/DriftHealerMember"
ARN = "arn:aws:cloudformation:us-east-1:123456789012:stack"
IAM = "arn:aws:iam::123456789012:role"
CN_STACK = "arn:aws-cn:cloudformation:cn-north-1:123456789012:stack/app/1"
#: The longest message an invalid event may get (five problems, each quoting two short prefixes).
LONGEST = 2000

BOTOCORE_DATA = Path(botocore.__file__).parent / "data"


def botocore_partitions(name: str = "partitions.json") -> list[dict[str, Any]]:
    data: dict[str, Any] = json.loads((BOTOCORE_DATA / name).read_text())
    return list(data["partitions"])


#: Every region botocore knows, by partition ("aws-global" and the like are not regions).
REGIONS = {
    p["id"]: sorted(r for r in p["regions"] if not r.endswith("-global"))
    for p in botocore_partitions()
}


# ------------------------------------------------------------------------------ valid events
@pytest.mark.parametrize(
    "event",
    [
        {"StackName": "x"},
        {"StackName": "app"},
        {"StackName": "app", "CreateChangeSetOnly": True},
        {"StackName": "app", "DryRun": True, "CreateChangeSetOnly": False},
        {"StackName": STACK, "Region": "us-east-1"},
        {"StackName": STACK, "DryRun": False},
        {"StackName": "app", "Region": "eu-west-1", "RoleArn": ROLE},
        {"StackName": "x", "RoleArn": "arn:aws:iam::123456789012:role/Healer"},
        {"StackName": "app", "Region": None, "RoleArn": None},
        {"StackName": "A" + "-b9" * 42 + "c"},  # 128 characters
        {"StackName": "app", "RoleArn": "arn:aws:iam::123456789012:role/a+=,.@_-/b+=,.@_-"},
        {"StackName": "app", "RoleArn": "arn:aws:iam::123456789012:role/" + "n" * 64},
        {
            "StackName": "arn:aws-us-gov:cloudformation:us-gov-west-1:123456789012:stack/a/1",
            "RoleArn": "arn:aws-us-gov:iam::123456789012:role/Healer",
        },
        {
            "StackName": "app",
            "Region": "cn-north-1",
            "RoleArn": "arn:aws-cn:iam::123456789012:role/H",
        },
        {
            "StackName": CN_STACK,
            "Region": "cn-north-1",
            "RoleArn": "arn:aws-cn:iam::123456789012:role/H",
        },
    ],
)
def test_valid_events(event: dict[str, Any]) -> None:
    request = parse_request(event)
    assert request.stack_name == event["StackName"]
    assert request.event() == {k: v for k, v in event.items() if v not in (None, False)}
    assert parse_request(request.event()) == request


@pytest.mark.parametrize(
    "region",
    [
        "us-east-1",
        "eu-central-2",
        "us-gov-west-1",
        "cn-north-1",
        "ap-southeast-5",
        "il-central-1",
        "mx-central-1",
        "eusc-de-east-1",
        "us-isob-east-1",
        "eu-isoe-west-1",
        "us-isof-south-1",
    ],
)
def test_regions_of_every_partition(region: str) -> None:
    assert parse_request({"StackName": "app", "Region": region}).stack_region == region


def test_the_partitions_are_botocores() -> None:
    """The model keeps a literal copy (it may not import botocore); it must not drift from it."""
    assert {p["id"]: p["regionRegex"] for p in botocore_partitions()} == PARTITION_REGIONS
    endpoints = botocore_partitions("endpoints.json")
    assert {p["partition"]: p["regionRegex"] for p in endpoints} == PARTITION_REGIONS


@pytest.mark.parametrize("partition", sorted(REGIONS))
def test_every_region_botocore_knows_is_one_of_its_partition(partition: str) -> None:
    assert REGIONS[partition]
    for region in REGIONS[partition]:
        stack = f"arn:{partition}:cloudformation:{region}:123456789012:stack/app/1"
        role = f"arn:{partition}:iam::123456789012:role/Healer"
        assert parse_request({"StackName": "app", "Region": region, "RoleArn": role})
        assert parse_request({"StackName": stack, "Region": region, "RoleArn": role})
        for other in set(REGIONS) - {partition}:  # a region belongs to one partition only
            wrong = stack.replace(f"arn:{partition}:", f"arn:{other}:")
            with pytest.raises(InvalidRequest, match=f"its region '{region}' is not one of"):
                parse_request({"StackName": wrong})


# ------------------------------------------------------------------------------ snake_case
@pytest.mark.parametrize(
    "event",
    [
        {"stack_name": "app"},
        {"StackName": "app", "dry_run": True},
        {"StackName": "app", "create_change_set_only": True},
        {"StackName": "app", "require_approval": True},
        {"StackName": "app", "region": "eu-west-1"},
        {"StackName": "app", "role_arn": ROLE},
    ],
)
def test_an_event_uses_the_contracts_names_only(event: dict[str, Any]) -> None:
    [name] = [k for k in event if k != "StackName"]
    meant = name.title().replace("_", "")
    with pytest.raises(InvalidRequest) as error:
        parse_request(event)
    assert f"{name}: {ALLOWED}; did you mean {meant}?" in str(error.value)
    with pytest.raises(ValueError, match=name):
        HealRequest.model_validate(event)
    with pytest.raises(ValueError, match=name):
        HealRequest.model_validate_json(json.dumps(event))


def test_python_code_builds_a_request_by_attribute_name() -> None:
    request = HealRequest(stack_name="app", dry_run=True, region="eu-west-1")
    assert request.event() == {"StackName": "app", "DryRun": True, "Region": "eu-west-1"}
    unchecked = HealRequest.model_construct(stack_name="app", create_change_set_only=True)
    assert unchecked.event() == {"StackName": "app", "CreateChangeSetOnly": True}


# ------------------------------------------------------------------------------ refused
def test_invalid_event_names_the_field_and_the_fix() -> None:
    with pytest.raises(InvalidRequest, match="CreateChangesetOnly: unknown field") as error:
        parse_request({"StackName": "x", "CreateChangesetOnly": True})
    assert "CreateChangeSetOnly" in str(error.value)  # the allowed names are listed


@pytest.mark.parametrize(
    ("event", "field", "fragment"),
    [
        # a trailing newline (which "$" accepts) and other whitespace
        ({"StackName": "app\n"}, "StackName", "'app\\n' is neither a stack name"),
        ({"StackName": " app"}, "StackName", "' app' is neither a stack name"),
        ({"StackName": ""}, "StackName", "String should have at least 1 character"),
        ({"StackName": "a" * 129}, "StackName", "is neither a stack name"),
        ({"StackName": "1app"}, "StackName", "'1app' is neither a stack name"),
        ({"StackName": "app_1"}, "StackName", "'app_1' is neither a stack name"),
        ({"StackName": f"{STACK}\n"}, "StackName", "its stack id '0f1e2d3c-"),
        ({"StackName": "app", "Region": "us-east-1\n"}, "Region", "'us-east-1\\n' is not an AWS"),
        ({"StackName": "app", "RoleArn": f"{ROLE}\n"}, "RoleArn", "'DriftHealerMember\\n' is"),
        # ASCII only (\d and \w match other scripts' digits and letters too)
        ({"StackName": "\u0430pp"}, "StackName", "'\\u0430pp' has a non-ASCII character at"),
        ({"StackName": "app\u0663"}, "StackName", "non-ASCII character at position 3"),
        ({"StackName": "app", "Region": "us-east-\u0661"}, "Region", "non-ASCII character"),
        ({"StackName": "app", "RoleArn": f"{IAM}/Heal\u00e9r"}, "RoleArn", "('\\xe9')"),
        ({"StackName": ARN.replace("123", "\uff11\uff12\uff13")}, "StackName", "non-ASCII"),
        # regions
        ({"StackName": "app", "Region": "mars"}, "Region", "'mars' is not an AWS region name"),
        ({"StackName": "app", "Region": "US-EAST-1"}, "Region", "'US-EAST-1' is not"),
        ({"StackName": "app", "Region": "us_east_1"}, "Region", "'us_east_1' is not"),
        ({"StackName": "app", "Region": "us-east-01"}, "Region", "'us-east-01' is not"),
        ({"StackName": "app", "Region": "us-east"}, "Region", "'us-east' is not"),
        ({"StackName": "app", "Region": "aws-global"}, "Region", "'aws-global' is not"),
        ({"StackName": "app", "Region": "xx-east-1"}, "Region", "'xx-east-1' is not"),
        ({"StackName": "app", "Region": ""}, "Region", "'' is not"),
        ({"StackName": "app", "Region": 1}, "Region", "Input should be a valid string"),
        # stack ARNs: a wildcard or a path in the stack name
        ({"StackName": f"{ARN}/app*/1"}, "StackName", "its stack name 'app*' is not"),
        ({"StackName": f"{ARN}/*/1"}, "StackName", "its stack name '*' is not"),
        ({"StackName": f"{ARN}/app/*"}, "StackName", "its stack id '*' is not"),
        ({"StackName": f"{ARN}/app/1/2"}, "StackName", "its stack id '1/2' is not"),
        ({"StackName": f"{ARN}/team/app/1"}, "StackName", "its stack id 'app/1' is not"),
        ({"StackName": f"{ARN}//1"}, "StackName", "its stack name '' is not"),
        ({"StackName": f"{ARN}/app/"}, "StackName", "its stack id '' is not"),
        ({"StackName": f"{ARN}/app"}, "StackName", "is not a stack ARN like arn:aws:"),
        ({"StackName": f"{ARN}/app/{'1' * 129}"}, "StackName", "its stack id '1111"),
        ({"StackName": ARN.replace(":aws:", ":aws-xx:") + "/a/1"}, "StackName", "'aws-xx' is"),
        ({"StackName": ARN.replace(":aws:", ":awsx:") + "/a/1"}, "StackName", "'awsx' is not"),
        ({"StackName": ARN.replace("us-east-1", "cn-north-1") + "/a/1"}, "StackName", "'cn-n"),
        ({"StackName": ARN.replace("us-east-1", "mars") + "/a/1"}, "StackName", "region 'mars'"),
        ({"StackName": ARN.replace("123456789012", "1234") + "/a/1"}, "StackName", "like arn:"),
        ({"StackName": ARN.replace("stack", "changeSet") + "/a/1"}, "StackName", "like arn:"),
        # role ARNs
        ({"StackName": "app", "RoleArn": "admin"}, "RoleArn", "'admin' is not an IAM role ARN"),
        ({"StackName": "app", "RoleArn": f"{IAM}/"}, "RoleArn", "its role name '' is not"),
        ({"StackName": "app", "RoleArn": f"{IAM}/*"}, "RoleArn", "its role name '*' is not"),
        ({"StackName": "app", "RoleArn": f"{IAM}/a*/b"}, "RoleArn", "its path '/a*/' is not"),
        ({"StackName": "app", "RoleArn": f"{IAM}//b"}, "RoleArn", "its path '//' is not"),
        ({"StackName": "app", "RoleArn": f"{IAM}/{'n' * 65}"}, "RoleArn", "its role name 'nnn"),
        ({"StackName": "app", "RoleArn": f"{IAM}/{'p/' * 256}b"}, "RoleArn", "its path '/p/p"),
        ({"StackName": "app", "RoleArn": f"{IAM}x/b"}, "RoleArn", "is not an IAM role ARN like"),
        ({"StackName": "app", "RoleArn": f"{IAM.replace('role', 'user')}/b"}, "RoleArn", "like"),
        ({"StackName": "app", "RoleArn": f"{IAM.replace('::123', '::1')}/b"}, "RoleArn", "like"),
        (
            {"StackName": "app", "RoleArn": IAM.replace(":aws:", ":aws-xx:") + "/b"},
            "RoleArn",
            "'aws-xx'",
        ),
        # contradictions
        (
            {"StackName": STACK, "Region": "eu-west-1"},
            "Region",
            "Region eu-west-1 contradicts the region of the StackName ARN (us-east-1); drop "
            "Region or fix it",
        ),
        (
            {"StackName": CN_STACK, "RoleArn": ROLE},
            "RoleArn",
            "RoleArn is in the partition aws, the stack in aws-cn (the StackName ARN)",
        ),
        (
            {"StackName": "app", "Region": "us-gov-west-1", "RoleArn": ROLE},
            "RoleArn",
            "RoleArn is in the partition aws, the stack in aws-us-gov (Region us-gov-west-1)",
        ),
        ({"StackName": "app", "DryRun": True, "RequireApproval": True}, "DryRun", "contradict"),
        # types (strict: a string is not a bool, an int is not a string)
        ({"StackName": "app", "DryRun": "true"}, "DryRun", "Input should be a valid boolean"),
        ({"StackName": "app", "DryRun": 1}, "DryRun", "Input should be a valid boolean"),
        ({"StackName": "app", "DryRun": None}, "DryRun", "Input should be a valid boolean"),
        ({"StackName": None}, "StackName", "Input should be a valid string"),
        ({"StackName": ["app"]}, "StackName", "Input should be a valid string"),
        ({}, "StackName", "required"),
    ],
)
def test_refused_with_the_field_and_the_fix(
    event: dict[str, Any], field: str, fragment: str
) -> None:
    with pytest.raises(InvalidRequest) as error:
        parse_request(event)
    message = str(error.value)
    assert message.startswith(f"invalid heal request: {field}"), message
    assert fragment in message, message


# ------------------------------------------------------------------------------ huge values
HUGE = "x" * 2**20


def deep(depth: int = 100_000) -> Any:
    nested: Any = "x"
    for i in range(depth):
        nested = [nested] if i % 2 else {"x": nested}
    return nested


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"StackName": HUGE}, "StackName"),
        ({"StackName": f"{ARN}/{HUGE}/1"}, "StackName"),
        ({"StackName": f"{ARN}/app/{HUGE}"}, "StackName"),
        ({"StackName": ARN.replace(":aws:", f":{HUGE}:") + "/a/1"}, "StackName"),
        ({"StackName": "\u00e9" * 2**20}, "StackName"),  # each escaped to 4 characters
        ({"StackName": "\U0001f600" * 2**20}, "StackName"),  # each escaped to 10 characters
        ({"StackName": "app", "Region": HUGE}, "Region"),
        ({"StackName": "app", "RoleArn": HUGE}, "RoleArn"),
        ({"StackName": "app", "RoleArn": f"{IAM}/{HUGE}"}, "RoleArn"),
        ({"StackName": "app", "RoleArn": f"{IAM}/{HUGE}/b"}, "RoleArn"),
        ({"StackName": "app", HUGE: True}, "'xxxxxxxx"),
        ({"StackName": "app", "DryRun": HUGE}, "DryRun"),
        ({"StackName": "app", **{f"{HUGE[:70]}{i}": i for i in range(10_000)}}, "'xxxxxxxx"),
        ({"StackName": deep()}, "StackName"),
        ({"StackName": "app", "DryRun": deep()}, "DryRun"),
        ({"StackName": "app", "Region": deep()}, "Region"),
        ({"StackName": "app", "Extra": deep()}, "Extra"),
        (deep(), "the event must be a JSON object"),
        ([HUGE], "the event must be a JSON object"),
    ],
    ids=lambda v: v[:12] if isinstance(v, str) else None,
)
def test_a_message_quotes_a_short_prefix_of_a_huge_value_only(event: Any, field: str) -> None:
    with pytest.raises(InvalidRequest) as error:
        parse_request(event)
    message = str(error.value)
    assert message.removeprefix("invalid heal request: ").startswith(field), message[:300]
    assert len(message) <= LONGEST, message[:300]
    assert "x" * (SHOWN + 1) not in message
    assert "\\xe9" * (SHOWN // 4 + 1) not in message
    assert "\\U0001f600" * (SHOWN // 10 + 1) not in message


def test_pydantics_own_messages_are_cut_too() -> None:
    """Should a pydantic message ever include the input, only its prefix is shown."""
    explained = _explain(
        {"type": "string_type", "loc": ("Region",), "msg": f"Bad {HUGE}!", "input": HUGE}
    )
    assert explained.startswith("Bad 'xxxx") and "(1048576 characters)!" in explained
    assert "x" * (SHOWN + 1) not in explained
    long = _explain({"type": "string_type", "loc": ("Region",), "msg": HUGE, "input": 1})
    assert len(long) <= 2 * SHOWN + 1


# ------------------------------------------------------------------------------ properties
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=12,
)
stack_names = st.from_regex(r"[a-zA-Z][-a-zA-Z0-9]{0,127}", fullmatch=True)
accounts = st.from_regex(r"[0-9]{12}", fullmatch=True)
stack_ids = st.uuids().map(str) | st.from_regex(r"[-a-zA-Z0-9]{1,128}", fullmatch=True)
iam_words = st.from_regex(r"[-a-zA-Z0-9_+=,.@]{1,64}", fullmatch=True)
role_paths = st.lists(iam_words, max_size=3).map(lambda ws: "/" + "".join(w + "/" for w in ws))
regions = st.sampled_from([(p, r) for p, rs in REGIONS.items() for r in rs])


@st.composite
def valid_events(draw: st.DrawFn) -> dict[str, Any]:
    """Events the contract accepts."""
    partition, region = draw(regions)
    name = draw(stack_names)
    event: dict[str, Any] = {"StackName": name}
    if draw(st.booleans()):
        account, stack_id = draw(accounts), draw(stack_ids)
        event["StackName"] = (
            f"arn:{partition}:cloudformation:{region}:{account}:stack/{name}/{stack_id}"
        )
    if draw(st.booleans()):
        event["Region"] = region
    if draw(st.booleans()):
        path, role = draw(role_paths), draw(iam_words)
        event["RoleArn"] = f"arn:{partition}:iam::{draw(accounts)}:role{path}{role}"
    on = draw(st.sampled_from((None, *FLAGS)))
    for flag in FLAGS:
        if flag == on:
            event[flag] = True
        elif draw(st.booleans()):
            event[flag] = False
    return dict(draw(st.permutations(list(event.items()))))


#: What makes a valid string field invalid wherever it is put.
poison = st.sampled_from(["\n", "\r\n", " ", "\t", "\x00", "*", "?"]) | st.characters(
    min_codepoint=128
)


@st.composite
def one_field_wrong(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """A valid event with one field made invalid (or one unknown field added); that field."""
    event = draw(valid_events())
    field = draw(st.sampled_from((*FIELDS, "unknown")))
    if field == "unknown":
        key = draw(
            st.sampled_from(["stack_name", "dry_run", "stackname", "DRYRUN", "Dryrun", "Role"])
            | st.text()
        )
        if key in FIELDS:
            key += "_"
        event[key] = draw(json_values)
        return event, key
    if field in FLAGS:
        event[field] = draw(json_values.filter(lambda v: not isinstance(v, bool)))
        return event, field
    good = (
        event.get(field)
        or {
            "StackName": event["StackName"],
            "Region": draw(regions)[1],
            "RoleArn": "arn:aws:iam::123456789012:role/Healer",
        }[field]
    )
    at = draw(st.integers(0, len(good)))
    wrong = st.just(good[:at] + draw(poison) + good[at:])
    if field == "Region":
        wrong |= st.sampled_from([good.upper(), "mars", good + "a", good.replace("-", "_")])
    event[field] = draw(wrong | json_values.filter(lambda v: not isinstance(v, str | None)))
    return event, field


def names_a_field(message: str, event: dict[Any, Any]) -> bool:
    """Does the (first) problem start with the field it is about, as the event spells it?"""
    problem = message.removeprefix("invalid heal request: ")
    plain = [k for k in (*FIELDS, *event) if re.fullmatch(r"[!-~]{1,64}", str(k))]
    return (
        problem.startswith(tuple(f"{k}: " for k in plain))
        or problem.startswith(tuple(f"{f} " for f in FIELDS))  # the request's: Region contradicts
        or (problem.startswith(("'", '"')) and any(k not in plain for k in event))  # an odd key
    )


@given(valid_events())
def test_valid_events_are_accepted(event: dict[str, Any]) -> None:
    request = parse_request(event)
    assert request.event() == {k: v for k, v in event.items() if v is not False}
    arn = event["StackName"].split(":")
    assert request.stack_region == event.get("Region", arn[3] if len(arn) > 1 else None)


@settings(max_examples=400)  # seven ways to be wrong, each several times
@given(one_field_wrong())
def test_an_event_with_one_field_wrong_is_refused_naming_that_field(
    case: tuple[dict[str, Any], str],
) -> None:
    event, field = case
    with pytest.raises(InvalidRequest) as error:
        parse_request(event)
    message = str(error.value)
    assert len(message) <= LONGEST
    assert message.count(": ") >= 1 and names_a_field(message, {field: None}), message
    if re.fullmatch(r"[!-~]{1,64}", field):
        assert message.startswith(f"invalid heal request: {field}: "), message
    if field not in FIELDS:
        assert f": {ALLOWED}" in message


SNAKE_CASE = ("stack_name", "create_change_set_only", "dry_run", "require_approval", "region")
unknown_keys = st.sampled_from(
    [*SNAKE_CASE, "role_arn", "stackname", "DRYRUN", "dryRun", "Role", "StackName ", " DryRun"]
) | st.text().filter(lambda key: key not in FIELDS)


@given(valid_events(), unknown_keys, json_values)
def test_an_unknown_field_is_refused_by_its_name(
    event: dict[str, Any], key: str, value: Any
) -> None:
    """Whatever its value; the snake_case names and other spellings of a field included."""
    with pytest.raises(InvalidRequest) as error:
        parse_request({**event, key: value})
    message = str(error.value)
    assert f": {ALLOWED}" in message and names_a_field(message, {key: value}), message


@settings(max_examples=300)
@given(
    json_values
    | st.dictionaries(st.sampled_from(FIELDS) | st.text(), json_values)
    | valid_events()
    | one_field_wrong().map(lambda case: case[0])
)
def test_any_json_value_is_a_request_or_a_refusal_that_names_the_field(event: Any) -> None:
    """Never another exception; a refusal names the field; a request is what the event says."""
    try:
        request = parse_request(event)
    except InvalidRequest as error:
        message = str(error)
        assert len(message) <= LONGEST
        if isinstance(event, dict):
            assert names_a_field(message, event), message
        else:
            assert message.startswith("the event must be a JSON object"), message
        return
    assert isinstance(event, dict) and set(event) <= set(FIELDS)
    assert request.event() == {k: v for k, v in event.items() if v not in (None, False)}
