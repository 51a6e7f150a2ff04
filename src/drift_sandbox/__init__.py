"""An emulated AWS account in which CloudFormation drift really happens (moto + drift extension).

Test- and demo-only: never imported by the Lambda handler, never bundled into its artifact.
"""

from .account import ACCOUNT_ID, DEFAULT_REGION, Inbox, Notification, Sandbox
from .durations import DurationModel, Durations, StackTiming
from .faults import Faults
from .planning import NO_CHANGES_REASON
from .ratelimit import Limit, RateLimits
from .timing import Timing, wall_clock

__all__ = [
    "ACCOUNT_ID",
    "DEFAULT_REGION",
    "NO_CHANGES_REASON",
    "DurationModel",
    "Durations",
    "Faults",
    "Inbox",
    "Limit",
    "Notification",
    "RateLimits",
    "Sandbox",
    "StackTiming",
    "Timing",
    "wall_clock",
]
