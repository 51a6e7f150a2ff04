"""How long this stack's own CloudFormation operations took, kept from one heal to the next.

A model of a stack's size knows CloudFormation only to within about half either way, so a wait
that trusts it either looks early and polls again, or looks late and is late. A nightly heal has
a better source: the same stack, healed last night. Each wait learns when its operation ended;
the heal keeps, per phase, the *first look* the next wait should take in one small document per
stack (HISTORY_BUCKET, ``timings/<account>/<region>/<stack>.json``), and the next heal's waits
look there first. The guarantees of policy.polling hold whatever the document says: no wait
longer than its bound, at most one poll more than knowing nothing.

CloudFormation itself does not say when an operation ended (a detection's status gives only
when it began), so what a wait learns is bounded by its polls: it ended after the poll that saw
it running and at or before the one that saw it done.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import polling

Phase = Literal["Detection", "ChangeSet", "Execution"]

#: Each phase's model, which scales a first look learned on a stack of one size to another size.
MODELS: dict[Phase, polling.Model] = {
    "Detection": polling.DETECTION,
    "ChangeSet": polling.CHANGE_SET,
    "Execution": polling.EXECUTION,
}
#: A first look seen done at once is looked for this much earlier the next night, and as much
#: again for each night in a row it was (PROBE², PROBE³, ...): an operation seen done at its
#: first look may have ended well before, and a wait that sees it done at once never learns how
#: much. A look one and a half times too late is back within a fifth in three nights, twice
#: too late in five; each look too early costs one poll, and measures the operation again.
PROBE = 0.95
#: Nights in a row after which the step stops growing (PROBE to this power, about a third).
_LONGEST_STREAK = 8
#: A first look longer than any wait may last is not a first look (MAX_WAIT_SECONDS is at most
#: the function's ExecutionTimeout, a year at most).
_LONGEST = 366 * 24 * 3600
#: The document's version. 1 (the first release) kept only a first look per phase; its
#: documents read as none, quietly (``superseded``), and the next heal writes this one.
VERSION: Literal[2] = 2
_STACK_ARN = re.compile(r"arn:[^:]+:cloudformation:([^:]+):([0-9]{12}):stack/([^/]+)/.+")


class Look(BaseModel):
    """When a wait for one phase should first look, and how much that is worth."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    #: Seconds after the wait began.
    first_look: int = Field(alias="FirstLook", ge=1, le=_LONGEST)
    #: The stack's own time (False: only a guess below it: the model's first look saw the
    #: operation already done, and it may have taken much less).
    measured: bool = Field(alias="Measured")
    #: Nights in a row the operation was seen done at the first look the stack's past gave.
    streak: int = Field(0, alias="Streak", ge=0)
    #: Execution only: what the executed change set changed (``changed``). An execution takes
    #: as long as what it changes: reverting a tag is not reverting a database.
    changes: str | None = Field(None, alias="Changes")


