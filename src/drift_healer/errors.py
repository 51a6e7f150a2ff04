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


class AccessDenied(HealError):
    """AWS refused a call for lack of permission: the message names the action and the policy
    to change."""


class MissingCredentials(HealError):
    """No AWS credentials were found (or they were rejected): nothing was called."""


class AwsUnavailable(HealError):
    """AWS kept failing (throttling, 5xx, network) after every retry; nothing is lost, run again."""


class ChangeSetGone(HealError):
    """The change set was deleted while the heal waited (by a reviewer, or by another
    execution); the healer executed nothing."""


class AwsRequestRefused(HealError):
    """AWS refused a request for a reason that retrying cannot fix (a validation error)."""


def error_class(qualified_name: str) -> type[HealError] | None:
    """The HealError class a durable step recorded by its qualified name (``module.Class``),
    so a typed failure survives the step boundary and replays."""
    pending: list[type[HealError]] = [HealError]
    while pending:
        cls = pending.pop()
        if f"{cls.__module__}.{cls.__qualname__}" == qualified_name:
            return cls
        pending.extend(cls.__subclasses__())
    return None


class InvalidConfiguration(HealError, ValueError):
    """The function's environment is not what the template sets; the message names the variable."""


class ChangePolicyInvalid(HealError, ValueError):
    """The change policy cannot be used (the document, or a stack's tag naming a tier or window
    it does not have): the message names the line or the tag and the fix; nothing was changed."""
