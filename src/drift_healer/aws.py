"""The one way to build AWS clients.

Target-stack clients (CloudFormation) use the stack's region and, for another account, a role
assumed with a session name that identifies the execution. The healer's own clients (SNS) use the
function's account and region. boto3 honours ``AWS_ENDPOINT_URL``, which is how the CLI points
everything at the sandbox server.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import boto3
from botocore.config import Config

_lock = threading.Lock()
_sessions: dict[tuple[str | None, str], tuple[float, boto3.Session]] = {}
_SESSION_NAME_CHARS = re.compile(r"[^\w+=,.@-]")


def session_name(execution: str) -> str:
    """An STS session name (≤ 64 chars of [\\w+=,.@-]) that identifies the execution in
    CloudTrail."""
    return ("drift-healer-" + _SESSION_NAME_CHARS.sub("-", execution))[:64]


def _session(region: str | None, role_arn: str | None, name: str) -> boto3.Session:
    if role_arn is None:
        return boto3.Session(region_name=region)
    key = (region, role_arn)
    with _lock:
        cached = _sessions.get(key)
        if cached and cached[0] > time.time() + 300:
            return cached[1]
    credentials = boto3.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=name)[
        "Credentials"
    ]
    session = boto3.Session(
        region_name=region,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    with _lock:
        _sessions[key] = (credentials["Expiration"].timestamp(), session)
    return session


def client(
    service: str,
    *,
    region: str | None = None,
    role_arn: str | None = None,
    execution: str = "local",
    max_attempts: int = 5,
) -> Any:
    """A boto3 client with standard-mode retries (throttling and 5xx back off inside the call)."""
    config = Config(
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        user_agent_extra="drift-healer",
    )
    return _session(region, role_arn, session_name(execution)).client(service, config=config)


def default_region() -> str:
    """The function's own region (AWS_REGION in Lambda), else the SDK's configured default."""
    region = boto3.Session().region_name
    if not region:
        raise RuntimeError("no AWS region configured: set AWS_REGION or pass Region in the event")
    return str(region)
