"""An emulated AWS account in which CloudFormation drift really happens (moto + drift extension).

Test- and demo-only: never imported by the Lambda handler, never bundled into its artifact.
"""

from .account import ACCOUNT_ID, DEFAULT_REGION, Inbox, Notification, Sandbox
from .engine import NO_CHANGES_REASON, Timing, wall_clock
from .faults import Faults

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