class Timings(BaseModel):
    """The document: the stack's resources when it was written, and per phase its Look."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    version: Literal[2] = Field(alias="Version")
    #: At most a million (CloudFormation allows 500 a stack): a larger count is damage.
    resources: int = Field(alias="Resources", ge=0, le=1_000_000)
    phases: dict[Phase, Look] = Field(alias="Phases")
    written: datetime = Field(alias="Written")

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True)


@dataclass(frozen=True)
class Seen:
    """How a wait saw its operation end: done at ``took`` seconds after it began, still running
    at ``before`` (0: it was seen done at its first look), with a first look worth ``look``
    (None: the model's, or none)."""

    took: int
    before: int
    look: Look | None


def key(stack_id: str) -> str:
    """Where the stack's document is kept: one per stack, by account, region and name (a stack
    made again under the same name keeps its history; the size is scaled)."""
    found = _STACK_ARN.fullmatch(stack_id)
    if found is None:
        raise ValueError(f"not a stack ARN: {stack_id!r}")
    region, account, name = found.groups()
    return f"timings/{account}/{region}/{name}.json"


def parse(text: str) -> Timings | None:
    """The document, or None when it is not one (written by a later version, or damaged): the
    heal then estimates from the stack's size, as on its first night."""
    try:
        return Timings.model_validate_json(text)
    except ValidationError:
        return None


def superseded(text: str) -> bool:
    """A document an earlier version of the healer wrote: not damage, so nothing to warn of; the
    heal estimates from the stack's size once, and leaves this version's document."""
    try:
        document = json.loads(text)
    except ValueError:
        return False
    version = document.get("Version") if isinstance(document, dict) else None
    return type(version) is int and 1 <= version < VERSION


def changed(changes: Iterable[Mapping[str, Any]]) -> str:
    """A short digest of what a change set changes: each resource, its type, the action and
    whether it is replaced (not the values: the same drift reverted again executes alike)."""
    touched = sorted(
        "/".join(
            str(change.get("ResourceChange", {}).get(field) or "")
            for field in ("LogicalResourceId", "ResourceType", "Action", "Replacement")
        )
        for change in changes
    )
    return "sha256:" + hashlib.sha256("\n".join(touched).encode()).hexdigest()[:16]


def looks(timings: Timings | None, resources: int | None) -> dict[Phase, Look]:
    """The Looks the document gives for the stack as it is now: scaled by the phase's model
    when its resources changed since (a stack grown from 50 to 100 resources takes about as
    much longer as the model says)."""
    if timings is None:
        return {}
    if resources is None or resources == timings.resources:
        return dict(timings.phases)
    out: dict[Phase, Look] = {}
    for phase, look in timings.phases.items():
        ratio = MODELS[phase].seconds(resources) / MODELS[phase].seconds(timings.resources)
        scaled = min(_LONGEST, max(1, math.ceil(look.first_look * ratio)))
        out[phase] = look.model_copy(update={"first_look": scaled})
    return out


def again(seen: Seen) -> Look | None:
    """The Look for the same operation again in this heal (the verifying detection): it takes
    as long again. Seen done after it was seen running, or at a first look the stack's own past
    gave: look when it was seen done. Seen at the model's first look, which comes at the
    quickest stacks of its size: it may have taken much less; look earlier (polling.LEAD), a
    guess. None: done before the wait asked (nothing learned)."""
    if seen.took <= 0:
        return None
    if seen.before or _measured(seen.look):
        return Look(first_look=seen.took, measured=True)
    return Look(first_look=max(1, math.ceil(polling.LEAD * seen.took)), measured=False)


def next_night(seen: Seen, changes: str | None = None) -> Look | None:
    """The Look for the same operation at the stack's next heal, which may take a little more or
    less than tonight, so: when it most likely ended tonight, not the latest it may have.
    Seen running, then done: half-way between the two polls. Seen done at a first look the
    stack's past gave: a little earlier (PROBE), and more so each night in a row. Seen at the
    model's first look: a guess, as ``again``. ``changes``: what the executed change set
    changed (``changed``), for an execution."""
    if seen.took <= 0:
        return None
    if seen.before:
        return Look(
            first_look=math.ceil((seen.before + seen.took) / 2), measured=True, changes=changes
        )
    if seen.look is not None and seen.look.measured:
        streak = min(_LONGEST_STREAK, seen.look.streak + 1)
        return Look(
            first_look=max(1, math.ceil(seen.took * PROBE**streak)),
            measured=True,
            streak=streak,
            changes=changes,
        )
    guess = again(seen)
    return None if guess is None else guess.model_copy(update={"changes": changes})


def remember(
    previous: Timings | None,
    learned: Mapping[Phase, Look],
    resources: int | None,
    written: datetime,
) -> Timings | None:
    """The document after this heal: what it learned, over what the last one knew of the phases
    it did not reach (a heal that ended at detection keeps last night's execution). None when
    there is nothing to keep, or the stack's size is unknown."""
    if resources is None or not learned:
        return None
    return Timings(
        version=VERSION,
        resources=resources,
        phases={**looks(previous, resources), **learned},
        written=written,
    )


def _measured(look: Look | None) -> bool:
    return look is not None and look.measured
