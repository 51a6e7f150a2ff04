"""The review links' key, read from AWS Secrets Manager and kept for a few minutes: a page view
costs no extra call, and a rotated secret is used within minutes."""

from __future__ import annotations

import threading
import time
from typing import Any

#: Seconds a key read from Secrets Manager is used before it is read again.
KEEP_SECONDS = 300

_kept: dict[str, tuple[float, str]] = {}
_lock = threading.Lock()


def review_key(client: Any, secret_arn: str) -> str:
    """The secret string of ``secret_arn`` (GetSecretValue), at most KEEP_SECONDS old."""
    now = time.monotonic()
    with _lock:
        kept = _kept.get(secret_arn)
        if kept is not None and now - kept[0] < KEEP_SECONDS:
            return kept[1]
    value = str(client.get_secret_value(SecretId=secret_arn)["SecretString"])
    with _lock:
        _kept[secret_arn] = (now, value)
    return value


def forget() -> None:
    """Drop every kept key (tests; a new secret takes effect at once)."""
    with _lock:
        _kept.clear()
