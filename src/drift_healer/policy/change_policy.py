"""The change policy of a regulated team: when changes may run (weekly windows, freezes), which
heals need a person's approval (by tier), which alarms gate an execution, and which drift is
accepted, by whom and until when.

The document is JSON (the function bundles no YAML parser), kept in SSM Parameter Store or inline
in the deployment. It is validated whole before anything is decided from it: an unknown key is an
error (a typo must not silently do nothing), a name that refers to nothing is an error, and every
problem is reported at once, each with its line in the document, where it is
(``Tiers.critical.Windows[0]``) and the fix; the document is edited by hand, under change control,
so one round trip should fix it.

Pure: the document in, decisions out; the caller says what "today" is.
"""

from __future__ import annotations

import bisect
import difflib
import fnmatch
import json
import re
import types
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_pascal
from pydantic_core import ErrorDetails, PydanticCustomError

from ..models import DriftedResource
from .windows import local_instant

#: The stack tag that picks its tier (else the document's DefaultTier).
TIER_TAG = "drift-healer:tier"
#: The stack tag that picks its windows (one name, or names separated by commas), over its tier's.
WINDOW_TAG = "drift-healer:window"
#: The day names of ``Days``, Monday first (their index is ``datetime.weekday()``).
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: A tier's ``Approval``: no heal needs approval, only HIGH risk ones, or every one.
APPROVALS = ("never", "high", "always")
#: The tier a stack gets when the document names none and has a tier of this name.
STANDARD_TIER = "standard"
#: Problems listed in one PolicyInvalid (the rest are counted).
MAX_PROBLEMS = 10
#: At most this many characters of a value are quoted in a message.
SHOWN = 64

_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_LOCAL = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2})?")
_RESOURCE_TYPE = re.compile(r"[A-Za-z0-9]+(::[A-Za-z0-9_]+)+")

Loc = tuple[str | int, ...]


class PolicyInvalid(ValueError):
    """The document cannot be used; the message names where (line N of SOURCE, and the path like
    Tiers.critical.Windows[0]) and the fix, one problem a line."""


# --- the values of the document ----------------------------------------------------------------


def _shown(value: object) -> str:
    """A value as the document would spell it (JSON, ASCII), at most SHOWN characters of it."""
    text = json.dumps(value, ensure_ascii=True, default=str)
    return text if len(text) <= SHOWN else f"{text[: SHOWN - 1]}… ({len(text)} characters)"


def _near(word: str, choices: Sequence[str]) -> str | None:
    """The choice ``word`` most likely misspells (case, separators, or a letter or two)."""
    squash = {re.sub(r"[-_ ]", "", c).lower(): c for c in choices}
    exact = squash.get(re.sub(r"[-_ ]", "", word).lower())
    if exact is not None:
        return exact
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return close[0] if close else None


def _named(kind: str) -> Callable[[str], str]:
    """A check that a tier or window name is one a tag can carry and a list can name."""

    def check(value: str) -> str:
        if _NAME.fullmatch(value) is None:
            fixed = re.sub(r"[^a-z0-9-]+", "-", value.lower()).strip("-")[:64] or "x"
            raise ValueError(
                f"the {kind} name {_shown(value)} is not lowercase letters, digits and hyphens "
                f"(1 to 64, starting with a letter or digit); rename it, e.g. {_shown(fixed)}"
            )
        return value

    return check


def _day(value: object) -> int:
    if isinstance(value, str) and value in DAYS:
        return DAYS.index(value)
    guess = value[:3].title() if isinstance(value, str) else None
    hint = f"did you mean {guess}?" if guess in DAYS else "use Mon, Tue, Wed, Thu, Fri, Sat or Sun"
    raise ValueError(f"{_shown(value)} is not a day name; {hint}")


def _distinct_days(days: tuple[int, ...]) -> tuple[int, ...]:
    """Each day once (a day named twice is likely a typo for another), Monday first."""
    twice = sorted({d for d in days if days.count(d) > 1})
    if twice:
        raise ValueError(
            f"{', '.join(DAYS[d] for d in twice)} listed twice; list each day once (a repeated "
            "day is often a typo for another)"
        )
    return tuple(sorted(days))


