"""The drift APIs as moto request handlers.

moto dispatches an action to the snake_case method of its response class, looked up on every
request, and serialises a returned ``ActionResult`` from the botocore output shape. Installing
methods on ``CloudFormationResponse`` therefore works in-process (``mock_aws``) and in
``ThreadedMotoServer`` alike, and botocore parses every answer against the real service model.
A gate in front of ``BaseResponse.call_action``, and of S3's bucket and object handlers (S3 is
dispatched apart), sees every request of any service: it counts calls (per account too), answers
"Rate exceeded" when the account's rate limit for the action is spent (:mod:`.ratelimit`), notes
the STS sessions assumed, and injects API faults. The fleet's
APIs (the tagging API's GetResources, EventBridge Scheduler) have handlers of their own, installed
the same way: :mod:`.tagging`, :mod:`.schedules`.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, cast
from urllib.parse import parse_qs, urlparse

from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, BaseResponse, EmptyResult
from moto.resourcegroupstaggingapi.responses import ResourceGroupsTaggingAPIResponse
from moto.s3.exceptions import S3ClientError
from moto.s3.responses import S3Response
from moto.scheduler.responses import EventBridgeSchedulerResponse
from moto.ssm.responses import SimpleSystemManagerResponse

from . import calendars, s3names, schedules, tagging
from .engine import DriftEngine
from .faults import ApiFault, Faults, throttling
from .ratelimit import RateLimits
from .records import ChangeSetNotFound
from .stacks import set_drift_information


class Host(Protocol):
    """What the handlers need of the sandbox that installed them (``account.Sandbox`` is one).
    A protocol, not the class: the account builds on this module, never the other way round."""

    engine: DriftEngine
    faults: Faults
    #: The account's API rate limits (a token bucket per action; none set: all admitted).
    limits: RateLimits
    #: How often each (service, action) was called, faulted calls included.
    calls: Counter[tuple[str, str]]
    #: The same, per (account, service, action): the account the caller's credentials map to.
    calls_by_account: Counter[tuple[str, str, str]]
    #: (role ARN, session name) of every AssumeRole that ran, in order.
    sessions: list[tuple[str, str]]


_active: Host | None = None
_originals: dict[tuple[type, str], Callable[..., Any]] = {}


def _sandbox() -> Host:
    if _active is None:  # pragma: no cover - only reachable if patches outlive the sandbox
        raise RuntimeError("no sandbox is active")
    return _active


def _original(cls: type, name: str) -> Callable[..., Any]:
    return _originals[(cls, name)]


# --------------------------------------------------------------------------------- gate
#: What STS accepts as a RoleArn (it refuses anything else with a ValidationError).
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}", re.ASCII)


class InjectedFault(ServiceException):
    """An injected API error. It must not live in a ``moto.*`` module: moto looks the error
    model up by the exception's module name."""


def _call_action(self: BaseResponse) -> Any:
    sandbox = _active
    if sandbox is None:
        return _original(BaseResponse, "call_action")(self)
    service, action = str(self.service_name), self._get_action()

    def run() -> Any:
        if (service, action) == ("sts", "AssumeRole") and not _ROLE_ARN.fullmatch(
            self._get_param("RoleArn") or ""
        ):
            return _NotRun(
                _fault_response(
                    self,
                    ApiFault(
                        service,
                        action,
                        "ValidationError",
                        f"1 validation error detected: Value '{self._get_param('RoleArn')}' at "
                        "'roleArn' failed to satisfy constraint: Member must be a valid role ARN",
                        400,
                        1,
                    ),
                )
            )
        if service == "cloudformation":
            sandbox.engine.settle()
        response = _original(BaseResponse, "call_action")(self)
        if (service, action) == ("sts", "AssumeRole") and int(response[0]) < 400:
            # it ran (even if its response is lost below): the session exists
            sandbox.sessions.append(
                (self._get_param("RoleArn"), self._get_param("RoleSessionName"))
            )
        return response

    return _gate(sandbox, self, service, action, run)


