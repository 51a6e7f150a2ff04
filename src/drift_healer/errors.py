"""Typed failures. A failed heal fails the durable execution with one of these (after notifying),
so the execution's error type says what went wrong and what to do."""

from __future__ import annotations


class HealError(Exception):
    """A heal that could not finish. The message says what happened and what to do."""


class InvalidRequest(HealError, ValueError):
    """The event is not a valid HealRequest; nothing was done."""


class StackNotFound(HealError):
    """The stack does not exist (or the healer's role cannot see it)."""


class DetectionFailed(HealError):
    """CloudFormation could not finish drift detection."""


class WaitTimedOut(HealError):
    """CloudFormation did not finish within the configured maximum wait."""


class ChangeSetFailed(HealError):
    """The REVERT_DRIFT change set could not be created."""


class ExecutionFailed(HealError):
    """Executing the change set failed, or the change set was overtaken (OBSOLETE)."""


class NotSupported(HealError):
    """The request asks for something this version does not do yet."""