def _clock(value: object) -> time:
    if isinstance(value, str) and (match := _HHMM.fullmatch(value)):
        return time(int(match[1]), int(match[2]))
    raise ValueError(
        f"{_shown(value)} is not a time of day; write it as 24-hour HH:MM, like 06:00 or 22:30 "
        "(midnight is 00:00)"
    )


def _local_datetime(value: object) -> datetime:
    """A local date-time, naive: its TimeZone says where (and is applied after validation)."""
    if isinstance(value, str) and _LOCAL.fullmatch(value):
        try:
            found = datetime.fromisoformat(value)  # a date alone is its 00:00
        except ValueError:
            raise ValueError(
                f"{_shown(value)} is not a real date and time; check the month, day and hour"
            ) from None
        return _in_range(found, value)
    raise ValueError(
        f"{_shown(value)} is not a local date-time; write it as YYYY-MM-DDTHH:MM, like "
        "2026-12-20T00:00, or as a date YYYY-MM-DD (meaning 00:00)"
    )


def _day_date(value: object) -> date:
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            found = date.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f"{_shown(value)} is not a real date; check the month and day"
            ) from None
        return _in_range(found, value)
    raise ValueError(f"{_shown(value)} is not a date; write it as YYYY-MM-DD, like 2027-06-30")


_D = TypeVar("_D", bound=date)
#: Years a date may name: a time zone's offset or a day's arithmetic near year 1 or 9999
#: overflows ("since forever", "until further notice" are the first and last of these).
_YEARS = (1971, 9998)


def _in_range(found: _D, value: str) -> _D:
    if not _YEARS[0] <= found.year <= _YEARS[1]:
        raise ValueError(
            f"{_shown(value)} is out of range; use a year from {_YEARS[0]} to {_YEARS[1]}"
        )
    return found


def _zone(value: str) -> str:
    """An IANA time zone this Python knows (``localtime`` would mean the machine's, not a place)."""
    try:
        if value == "localtime":
            raise ValueError(value)
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        near = _near(value, sorted(zoneinfo.available_timezones() - {"localtime"}))
        hint = (
            f"did you mean {near}?"
            if near
            else "use an IANA name like Europe/Berlin, America/New_York or UTC"
        )
        raise ValueError(f"{_shown(value)} is not a time zone; {hint}") from None
    return value


def _something(value: str) -> str:
    if not value.strip():
        raise ValueError("is empty; say something here")
    return value


def _resource_type(value: str) -> str:
    if value != "*" and _RESOURCE_TYPE.fullmatch(value) is None:
        raise ValueError(
            f"{_shown(value)} is not a resource type; write it exactly, like "
            "AWS::S3::Bucket, or * for any type (no other wildcards)"
        )
    return value


def _path_pattern(value: str) -> str:
    if not value.startswith(("/", "*")):
        raise ValueError(
            f"{_shown(value)} would match no property path (they start with /, like "
            f"/Tags/2/Value); write it like /{value.lstrip('/')} or *"
        )
    return value


Name = Annotated[str, AfterValidator(_named("window"))]
TierName = Annotated[str, AfterValidator(_named("tier"))]
Day = Annotated[int, BeforeValidator(_day), PlainSerializer(lambda d: DAYS[d], return_type=str)]
Clock = Annotated[
    time, BeforeValidator(_clock), PlainSerializer(lambda t: f"{t:%H:%M}", return_type=str)
]
LocalDateTime = Annotated[
    datetime,
    BeforeValidator(_local_datetime),
    PlainSerializer(lambda d: f"{d:%Y-%m-%dT%H:%M}", return_type=str),
]
TimeZone = Annotated[str, AfterValidator(_zone)]
Text = Annotated[str, AfterValidator(_something)]
AlarmName = Annotated[str, Field(min_length=1, max_length=255)]


class _Spec(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_pascal,
        validate_by_name=True,
        validate_by_alias=True,
        frozen=True,
        extra="forbid",
    )