def _gate(
    sandbox: Host, self: BaseResponse, service: str, action: str, run: Callable[[], Any]
) -> Any:
    """Count the call, answer the account's rate limit or an injected fault instead of it, or
    ``run`` it (and lose its response if a fault says so)."""
    sandbox.calls[(service, action)] += 1
    sandbox.calls_by_account[(str(self.current_account), service, action)] += 1
    if not sandbox.limits.admit(str(self.current_account), str(self.region), service, action):
        return _fault_response(self, throttling(service, action))
    fault = sandbox.faults.take_api_fault(service, action)
    if fault is not None:
        return _fault_response(self, fault)
    sandbox.faults.run_before(service, action)
    response = run()
    if isinstance(response, _NotRun):  # refused before it ran: nothing to lose
        return response.response
    lost = sandbox.faults.take_api_fault(service, action, after=True)
    return response if lost is None else _fault_response(self, lost)


@dataclass(frozen=True)
class _NotRun:
    """The answer of a call the service refused before running it."""

    response: Any


# S3 answers outside call_action (its REST paths are dispatched by method and query): the same
# gate stands in front of its bucket and object handlers, each request named as botocore's S3
# model names its operation (:mod:`.s3names`).
def _s3_key_response(self: S3Response, request: Any, full_url: str) -> Any:
    return _s3_gate(self, request, full_url, "_key_response")


def _s3_bucket_response(self: S3Response, request: Any, full_url: str) -> Any:
    return _s3_gate(self, request, full_url, "_bucket_response")


def _s3_gate(self: S3Response, request: Any, full_url: str, handler_name: str) -> Any:
    handler = _original(S3Response, handler_name)
    sandbox = _active
    if sandbox is None:
        return handler(self, request, full_url)
    level: s3names.Level = "object"
    if handler_name == "_bucket_response":
        level = "bucket" if self.parse_bucket_name_from_url(request, full_url) else "service"
    url = urlparse(full_url)
    query = parse_qs(url.query, keep_blank_values=True)
    action = s3names.operation(
        request.method, level, query, request.headers.keys(), url.hostname or ""
    )

    def run() -> Any:
        try:
            return handler(self, request, full_url)
        except S3ClientError as error:  # an answer like any other (lost too, if a fault says)
            return self.serialized(ActionResult(error))

    return _gate(sandbox, self, "s3", action, run)


def _fault_response(self: BaseResponse, fault: ApiFault) -> Any:
    if fault.raises is not None:
        raise fault.raises()
    with warnings.catch_warnings():  # Throttling is unmodeled in AWS's own models too
        warnings.simplefilter("ignore", UserWarning)
        _, headers, body = self.serialized(ActionResult(InjectedFault(fault.code, fault.message)))
    headers["status"] = fault.status
    if getattr(self, "method", "") == "HEAD":  # a HEAD answer has no body: only its status
        body = b""
    return fault.status, headers, body


# --------------------------------------------------------------------------------- drift
def _detect_stack_drift(self: CloudFormationResponse) -> ActionResult:
    detection_id = _sandbox().engine.detection.detect_stack_drift(
        self.current_account,
        self.region,
        self._get_param("StackName"),
        self._get_param("LogicalResourceIds") or None,
    )
    return ActionResult({"StackDriftDetectionId": detection_id})


def _describe_stack_drift_detection_status(self: CloudFormationResponse) -> ActionResult:
    detection_id = self._get_param("StackDriftDetectionId")
    return ActionResult(_sandbox().engine.detection.describe_detection(detection_id))


def _describe_stack_resource_drifts(self: CloudFormationResponse) -> ActionResult:
    max_results = int(self._get_param("MaxResults") or 100)
    if not 1 <= max_results <= 100:
        raise ValidationError(
            message="1 validation error detected: Value at 'maxResults' failed to satisfy "
            "constraint: Member must have value between 1 and 100"
        )
    page = _sandbox().engine.detection.resource_drifts(
        self.current_account,
        self.region,
        self._get_param("StackName"),
        self._get_param("StackResourceDriftStatusFilters") or None,
        max_results,
        self._get_param("NextToken"),
    )
    return ActionResult(page)


def _detect_stack_resource_drift(self: CloudFormationResponse) -> ActionResult:
    drift = _sandbox().engine.detection.detect_resource_drift(
        self.current_account,
        self.region,
        self._get_param("StackName"),
        self._get_param("LogicalResourceId"),
    )
    return ActionResult({"StackResourceDrift": drift})


