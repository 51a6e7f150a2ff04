"""May this stack be healed now, and how far? Pure: decided from what DescribeStacks said."""

from __future__ import annotations

from ..models import HealMode, HealRequest
from ..records import StackInfo
from ..settings import Settings
from . import enrolment
from .states import HEALABLE_STATES, is_busy


def skip_reason(stack: StackInfo, settings: Settings) -> str | None:
    """Why the heal must be skipped, or None when it may go ahead."""
    if settings.healer_stack_name and stack["StackName"] == settings.healer_stack_name:
        return "this is the healer's own stack; the healer never heals itself"
    key = settings.opt_in_tag_key or enrolment.TAG_KEY
    if settings.opt_in_tag_key or key in stack["Tags"]:
        try:
            enrolled = enrolment.enrolment(stack["Tags"], key)
        except enrolment.NotEnrolled as error:
            return str(error)
        if enrolled.paused:
            return (
                f"the stack is paused ({key}={enrolment.PAUSED}); set the tag to "
                f"{enrolment.ENABLED} (or a mode) to resume"
            )
    status = stack["StackStatus"]
    if status in HEALABLE_STATES:
        return None
    if is_busy(status):
        return f"the stack is busy ({status}); the next run will try again"
    if status.startswith("IMPORT_") and status.endswith("_COMPLETE"):
        return (
            f"CloudFormation does not detect drift on a stack in {status} (only in "
            f"{', '.join(sorted(HEALABLE_STATES))}); update the stack once, then heal it"
        )
    return f"the stack is in {status}, from which it cannot be updated; fix it by hand first"


def ceiling(
    request: HealRequest, stack: StackInfo, settings: Settings
) -> tuple[HealRequest, str | None]:
    """The request capped by the deployment's HealMode and the stack's own tag, and, when that
    lowered it, the sentence the result's Reason carries. Call after ``skip_reason`` passed."""
    key = settings.opt_in_tag_key or enrolment.TAG_KEY
    limits = [(HealMode(settings.heal_mode), f"the deployment's HealMode is {settings.heal_mode}")]
    if key in stack["Tags"]:
        tagged = enrolment.enrolment(stack["Tags"], key).mode
        if tagged is not None:
            limits.append((tagged, f"the stack is tagged {key}={tagged.value}"))
    asked = request.heal_mode
    mode, why = min(limits, key=lambda limit: limit[0].rank)
    if asked.allows(mode):
        return request, None
    return request.limited_to(mode), f"lowered from {asked.value} to {mode.value}: {why}"