class WindowSpec(_Spec):
    """A weekly window: it opens on ``days`` (0 = Monday) at ``start``, local time in
    ``timezone``, and closes at ``end``, the next day when ``end`` is before ``start``."""

    days: Annotated[
        tuple[Day, ...],
        Field(min_length=1, examples=[["Mon", "Tue", "Wed", "Thu", "Fri"]]),
        AfterValidator(_distinct_days),
    ]
    start: Annotated[Clock, Field(examples=["22:00"])]
    end: Annotated[Clock, Field(examples=["06:00"])]
    timezone: Annotated[TimeZone, Field(alias="TimeZone", examples=["Europe/Berlin"])]

    @field_validator("end")
    @classmethod
    def _opens(cls, end: time, info: ValidationInfo) -> time:
        if info.data.get("start") == end:
            raise ValueError(
                f"End is Start ({end:%H:%M}), a window of no length; set End to when it closes "
                "(an End before Start closes it the next day)"
            )
        return end


class FreezeSpec(_Spec):
    """A freeze: from ``start`` to ``end`` nothing executes (``hard``), or only LOW risk heals
    (soft). The document's From and To are local times in its TimeZone."""

    name: Annotated[Text, Field(examples=["year-end"])]
    timezone: Annotated[TimeZone, Field(alias="TimeZone", examples=["Europe/Berlin"])]
    from_: Annotated[LocalDateTime, Field(alias="From", examples=["2026-12-20T00:00"])]
    to: Annotated[LocalDateTime, Field(examples=["2027-01-04T00:00"])]
    kind: Annotated[Literal["hard", "soft"], Field(examples=["hard"])] = "hard"

    @field_validator("to")
    @classmethod
    def _after_from(cls, to: datetime, info: ValidationInfo) -> datetime:
        start, zone = info.data.get("from_"), info.data.get("timezone")
        if start is None or zone is None:
            return to  # reported already
        tz = zoneinfo.ZoneInfo(zone)
        if local_instant(to, tz).astimezone(UTC) <= local_instant(start, tz).astimezone(UTC):
            skipped = " (daylight saving skips the time between them)" if to > start else ""
            raise ValueError(
                f"To ({to:%Y-%m-%dT%H:%M}) is not after From ({start:%Y-%m-%dT%H:%M}) in "
                f"{zone}{skipped}; set To to when the freeze ends"
            )
        return to

    @property
    def start(self) -> datetime:
        """When the freeze begins, timezone-aware (in its TimeZone)."""
        return local_instant(self.from_, zoneinfo.ZoneInfo(self.timezone))

    @property
    def end(self) -> datetime:
        """When the freeze ends (the first instant free of it), timezone-aware."""
        return local_instant(self.to, zoneinfo.ZoneInfo(self.timezone))

    @property
    def hard(self) -> bool:
        """Whether nothing executes during it (a soft freeze lets LOW risk heals through)."""
        return self.kind == "hard"


class TierSpec(_Spec):
    """What a tier of stacks requires: approval (never, for HIGH risk, always) and windows
    (None: all the document's windows; empty: any time)."""

    approval: Annotated[Literal["never", "high", "always"], Field(examples=["high"])] = "high"
    windows: Annotated[tuple[Name, ...] | None, Field(examples=[["weeknights"]])] = None


class HealthSpec(_Spec):
    """The alarms that gate an execution and watch it while it bakes."""

    alarms: Annotated[tuple[AlarmName, ...], Field(examples=[["checkout-5xx"]])] = ()
    alarm_prefix: Annotated[AlarmName | None, Field(examples=["prod-"])] = None
    insufficient_data: Annotated[Literal["block", "allow"], Field(examples=["block"])] = "block"
    bake_minutes: Annotated[int, Field(strict=True, ge=0, le=120, examples=[10])] = 5

    @model_validator(mode="after")
    def _watches(self) -> HealthSpec:
        if not self.alarms and self.alarm_prefix is None:
            raise ValueError(
                "names no alarm to watch; list Alarms or set AlarmPrefix (or remove Health)"
            )
        return self


class AcceptedRule(_Spec):
    """Drift a team accepts (the healer leaves it alone), who owns that decision, and until
    when: ``expires`` is the last day (UTC) it applies."""

    resource_type: Annotated[
        str,
        AfterValidator(_resource_type),
        Field(examples=["AWS::AutoScaling::AutoScalingGroup"]),
    ]
    logical_id: Annotated[Text, Field(examples=["*"])]
    property_path: Annotated[str, AfterValidator(_path_pattern), Field(examples=["/Tags/*"])]
    reason: Annotated[Text, Field(examples=["the autoscaler owns it"])]
    owner: Annotated[Text, Field(examples=["team-a@example.com"])]
    expires: Annotated[
        date,
        BeforeValidator(_day_date),
        PlainSerializer(lambda d: d.isoformat(), return_type=str),
        Field(examples=["2027-06-30"]),
    ]

    def covers(self, resource: DriftedResource) -> bool:
        """Whether the rule is about this resource (its type and logical id)."""
        return self.resource_type in ("*", resource.resource_type) and fnmatch.fnmatchcase(
            resource.logical_resource_id, self.logical_id
        )