# --------------------------------------------------------------------------------- stacks
def _create_stack(self: CloudFormationResponse) -> ActionResult:
    result: Any = _original(CloudFormationResponse, "create_stack")(self)
    engine = _sandbox().engine
    engine.on_stack_created(
        engine.stack(self.current_account, self.region, result.result["StackId"])
    )
    return cast(ActionResult, result)


def _update_stack(self: CloudFormationResponse) -> ActionResult:
    """moto's UpdateStack, with the tags as AWS has them: new Tags alone are an update (moto
    refuses "No updates are to be performed." when the template and parameters are unchanged),
    and an empty Tags list removes every tag (moto keeps them: it cannot tell empty from absent).
    https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_UpdateStack.html"""
    tags = _requested_tags(self)
    try:
        result: Any = _original(CloudFormationResponse, "update_stack")(self)
    except ValidationError as refused:
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        if "No updates are to be performed" not in refused.message or tags in (None, stack.tags):
            raise
        self.cloudformation_backend.update_stack(
            name=stack.stack_id,
            template=str(stack.template),  # unchanged, or it would not have been refused
            role_arn=self._get_param("RoleARN"),
            parameters=self._get_param("Parameters", []),
            tags=tags,
        )
        result = ActionResult({"StackId": stack.stack_id})
    engine = _sandbox().engine
    stack = engine.stack(self.current_account, self.region, result.result["StackId"])
    if tags == {}:
        stack.tags = {}
    engine.on_stack_updated(stack)
    return cast(ActionResult, result)


def _requested_tags(self: CloudFormationResponse) -> dict[str, str] | None:
    """The Tags of an UpdateStack: None when not given (tags stay), {} when given empty (boto3
    sends ``Tags=``)."""
    if self.querystring.get("Tags") == [""]:
        return {}
    given = self._get_param("Tags")
    return None if not given else {t["Key"]: t["Value"] for t in given}


def _delete_stack(self: CloudFormationResponse) -> ActionResult:
    name = self._get_param("StackName")
    backend = self.cloudformation_backend
    found = next((s for s in backend.stacks.values() if name in (s.name, s.stack_id)), None)
    result: Any = _original(CloudFormationResponse, "delete_stack")(self)
    if found is not None:
        _sandbox().engine.on_stack_deleted(self.current_account, self.region, found.stack_id)
    return cast(ActionResult, result)


def _describe_stacks(self: CloudFormationResponse) -> ActionResult:
    for stack in self.cloudformation_backend.stacks.values():
        if not hasattr(stack, "drift_information"):
            set_drift_information(stack, {"StackDriftStatus": "NOT_CHECKED"})
    return cast(ActionResult, _original(CloudFormationResponse, "describe_stacks")(self))


# --------------------------------------------------------------------------------- change sets
def _find(self: CloudFormationResponse) -> Any:
    return _sandbox().engine.lifecycle.find_change_set(
        self.current_account,
        self.region,
        self._get_param("ChangeSetName"),
        self._get_param("StackName"),
    )


def _moto(self: CloudFormationResponse, name: str) -> Any:
    """Fall back to moto's own (template-diff) change sets for anything not REVERT_DRIFT.
    moto crashes or blames the stack on unknown names, so answer those as AWS does."""
    wanted = self._get_param("ChangeSetName")
    known = self.cloudformation_backend.change_sets
    if not any(wanted in (arn, c.change_set_name) for arn, c in known.items()):
        raise ChangeSetNotFound(f"ChangeSet [{wanted}] does not exist")
    return _original(CloudFormationResponse, name)(self)


def _create_change_set(self: CloudFormationResponse) -> ActionResult:
    if self._get_param("DeploymentMode") != "REVERT_DRIFT":
        return _original(CloudFormationResponse, "create_change_set")(self)  # type: ignore[no-any-return]
    if self._get_param("ChangeSetType", "UPDATE") != "UPDATE":
        raise ValidationError(message="REVERT_DRIFT change sets must be of type UPDATE.")
    change_set = _sandbox().engine.planning.create_change_set(
        self.current_account,
        self.region,
        stack_name=self._get_param("StackName"),
        name=self._get_param("ChangeSetName"),
        params=self._get_param("Parameters", []),
        capabilities=self._get_param("Capabilities", []),
        description=self._get_param("Description"),
        client_token=self._get_param("ClientToken"),
        use_previous_template=self._get_bool_param("UsePreviousTemplate", False),
    )
    return ActionResult({"Id": change_set.arn, "StackId": change_set.stack_id})


