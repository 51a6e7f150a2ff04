"""How long this stack's own CloudFormation operations took, kept from one heal to the next.

A model of a stack's size knows CloudFormation only to within about half either way, so a wait
that trusts it either looks early and polls again, or looks late and is late. A nightly heal has
a better source: the same stack, healed last night. Each wait learns when it saw its operation
done; the heal keeps those *first looks* in one small document per stack (HISTORY_BUCKET,
``timings/<account>/<region>/<stack>.json``), and the next heal's waits look there first. The
guarantees of policy.polling hold whatever the document says: no wait longer than its bound,
at most one poll more than knowing nothing.

CloudFormation itself does not say when an operation ended (a detection's status gives only
when it began), so what a wait learns is the poll that saw it done: the stack's own time, late
by at most the gap between two polls (a tenth of the time).
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import polling

Phase = Literal["Detection", "ChangeSet", "Execution"]

#: Each phase's model, which scales a first look learned on a stack of one size to another size.
MODELS: dict[Phase, polling.Model] = {
    "Detection": polling.DETECTION,
    "ChangeSet": polling.CHANGE_SET,
    "Execution": polling.EXECUTION,
}
#: A first look longer than any wait may last is not a first look (MAX_WAIT_SECONDS is at most
#: the function's ExecutionTimeout, a year at most).
_LONGEST = 366 * 24 * 3600
#: The next heal first looks this share of the time at which a wait saw its operation done at
#: its first look (one the stack's past gave): it may have been done well before, and a wait
#: that sees it done at once never learns how much. Looking a little earlier each night finds
#: out, at the cost of a poll on the nights it is not done yet.
PROBE = 0.95
_STACK_ARN = re.compile(r"arn:[^:]+:cloudformation:([^:]+):([0-9]{12}):stack/([^/]+)/.+")


class Timings(BaseModel):
    """The document: the stack's resources when it was written and, per phase, when the next
    wait should first look (seconds after it began)."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    version: Literal[1] = Field(1, alias="Version")
    resources: int = Field(alias="Resources", ge=0)
    first_look: dict[Phase, int] = Field(alias="FirstLook")
    written: datetime = Field(alias="Written")

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True)


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
        timings = Timings.model_validate_json(text)
    except ValidationError:
        return None
    if any(not 1 <= look <= _LONGEST for look in timings.first_look.values()):
        return None
    return timings


def looks(timings: Timings | None, resources: int | None) -> dict[Phase, int]:
    """The first looks the document gives for the stack as it is now: scaled by the phase's
    model when its resources changed since (a stack grown from 50 to 100 resources takes about
    as much longer as the model says)."""
    if timings is None:
        return {}
    if resources is None or resources == timings.resources:
        return dict(timings.first_look)
    return {
        phase: max(
            1,
            math.ceil(
                look * MODELS[phase].seconds(resources) / MODELS[phase].seconds(timings.resources)
            ),
        )
        for phase, look in timings.first_look.items()
    }


def learned(took: int, before: int, informed: bool) -> int | None:
    """The first look for the same operation again in this heal (the verifying detection), from
    the wait that just saw it done at ``took`` seconds (and still running at ``before``; 0: at
    the first look). It takes as long again. Seen done after it was seen running: it took
    between the two; look at ``took``. Seen at a first look the stack's own past gave
    (``informed``): look there again. Seen at a first look the model gave, which comes at the
    quickest stacks of its size: it may have taken much less; look earlier (polling.LEAD).
    None: done before the wait asked (nothing learned)."""
    if took <= 0:
        return None
    if before or informed:
        return took
    return max(1, math.ceil(polling.LEAD * took))


def next_night(took: int, before: int, informed: bool) -> int | None:
    """The first look for the same operation at the stack's next heal, which may take a little
    more or less than tonight, so look when it most likely ended tonight, not at the latest.
    Seen running, then done: half-way between the two polls. Seen at a first look the stack's
    past gave: a little earlier (PROBE), so that a first look too late does not stay too late.
    Seen at the model's first look: as ``learned``."""
    if took <= 0:
        return None
    if before:
        return math.ceil((before + took) / 2)
    if informed:
        return max(1, math.ceil(PROBE * took))
    return learned(took, before, informed)


def remember(
    previous: Timings | None,
    learned_now: dict[Phase, int],
    resources: int | None,
    written: datetime,
) -> Timings | None:
    """The document after this heal: what it learned, over what the last one knew of the phases
    it did not reach (a heal that ended at detection keeps last night's execution). None when
    there is nothing to keep, or the stack's size is unknown."""
    if resources is None or not learned_now:
        return None
    kept = looks(previous, resources)
    return Timings(resources=resources, first_look={**kept, **learned_now}, written=written)