class ChangePolicy(_Spec):
    """The validated change policy document. ``{}`` is a valid one: any time, no freezes, no
    tiers, no health gate, nothing accepted."""

    windows: Annotated[
        dict[Name, WindowSpec],
        Field(
            examples=[
                {
                    "weeknights": {
                        "Days": ["Mon"],
                        "Start": "22:00",
                        "End": "06:00",
                        "TimeZone": "UTC",
                    }
                }
            ]
        ),
    ] = {}
    freezes: Annotated[
        list[FreezeSpec],
        Field(
            examples=[
                [
                    {
                        "Name": "year-end",
                        "From": "2026-12-20",
                        "To": "2027-01-04",
                        "TimeZone": "UTC",
                        "Kind": "hard",
                    }
                ]
            ]
        ),
    ] = []
    change_calendar: Annotated[
        str | None, Field(min_length=1, max_length=1011, examples=["drift-healer-freezes"])
    ] = None
    tiers: Annotated[
        dict[TierName, TierSpec], Field(examples=[{"standard": {"Approval": "high"}}])
    ] = {}
    default_tier: Annotated[str | None, Field(validate_default=True, examples=[STANDARD_TIER])] = (
        None
    )
    health: Annotated[HealthSpec | None, Field(examples=[{"Alarms": ["checkout-5xx"]}])] = None
    accepted_drift: Annotated[
        list[AcceptedRule],
        Field(
            examples=[
                [
                    {
                        "ResourceType": "AWS::AutoScaling::AutoScalingGroup",
                        "LogicalId": "*",
                        "PropertyPath": "/DesiredCapacity",
                        "Reason": "the autoscaler owns it",
                        "Owner": "team-a@example.com",
                        "Expires": "2027-06-30",
                    }
                ]
            ]
        ),
    ] = []

    @field_validator("tiers")
    @classmethod
    def _known_windows(cls, tiers: dict[str, TierSpec], info: ValidationInfo) -> Any:
        windows = info.data.get("windows")
        if windows is None:
            return tiers  # Windows is invalid, reported already
        problems: list[tuple[Loc, str]] = [
            ((name, "Windows", i), _unknown("window", window, list(windows), "Windows"))
            for name, tier in tiers.items()
            for i, window in enumerate(tier.windows or ())
            if window not in windows
        ]
        if problems:
            # One error of the field, carrying each problem's place within it (load lists them).
            summary = "; ".join(f"{_path(('Tiers', *loc))}: {why}" for loc, why in problems)
            raise PydanticCustomError(
                "policy_references", "{summary}", {"summary": summary, "problems": problems}
            )
        return tiers

    @field_validator("default_tier")
    @classmethod
    def _known_tier(cls, value: str | None, info: ValidationInfo) -> str | None:
        tiers = info.data.get("tiers")
        if tiers is None:
            return value  # Tiers is invalid, reported already
        if value is None:
            return STANDARD_TIER if STANDARD_TIER in tiers else None
        if value not in tiers:
            raise ValueError(_unknown("tier", value, list(tiers), "Tiers"))
        return value


def _unknown(kind: str, name: str, known: list[str], where: str) -> str:
    """What is wrong with a reference to a tier or window that is not there, and the fix."""
    if not known:
        return f"{_shown(name)} names no {kind}: the document has no {where}; add it there"
    near = _near(name, known)
    hint = f"did you mean {near}? " if near else ""
    return f"{_shown(name)} is not a {kind} of the document; {hint}use one of {', '.join(known)}"


# --- loading: where each problem is, and how to fix it -----------------------------------------


