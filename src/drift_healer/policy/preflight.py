"""May this stack be healed now? Pure: decided from what DescribeStacks said."""

from __future__ import annotations

from ..records import StackInfo
from ..settings import Settings
from .states import HEALABLE_STATES, is_busy


def skip_reason(stack: StackInfo, settings: Settings) -> str | None:
    """Why the heal must be skipped, or None when it may go ahead."""
    if settings.healer_stack_name and stack["StackName"] == settings.healer_stack_name:
        return "this is the healer's own stack; the healer never heals itself"
    if settings.opt_in_tag_key:
        value = stack["Tags"].get(settings.opt_in_tag_key)
        if value is None or (settings.opt_in_tag_value and value != settings.opt_in_tag_value):
            wanted = settings.opt_in_tag_key + (
                f"={settings.opt_in_tag_value}" if settings.opt_in_tag_value else ""
            )
            return f"the stack does not carry the opt-in tag {wanted}; tag it to let it be healed"
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
