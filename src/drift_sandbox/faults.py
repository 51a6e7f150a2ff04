"""Faults the sandbox can inject, switchable per test.

API-level faults (throttling, transient 5xx) answer a chosen action of any service with an error for
N calls, before the action runs. Behavioural faults (a failed detection, a failed change set, a
failed execution, a busy or vanished stack, phantom changes) are read by the drift extension when
the operation they concern settles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from botocore.exceptions import EndpointConnectionError, NoCredentialsError

#: How each service spells throttling and a transient server error, and with which HTTP status
#: (each service's own error shapes in botocore's models; the Query-protocol services,
#: CloudFormation, STS and SNS among them, answer ``Throttling`` and ``InternalFailure``; S3
#: ``SlowDown``, HTTP 503, and ``InternalError``). boto3's retry modes treat every one of these
#: codes as throttling or transient.
_THROTTLING: dict[str, tuple[str, int]] = {
    "scheduler": ("ThrottlingException", 429),
    "resourcegroupstaggingapi": ("ThrottledException", 400),
    "s3": ("SlowDown", 503),
}
#: The services whose missing permission is AccessDeniedException (the JSON-protocol ones).
_ACCESS_DENIED_EXCEPTION = frozenset({"scheduler", "resourcegroupstaggingapi"})
#: The IAM action prefix where it is not the service's name.
_IAM_PREFIX = {"resourcegroupstaggingapi": "tag"}
_SERVER_ERROR: dict[str, tuple[str, int]] = {
    "scheduler": ("InternalServerException", 500),
    "resourcegroupstaggingapi": ("InternalServiceException", 500),
    "s3": ("InternalError", 500),
}


@dataclass
class ApiFault:
    """An error answered instead of an action, ``remaining`` more times."""

    service: str
    action: str
    code: str
    message: str
    status: int
    remaining: int
    #: True: the action takes effect and only its response is lost (a timeout, a crash before
    #: the caller recorded it). False: the error is answered instead of running the action.
    after: bool = False
    #: Not an answer at all: the client raises this (the network dropped, no credentials).
    raises: Callable[[], Exception] | None = None


def throttling(service: str, action: str, times: int = 1) -> ApiFault:
    """Throttling ("Rate exceeded") of ``action`` as ``service`` spells it: an injected fault,
    or what an exhausted rate limit (``ratelimit``) answers."""
    code, status = _THROTTLING.get(service, ("Throttling", 400))
    return ApiFault(service, action, code, "Rate exceeded", status, times)


@dataclass
class PhantomChange:
    """A Modify change CloudFormation reports on a resource that did not drift (a known bug)."""

    logical_id: str
    replacement: str = "True"


@dataclass
class Faults:
    """The switchboard. Every method returns self, so faults chain."""

    api: list[ApiFault] = field(default_factory=list)
    #: stack name -> (reason, how many resources get checked before the failure)
    detection_failures: dict[str, tuple[str, int]] = field(default_factory=dict)
    #: stack name -> reason the next change set FAILS with
    change_set_failures: dict[str, str] = field(default_factory=dict)
    #: stack name -> logical id of the resource whose update fails
    execution_failures: dict[str, str] = field(default_factory=dict)
    phantom_changes: dict[str, list[PhantomChange]] = field(default_factory=dict)
    #: stack name -> logical ids whose new values CloudFormation knows only after applying
    unknown_values: dict[str, set[str]] = field(default_factory=dict)
    #: (service, action) -> callbacks run once, just before that action
    before: dict[tuple[str, str], list[Callable[[], None]]] = field(default_factory=dict)

    def throttle(self, action: str, times: int = 1, service: str = "cloudformation") -> Faults:
        """Answer ``action`` with Throttling ("Rate exceeded", HTTP 400) ``times`` times; as the
        service spells it (EventBridge Scheduler: ThrottlingException, HTTP 429; the Resource
        Groups Tagging API: ThrottledException)."""
        self.api.append(throttling(service, action, times))
        return self

    def server_error(self, action: str, times: int = 1, service: str = "cloudformation") -> Faults:
        """Answer ``action`` with a transient InternalFailure (HTTP 500) ``times`` times; as the
        service spells it (Scheduler: InternalServerException; the tagging API:
        InternalServiceException)."""
        code, status = _SERVER_ERROR.get(service, ("InternalFailure", 500))
        message = "We encountered an internal error. Please try again."
        self.api.append(ApiFault(service, action, code, message, status, times))
        return self

    def refuse(
        self,
        action: str,
        code: str,
        message: str,
        times: int = 1,
        status: int = 400,
        service: str = "cloudformation",
    ) -> Faults:
        """Answer ``action`` with the error ``code`` (e.g. ValidationError) ``times`` times."""
        self.api.append(ApiFault(service, action, code, message, status, times))
        return self

    def deny(self, action: str, times: int = 1, service: str = "cloudformation") -> Faults:
        """Answer ``action`` with AccessDenied (HTTP 403), as IAM does without a permission. For
        S3, ``action`` is the API operation (drift_sandbox.s3names), not the IAM action: denying
        GetObject leaves HeadObject, which IAM also governs by s3:GetObject, alone."""
        permission = f"{_IAM_PREFIX.get(service, service)}:{action}"
        message = (
            "User: arn:aws:sts::123456789012:assumed-role/drift-healer/healer is not authorized "
            f"to perform: {permission} because no identity-based policy allows the "
            f"{permission} action"
        )
        code = "AccessDeniedException" if service in _ACCESS_DENIED_EXCEPTION else "AccessDenied"
        return self.refuse(action, code, message, times, 403, service)

    def disconnect(self, action: str, times: int = 1, service: str = "cloudformation") -> Faults:
        """The network drops ``times`` calls of ``action``: the client raises
        EndpointConnectionError and the action never reaches the service (in-process only)."""
        url = f"https://{service}.us-east-1.amazonaws.com/"
        self.api.append(
            ApiFault(
                service,
                action,
                "EndpointConnectionError",
                "Could not connect",
                0,
                times,
                raises=lambda: EndpointConnectionError(endpoint_url=url),
            )
        )
        return self

    def no_credentials(
        self, action: str, times: int = 1, service: str = "cloudformation"
    ) -> Faults:
        """The client finds no credentials for ``action`` (botocore's NoCredentialsError,
        raised before anything is sent; in-process only)."""
        self.api.append(
            ApiFault(service, action, "NoCredentials", "", 0, times, raises=NoCredentialsError)
        )
        return self

    def lose_response(self, action: str, times: int = 1, service: str = "cloudformation") -> Faults:
        """Run ``action``, then answer InternalFailure (HTTP 500) as if the response were lost:
        the caller cannot tell whether it took effect."""
        code, status = _SERVER_ERROR.get(service, ("InternalFailure", 500))
        message = "Response lost after the action ran."
        self.api.append(ApiFault(service, action, code, message, status, times, after=True))
        return self

    def fail_detection(
        self, stack_name: str, reason: str = "Rate exceeded", checked: int = 1
    ) -> Faults:
        """The next detection on the stack ends DETECTION_FAILED after checking ``checked``
        resources (their results stay, as AWS keeps partial results)."""
        self.detection_failures[stack_name] = (reason, checked)
        return self

    def fail_change_set(self, stack_name: str, reason: str) -> Faults:
        """The next change set on the stack ends FAILED with ``reason``."""
        self.change_set_failures[stack_name] = reason
        return self

    def fail_execution(self, stack_name: str, logical_id: str) -> Faults:
        """The next execution on the stack fails on ``logical_id`` and rolls back."""
        self.execution_failures[stack_name] = logical_id
        return self

    def phantom_change(self, stack_name: str, logical_id: str, replacement: str = "True") -> Faults:
        """Change sets on the stack report a phantom Modify of ``logical_id``."""
        self.phantom_changes.setdefault(stack_name, []).append(
            PhantomChange(logical_id, replacement)
        )
        return self

    def known_after_apply(self, stack_name: str, logical_id: str) -> Faults:
        """Change sets on the stack show ``{{changeSet:KNOWN_AFTER_APPLY}}`` as every new value
        of ``logical_id`` (a value that depends on something resolved while applying)."""
        self.unknown_values.setdefault(stack_name, set()).add(logical_id)
        return self

    def before_call(
        self, action: str, callback: Callable[[], None], service: str = "cloudformation"
    ) -> Faults:
        """Run ``callback`` once, just before the next ``action`` call (e.g. delete the stack)."""
        self.before.setdefault((service, action), []).append(callback)
        return self

    def take_api_fault(self, service: str, action: str, after: bool = False) -> ApiFault | None:
        """The fault to answer this call with, before or after it runs, if any (and count it)."""
        for fault in self.api:
            if (fault.service, fault.action, fault.after) == (
                service,
                action,
                after,
            ) and fault.remaining > 0:
                fault.remaining -= 1
                return fault
        return None

    def run_before(self, service: str, action: str) -> None:
        """Run (and forget) the callbacks registered for this call."""
        for callback in self.before.pop((service, action), []):
            callback()

    def clear(self) -> None:
        """Switch every fault off."""
        self.api.clear()
        self.detection_failures.clear()
        self.change_set_failures.clear()
        self.execution_failures.clear()
        self.phantom_changes.clear()
        self.unknown_values.clear()
        self.before.clear()