def load(text: str, source: str) -> ChangePolicy:
    """Parse and validate the document. Every problem is reported at once, each a line
    ``f"{source}, line {n}: {path}: {what is wrong}; {how to fix}"`` (at most MAX_PROBLEMS, the
    rest counted), so one edit of the document can fix them all."""
    try:
        data = json.loads(text)
        where = _Positions(text)
    except json.JSONDecodeError as error:
        raise PolicyInvalid(
            f"{source}, line {error.lineno}: column {error.colno}: {error.msg}; fix the JSON "
            "(keys and strings in double quotes, no trailing commas, no comments)"
        ) from None
    except ValueError as error:  # e.g. a number of more digits than Python converts
        raise PolicyInvalid(
            f"{source}, line 1: the document: {error}; a change policy's numbers are small"
        ) from None
    except RecursionError:
        raise PolicyInvalid(
            f"{source}, line 1: the document: nested too deeply to read; a change policy is at "
            "most four levels deep"
        ) from None
    problems = [
        (line, f"{_path(loc)}: duplicate key; JSON keeps only the last, so remove the other")
        for loc, line in where.duplicates
    ]
    policy: ChangePolicy | None = None
    try:
        policy = ChangePolicy.model_validate(data, by_alias=True, by_name=False)
    except ValidationError as error:
        details = error.errors(include_url=False)
        for detail in details:
            if detail["type"] == "too_short" and _holds_another(detail["loc"], details):
                continue  # a list short only of an item refused: the item says why
            problems += [
                (where.line(loc), f"{_path(loc)}: {why}") for loc, why in _problems(detail)
            ]
    if policy is None or problems:
        problems.sort(key=lambda problem: problem[0])
        lines = [f"{source}, line {n}: {problem}" for n, problem in problems[:MAX_PROBLEMS]]
        if len(problems) > MAX_PROBLEMS:
            lines.append(
                f"{source}: and {len(problems) - MAX_PROBLEMS} more problems; fix these and "
                "load it again to see the rest"
            )
        raise PolicyInvalid("\n".join(lines))
    return policy


class _Positions:
    """The line of each key and item of an already-valid JSON text, by path (``json`` tells no
    positions), and the keys an object repeats (``json`` silently keeps the last one)."""

    _STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
    _SCALAR = re.compile(r"[^\s,\]}]+")  # a number, true, false, null (NaN, Infinity)
    _SPACE = re.compile(r"[ \t\n\r]*")

    def __init__(self, text: str) -> None:
        self.text = text
        self.newlines = [m.start() for m in re.finditer("\n", text)]
        self.lines: dict[Loc, int] = {}
        self.duplicates: list[tuple[Loc, int]] = []
        start = self._skip(0)
        self.lines[()] = self._line_at(start)
        self._value(start, ())

    def line(self, loc: Loc) -> int:
        """The line of ``loc``, or of the nearest object it is in (a missing key has none)."""
        for n in range(len(loc), -1, -1):
            if loc[:n] in self.lines:
                return self.lines[loc[:n]]
        return 1

    def _line_at(self, at: int) -> int:
        return bisect.bisect_left(self.newlines, at) + 1

    def _skip(self, at: int) -> int:
        return self._match(self._SPACE, at)

    def _match(self, pattern: re.Pattern[str], at: int) -> int:
        match = pattern.match(self.text, at)
        if match is None:  # pragma: no cover - json.loads accepted the text
            raise ValueError(f"unexpected JSON at offset {at}")
        return match.end()

    def _value(self, at: int, path: Loc) -> int:
        """Record the keys and items of the value at ``at``; where it ends."""
        opener = self.text[at]
        if opener not in "{[":
            return self._match(self._STRING if opener == '"' else self._SCALAR, at)
        closer, index, seen = ("}" if opener == "{" else "]"), 0, set()
        at = self._skip(at + 1)
        while self.text[at] != closer:
            if opener == "{":
                key_end = self._match(self._STRING, at)
                key: str | int = json.loads(self.text[at:key_end])
                if key in seen:
                    self.duplicates.append(((*path, key), self._line_at(at)))
                seen.add(key)
                at_value = self._skip(self._skip(key_end) + 1)  # past the colon
            else:
                key, index, at_value = index, index + 1, at
            self.lines[(*path, key)] = self._line_at(at)
            at = self._skip(self._value(at_value, (*path, key)))
            if self.text[at] == ",":
                at = self._skip(at + 1)
        return at + 1