def _describe_change_set(self: CloudFormationResponse) -> ActionResult:
    change_set = _find(self)
    if change_set is None:
        return _moto(self, "describe_change_set")  # type: ignore[no-any-return]
    return ActionResult(
        _sandbox().engine.lifecycle.describe_change_set(
            change_set,
            self._get_param("NextToken"),
            include_values=self._get_bool_param("IncludePropertyValues", False),
        )
    )


def _execute_change_set(self: CloudFormationResponse) -> ActionResult:
    change_set = _find(self)
    if change_set is None:
        return _moto(self, "execute_change_set")  # type: ignore[no-any-return]
    _sandbox().engine.execution.execute_change_set(
        change_set, self._get_param("ClientRequestToken")
    )
    return EmptyResult()


def _delete_change_set(self: CloudFormationResponse) -> ActionResult:
    change_set = _find(self)
    if change_set is None:
        return _moto(self, "delete_change_set")  # type: ignore[no-any-return]
    _sandbox().engine.lifecycle.delete_change_set(change_set)
    return EmptyResult()


def _list_change_sets(self: CloudFormationResponse) -> ActionResult:
    page = _sandbox().engine.lifecycle.list_change_sets(
        self.current_account,
        self.region,
        self._get_param("StackName"),
        self._get_param("NextToken"),
    )
    return ActionResult(page)


# --------------------------------------------------------------------------------- the fleet
def _get_resources(self: ResourceGroupsTaggingAPIResponse) -> ActionResult:
    return tagging.get_resources(self, _sandbox().engine.clock())


def _get_calendar_state(self: SimpleSystemManagerResponse) -> ActionResult:
    return calendars.get_calendar_state(self, _sandbox().engine.clock())


_HANDLERS: dict[str, Callable[..., Any]] = {
    "detect_stack_drift": _detect_stack_drift,
    "describe_stack_drift_detection_status": _describe_stack_drift_detection_status,
    "describe_stack_resource_drifts": _describe_stack_resource_drifts,
    "detect_stack_resource_drift": _detect_stack_resource_drift,
    "create_stack": _create_stack,
    "update_stack": _update_stack,
    "delete_stack": _delete_stack,
    "describe_stacks": _describe_stacks,
    "create_change_set": _create_change_set,
    "describe_change_set": _describe_change_set,
    "execute_change_set": _execute_change_set,
    "delete_change_set": _delete_change_set,
    "list_change_sets": _list_change_sets,
}


def install(sandbox: Host) -> None:
    """Make ``sandbox`` the active one and put the drift handlers into moto."""
    global _active
    if _active is not None and _active is not sandbox:
        raise RuntimeError("another sandbox is already running in this process; stop it first")
    _active = sandbox
    tagging.reset()
    calendars.reset()
    targets: list[tuple[type, str, Callable[..., Any]]] = [
        (BaseResponse, "call_action", _call_action),
        (S3Response, "_key_response", _s3_key_response),
        (S3Response, "_bucket_response", _s3_bucket_response),
        *((CloudFormationResponse, name, fn) for name, fn in _HANDLERS.items()),
        (ResourceGroupsTaggingAPIResponse, "get_resources", _get_resources),
        (SimpleSystemManagerResponse, "get_calendar_state", _get_calendar_state),
        *((EventBridgeSchedulerResponse, name, fn) for name, fn in schedules.HANDLERS.items()),
    ]
    for cls, name, fn in targets:
        if (cls, name) not in _originals:
            _originals[(cls, name)] = cls.__dict__.get(name)  # type: ignore[assignment]
        setattr(cls, name, fn)


def uninstall() -> None:
    """Give moto back its own handlers."""
    global _active
    for (cls, name), fn in _originals.items():
        if fn is None:
            delattr(cls, name)
        else:
            setattr(cls, name, fn)
    _originals.clear()
    tagging.reset()
    calendars.reset()
    _active = None
