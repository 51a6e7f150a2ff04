"""An emulated AWS account in which CloudFormation drift really happens (moto + drift extension).

Test- and demo-only: never imported by the Lambda handler, never bundled into its artifact.
"""

from .account import ACCOUNT_ID, DEFAULT_REGION, Inbox, Notification, Sandbox
from .faults import Faults
from .planning import NO_CHANGES_REASON
from .timing import Timing, wall_clock

__all__ = [
    "ACCOUNT_ID",
    "DEFAULT_REGION",
    "NO_CHANGES_REASON",
    "Faults",
    "Inbox",
    "Notification",
    "Sandbox",
    "Timing",
    "wall_clock",
]