_WHAT = {
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
    "list_type": "must be a JSON array",
    "tuple_type": "must be a JSON array",
    "string_type": "must be a string",
    "int_type": "must be a whole number",
    "string_too_short": "must not be empty",
    "too_short": "must not be empty",
}
_ROOT_EXAMPLE = {"Tiers": {"standard": {"Approval": "high"}}, "DefaultTier": "standard"}


def _holds_another(loc: Loc, details: list[ErrorDetails]) -> bool:
    """Another problem lies inside ``loc`` (an item of the list there, say)."""
    return any(len(d["loc"]) > len(loc) and d["loc"][: len(loc)] == loc for d in details)


def _problems(error: ErrorDetails) -> list[tuple[Loc, str]]:
    """One validation error as (where, what is wrong and the fix): ours carry sub-places."""
    loc: Loc = tuple(error["loc"])
    if error["type"] == "policy_references":
        return [((*loc, *sub), why) for sub, why in error.get("ctx", {})["problems"]]
    if loc and loc[-1] == "[key]":  # a dict's key: the place is the key itself
        loc = loc[:-1]
    return [(loc, _explain(error, loc))]


def _explain(error: ErrorDetails, loc: Loc) -> str:
    kind, value = error["type"], error.get("input")
    if kind == "value_error":  # ours, each "what is wrong; the fix"
        return str(error["msg"]).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        model, _ = _at(loc[:-1])
        keys = [str(f.alias) for f in model.model_fields.values()] if model else []
        near = _near(str(loc[-1]), keys)
        return (
            f"unknown key; {f'did you mean {near}?' if near else 'remove it'} (the keys here are "
            f"{', '.join(keys)}; case-sensitive)"
        )
    _, example = _at(loc)
    like = json.dumps(example) if example is not None else None
    if kind == "missing":
        return f"required; add it, like {json.dumps(loc[-1])}: {like}" if like else "required"
    if kind == "literal_error":
        expected = str(error.get("ctx", {}).get("expected", "")).replace("'", '"')
        return f"{_shown(value)} is not {expected}; use one of those"
    what = _WHAT.get(kind) or re.sub(r"^\w+ should", "must", str(error["msg"]))
    if value is None or isinstance(value, (str, int, float)):
        what += f" (not {_shown(value)})"
    return f"{what}; write it like {like}" if like else what


def _at(loc: Loc) -> tuple[type[BaseModel] | None, Any]:
    """The model of the object at ``loc`` (None when it is not one) and an example of its value,
    found by walking the models' fields by alias (so every message can show the right form)."""
    model: type[BaseModel] | None = ChangePolicy
    example: Any = _ROOT_EXAMPLE
    depth = 0  # lists and dicts to step into before the next key is a field's
    for part in loc:
        if depth:
            depth -= 1
            if isinstance(example, list):
                example = example[0] if example else None
            elif isinstance(example, dict):
                example = next(iter(example.values()), None)
            continue
        fields = model.model_fields.values() if model else ()
        field = next((f for f in fields if f.alias == part), None)
        if field is None:
            return None, None
        example = field.examples[0] if field.examples else None
        model, depth = _inside(field.annotation)
    return (model if depth == 0 else None), example


def _inside(annotation: Any) -> tuple[type[BaseModel] | None, int]:
    """The model a field's type holds (if any), and in how many lists or dicts."""
    depth = 0
    while True:
        origin, args = get_origin(annotation), get_args(annotation)
        if origin in (Union, types.UnionType):
            annotation = next(a for a in args if a is not type(None))
        elif origin is Annotated:
            annotation = args[0]
        elif origin in (dict, list, tuple):
            annotation, depth = (args[-1] if origin is dict else args[0]), depth + 1
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return annotation, depth
        else:
            return None, depth


