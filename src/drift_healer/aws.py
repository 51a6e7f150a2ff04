"""The one way to build AWS clients.

Target-stack clients (CloudFormation) use the stack's region and, for another account, a role
assumed with a session name that identifies the execution. The healer's own clients (SNS) use the
function's account and region. boto3 honours ``AWS_ENDPOINT_URL``, which is how the CLI points
everything at the sandbox server.
"""

from __future__ import annotations

import os
import re
import threading
import time
from typing import Any

import boto3
from botocore.config import Config

_lock = threading.Lock()
#: Clients are thread-safe and costly to build (each new session re-reads the service model), so
#: one per (service, region, role, endpoint) is kept for the life of the container.
_clients: dict[tuple[Any, ...], tuple[float, Any]] = {}
_base_session: boto3.Session | None = None
_SESSION_NAME_CHARS = re.compile(r"[^\w+=,.@-]")


def session_name(execution: str) -> str:
    """An STS session name (≤ 64 chars of [\\w+=,.@-]) that identifies the execution in
    CloudTrail."""
    return ("drift-healer-" + _SESSION_NAME_CHARS.sub("-", execution))[:64]


def _session(role_arn: str | None, name: str) -> tuple[float, boto3.Session]:
    """(expiry, session): the function's own credentials, or the role's, assumed for an hour."""
    global _base_session
    with _lock:
        if _base_session is None:
            _base_session = boto3.Session()
        base = _base_session
    if role_arn is None:
        return float("inf"), base
    credentials = base.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=name)[
        "Credentials"
    ]
    session = boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    return credentials["Expiration"].timestamp(), session


def client(
    service: str,
    *,
    region: str | None = None,
    role_arn: str | None = None,
    execution: str = "local",
    max_attempts: int = 5,
) -> Any:
    """A boto3 client with standard-mode retries (throttling and 5xx back off inside the call),
    cached; clients of an assumed role are renewed five minutes before the role expires."""
    key = (service, region, role_arn, max_attempts, os.environ.get("AWS_ENDPOINT_URL"))
    with _lock:
        cached = _clients.get(key)
        if cached and cached[0] > time.time() + 300:
            return cached[1]
    expiry, session = _session(role_arn, session_name(execution))
    config = Config(
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        user_agent_extra="drift-healer",
    )
    made = session.client(service, region_name=region, config=config)
    with _lock:
        _clients[key] = (expiry, made)
    return made


def reset() -> None:
    """Forget cached sessions and clients (tests that change credentials or endpoints)."""
    global _base_session
    with _lock:
        _clients.clear()
        _base_session = None


def default_region() -> str:
    """The function's own region (AWS_REGION in Lambda), else the SDK's configured default."""
    region = boto3.Session().region_name or os.environ.get("AWS_REGION")
    if not region:
        raise RuntimeError("no AWS region configured: set AWS_REGION or pass Region in the event")
    return str(region)
