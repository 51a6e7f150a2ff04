"""The one way to build AWS clients, and what AWS errors mean.

Target-stack clients (CloudFormation) use the stack's region and, for another account, a role
assumed once per execution, with a session name that identifies the execution in CloudTrail. The
healer's own clients (SNS) use the function's account and region. boto3 honours
``AWS_ENDPOINT_URL``, which is how the CLI points everything at the sandbox server.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import boto3
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    CredentialRetrievalError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
    SSOTokenLoadError,
    TokenRetrievalError,
    UnauthorizedSSOTokenError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from .errors import (
    AccessDenied,
    AwsRequestRefused,
    ChangeSetGone,
    HealError,
    InvalidRequest,
    MissingCredentials,
    StackNotFound,
)
from .redact import redact_text

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_resourcegroupstaggingapi import ResourceGroupsTaggingAPIClient
    from mypy_boto3_scheduler import EventBridgeSchedulerClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sts import STSClient
    from mypy_boto3_sts.type_defs import CredentialsTypeDef

K = TypeVar("K")
V = TypeVar("V")

#: Renew an assumed role this long before it expires.
_RENEW_SECONDS = 300


class _Expiring(Generic[K, V]):
    """A small least-recently-used map whose entries expire. Bounded: a container serves many
    executions, and their clients and roles must not pile up."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The value, unless it is missing or expires within _RENEW_SECONDS."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] <= time.time() + _RENEW_SECONDS:
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: K, value: V, expires: float = float("inf")) -> V:
        with self._lock:
            self._entries[key] = (expires, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


#: Built clients are thread-safe and costly (each reads its service model), so they are reused;
#: an assumed role is reused only within the execution that assumed it.
_clients: _Expiring[tuple[Any, ...], Any] = _Expiring()
_roles: _Expiring[tuple[str, str], CredentialsTypeDef] = _Expiring()
_lock = threading.Lock()
_base_session: boto3.Session | None = None
_SESSION_NAME_CHARS = re.compile(r"[^\w+=,.@-]")
#: KMSThrottling: SNS publishing to a KMS-encrypted topic (the healer's is) when KMS throttles.
_THROTTLING = frozenset(
    {"Throttling", "ThrottlingException", "ThrottledException", "KMSThrottling"}
)
_TRANSIENT = frozenset({"InternalFailure", "InternalError", "ServiceUnavailable", "RequestTimeout"})
_ACCESS_DENIED = frozenset(
    {"AccessDenied", "AccessDeniedException", "AuthorizationError", "UnauthorizedOperation"}
)
CREDENTIALS_REJECTED = frozenset(
    {"InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException", "SignatureDoesNotMatch"}
)
#: No usable credentials: none found, or none that could be loaded (SSO, a credential process).
NO_CREDENTIALS = (
    NoCredentialsError,
    PartialCredentialsError,
    CredentialRetrievalError,
    TokenRetrievalError,
    SSOTokenLoadError,
    UnauthorizedSSOTokenError,
)
#: The few calls that are not CloudFormation's, for naming the IAM action of an error.
_SERVICE_OF = {
    "AssumeRole": "sts",
    "Publish": "sns",
    "GetResources": "tag",
    "ListSchedules": "scheduler",
    "CreateSchedule": "scheduler",
    "UpdateSchedule": "scheduler",
    "DeleteSchedule": "scheduler",
    "GetSecretValue": "secretsmanager",
    "GetParameter": "ssm",
    "GetCalendarState": "ssm",
    "DescribeAlarms": "cloudwatch",
    "PutObject": "s3",
    "GetDurableExecutionHistory": "lambda",
    "SendDurableExecutionCallbackSuccess": "lambda",
    "SendDurableExecutionCallbackFailure": "lambda",
}


def session_name(execution: str) -> str:
    """An STS session name (≤ 64 chars of [\\w+=,.@-]) that identifies the execution in
    CloudTrail."""
    return ("drift-healer-" + _SESSION_NAME_CHARS.sub("-", execution))[:64]


def cloudformation(
    region: str, role_arn: str | None, execution: str, max_attempts: int
) -> CloudFormationClient:
    """The target stack's CloudFormation client: its region, and its account's role if any."""
    return cast(
        "CloudFormationClient",
        _client("cloudformation", region, role_arn, execution, max_attempts),
    )


def sns(max_attempts: int) -> SNSClient:
    """The healer's own SNS client (the function's account and region)."""
    return cast("SNSClient", _client("sns", None, None, "", max_attempts))


def s3(max_attempts: int) -> Any:
    """The healer's own S3 client (the change records and the stacks' timings: small objects,
    so a connection or an answer slower than 10 s is a fault, retried or given up on, not a
    wait of botocore's default minute)."""
    return _client("s3", None, None, "", max_attempts, timeout=10)


def cloudwatch(region: str, role_arn: str | None, execution: str, max_attempts: int) -> Any:
    """The target stack's CloudWatch client (the health gates' alarms watch the stack's own
    application: its region, and its account's role if any)."""
    return _client("cloudwatch", region, role_arn, execution, max_attempts)


def ssm(max_attempts: int) -> Any:
    """The healer's own SSM client (the change policy's parameter)."""
    return _client("ssm", None, None, "", max_attempts)


def secrets(max_attempts: int) -> Any:
    """The healer's own Secrets Manager client (the review links' key)."""
    return _client("secretsmanager", None, None, "", max_attempts)


def durable_executions(region: str | None, max_attempts: int) -> Any:
    """A Lambda client for the durable-execution API (history, callbacks) in ``region``."""
    return _client("lambda", region, None, "", max_attempts)


def tagging(
    region: str, role_arn: str | None, session: str, max_attempts: int
) -> ResourceGroupsTaggingAPIClient:
    """The Resource Groups Tagging API of an account and region the fleet spans."""
    return cast(
        "ResourceGroupsTaggingAPIClient",
        _client("resourcegroupstaggingapi", region, role_arn, session, max_attempts),
    )


def scheduler(max_attempts: int) -> EventBridgeSchedulerClient:
    """The healer's own EventBridge Scheduler (its schedule group is in its account and region)."""
    return cast("EventBridgeSchedulerClient", _client("scheduler", None, None, "", max_attempts))


def _client(
    service: str,
    region: str | None,
    role_arn: str | None,
    execution: str,
    max_attempts: int,
    timeout: int | None = None,
) -> Any:
    """A cached client with standard-mode retries (throttling and 5xx back off inside the call);
    ``timeout``: seconds to connect and to read (None: botocore's)."""
    key = (
        timeout,
        service,
        region,
        max_attempts,
        # botocore's endpoint variables (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE ID>, whose
        # spelling is not the client's name: SECRETS_MANAGER): a change makes a new client
        tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_ENDPOINT_URL"))),
        role_arn,
        execution if role_arn else None,
    )
    cached = _clients.get(key)
    if cached is not None:
        return cached
    config = Config(
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        user_agent_extra="drift-healer",
        **({} if timeout is None else {"connect_timeout": timeout, "read_timeout": timeout}),
    )
    expiry, credentials = float("inf"), {}
    if role_arn is not None:
        assumed = _assume(role_arn, execution)
        expiry = assumed["Expiration"].timestamp()
        credentials = {
            "aws_access_key_id": assumed["AccessKeyId"],
            "aws_secret_access_key": assumed["SecretAccessKey"],
            "aws_session_token": assumed["SessionToken"],
        }
    made = _base().client(service, region_name=region, config=config, **credentials)
    return _clients.put(key, made, expiry)


def _base() -> boto3.Session:
    """The function's own session: one per container, so service models are read once."""
    global _base_session
    with _lock:
        if _base_session is None:
            _base_session = boto3.Session()
        return _base_session


def _assume(role_arn: str, execution: str) -> CredentialsTypeDef:
    """The role's credentials for this execution: assumed once, with the execution as session
    name, and renewed before they expire."""
    key = (role_arn, execution)
    cached = _roles.get(key)
    if cached is not None:
        return cached
    sts: STSClient = _base().client("sts")
    credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name(execution))[
        "Credentials"
    ]
    return _roles.put(key, credentials, credentials["Expiration"].timestamp())