def _path(loc: Loc) -> str:
    """``Tiers.critical.Windows[0]``: how a person finds the place in the document."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z0-9_-]{1,64}", part):
            out += f".{part}" if out else part
        else:
            out += f"[{_shown(part)}]"
    return out or "the document"


# --- decisions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StackRules:
    """What the policy requires of one stack."""

    tier: str | None  # the tier that applies
    approval: str  # "never" | "high" | "always"
    windows: tuple[str, ...]  # window names that apply; () means any time


def rules_for(policy: ChangePolicy, tags: Mapping[str, str]) -> StackRules:
    """The stack's tier, from its tag drift-healer:tier (else the DefaultTier), and its windows:
    the tag drift-healer:window (a name, or names separated by commas) overrides the tier's. A
    tier or window a tag names that the policy lacks raises PolicyInvalid naming the tag and the
    known names: a misconfigured stack must not be healed by the default rules."""
    tier = policy.default_tier
    if TIER_TAG in tags:
        tier = tags[TIER_TAG].strip()
        if tier not in policy.tiers:
            raise PolicyInvalid(f"the tag {TIER_TAG}={_tag_fix('tier', tier, list(policy.tiers))}")
    spec = policy.tiers[tier] if tier is not None else TierSpec()
    windows = tuple(policy.windows) if spec.windows is None else spec.windows
    if WINDOW_TAG in tags:
        named = tuple(dict.fromkeys(n.strip() for n in tags[WINDOW_TAG].split(",") if n.strip()))
        unknown = [n for n in named if n not in policy.windows]
        if unknown or not named:
            shown = ",".join(unknown) if unknown else tags[WINDOW_TAG]
            raise PolicyInvalid(
                f"the tag {WINDOW_TAG}={_tag_fix('window', shown, list(policy.windows))}"
            )
        windows = named
    return StackRules(tier=tier, approval=spec.approval, windows=windows)


def _tag_fix(kind: str, value: str, known: list[str]) -> str:
    if not known:
        return (
            f"{_shown(value)} names a {kind}, but the change policy has none; remove the tag, "
            f"or add the {kind} to the policy"
        )
    near = _near(value, known)
    hint = f"did you mean {near}? " if near else ""
    return (
        f"{_shown(value)} names no {kind} of the change policy; {hint}use one of "
        f"{', '.join(known)}, or remove the tag"
    )


@dataclass(frozen=True)
class Accepted:
    """A difference (or a whole DELETED resource) that a rule of AcceptedDrift accepts."""

    logical_resource_id: str
    property_path: str  # "" for a DELETED resource (no property)
    rule: int  # index of the rule in AcceptedDrift
    reason: str
    owner: str
    expires: date


def accepted_drift(
    policy: ChangePolicy, drifted: Sequence[DriftedResource], today: date
) -> tuple[list[Accepted], list[DriftedResource]]:
    """Split the drift: the differences an unexpired rule accepts (the first such rule, in the
    document's order), and the drifted resources that still count, each with only its
    unaccepted differences. A resource all of whose differences are accepted does not count,
    unless some were left out of the report (``omitted_differences``: unseen, so not accepted)
    and no rule with PropertyPath "*" covers it. A DELETED resource, or one that lists no
    difference, counts unless a rule with PropertyPath "*" covers it. An expired rule accepts
    nothing: its drift counts again."""
    rules = [(i, r) for i, r in enumerate(policy.accepted_drift) if today <= r.expires]
    accepted: list[Accepted] = []
    counting: list[DriftedResource] = []
    for resource in drifted:
        covering = [(i, r) for i, r in rules if r.covers(resource)]
        whole = next(((i, r) for i, r in covering if r.property_path == "*"), None)
        if resource.stack_resource_drift_status == "DELETED" or not resource.property_differences:
            if whole is None:
                counting.append(resource)
            else:
                accepted.append(_accepted(resource.logical_resource_id, "", *whole))
            continue
        left = []
        for difference in resource.property_differences:
            path = difference.property_path
            rule = next(
                ((i, r) for i, r in covering if fnmatch.fnmatchcase(path, r.property_path)), None
            )
            if rule is None:
                left.append(difference)
            else:
                accepted.append(_accepted(resource.logical_resource_id, path, *rule))
        if len(left) == len(resource.property_differences):
            counting.append(resource)
        elif left or (resource.omitted_differences and whole is None):
            counting.append(resource.model_copy(update={"property_differences": left}))
    return accepted, counting


def _accepted(logical_id: str, path: str, index: int, rule: AcceptedRule) -> Accepted:
    return Accepted(logical_id, path, index, rule.reason, rule.owner, rule.expires)


def expired_rules(policy: ChangePolicy, today: date) -> list[int]:
    """Indexes of the AcceptedDrift rules past their Expires date (to report them: their drift
    counts again, and the owner should renew the rule or let the healer revert it)."""
    return [i for i, rule in enumerate(policy.accepted_drift) if today > rule.expires]