def reset() -> None:
    """Forget cached sessions, credentials and clients (tests that change credentials or
    endpoints)."""
    global _base_session
    _clients.clear()
    _roles.clear()
    with _lock:
        _base_session = None


def default_region() -> str:
    """The function's own region (AWS_REGION in Lambda), else the SDK's configured default."""
    region = boto3.Session().region_name or os.environ.get("AWS_REGION")
    if not region:
        raise InvalidRequest(
            "no AWS region configured: pass Region in the event (drift-healer heal: --region), "
            "or set AWS_REGION"
        )
    return str(region)


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def error_message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))


def is_throttling(error: ClientError) -> bool:
    """AWS asked us to slow down ("Rate exceeded"): wait and ask again."""
    return error_code(error) in _THROTTLING


def is_transient(error: BaseException) -> bool:
    """Worth asking again: throttling, a 5xx, or the network (a connection refused, closed or
    timed out). Everything else (AccessDenied, a ValidationError, missing credentials) fails the
    same way every time, so it is not retried."""
    if isinstance(error, ClientError):
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        return is_throttling(error) or error_code(error) in _TRANSIENT or status >= 500
    return isinstance(error, HTTPClientError | BotoConnectionError)


def classify(error: Exception, doing: str) -> HealError:
    """What a non-transient AWS error means for a heal, as a typed error that says what
    happened and what to do. ``doing`` names the phase (a step's name)."""
    if isinstance(error, HealError):
        return error
    if isinstance(error, NO_CREDENTIALS):
        return MissingCredentials(
            f"{doing}: no AWS credentials were found ({error}); in Lambda the function's role "
            "provides them, locally set AWS_PROFILE or run aws configure"
        )
    if not isinstance(error, ClientError):
        return AwsRequestRefused(f"{doing}: {type(error).__name__}: {redact_text(str(error))}")
    code, message = error_code(error), redact_text(error_message(error))
    operation = str(getattr(error, "operation_name", "") or "?")
    action = f"{_SERVICE_OF.get(operation, 'cloudformation')}:{operation}"
    if code in _ACCESS_DENIED:
        return AccessDenied(
            f"{doing}: the healer may not call {action} ({code}: {message}); allow it in the "
            "healer's role (template.yaml, HealerFunction's policies) or, for a stack in "
            "another account, in the member role (member-account.yaml)"
        )
    if code in CREDENTIALS_REJECTED:
        return MissingCredentials(
            f"{doing}: AWS rejected the credentials for {action} ({code}: {message}); renew "
            "them (locally: aws sso login or a fresh profile)"
        )
    if code == "ChangeSetNotFound":
        return ChangeSetGone(
            f"{doing}: the change set no longer exists ({message}): someone deleted it, or "
            "another change set was executed; the healer executed nothing, run the heal again"
        )
    if code == "ValidationError" and "does not exist" in message and "Stack" in message:
        return StackNotFound(
            f"{doing}: the stack no longer exists ({message}): it was deleted while it was "
            "being healed; nothing more was done"
        )
    return AwsRequestRefused(f"{doing}: AWS refused {action} ({code}: {message})")
