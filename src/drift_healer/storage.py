"""Objects in S3: change records and the stacks' timings (a thin adapter, I/O only)."""

from __future__ import annotations

import json
from typing import Any


def put_record(client: Any, bucket: str, key: str, record: dict[str, Any]) -> None:
    """Write one change record (the bucket encrypts it with its key; versioning keeps every
    write). The same key on a retry overwrites with the same content."""
    put_text(client, bucket, key, json.dumps(record, indent=1, sort_keys=True))


def put_text(client: Any, bucket: str, key: str, text: str) -> None:
    """Write one JSON document."""
    client.put_object(Bucket=bucket, Key=key, Body=text.encode(), ContentType="application/json")


def get_text(client: Any, bucket: str, key: str) -> str | None:
    """The document at ``key``; None when there is none (NoSuchKey: reading a missing key
    needs ``s3:ListBucket`` on its prefix, else S3 answers AccessDenied)."""
    try:
        answer = client.get_object(Bucket=bucket, Key=key)
    except client.exceptions.NoSuchKey:
        return None
    text: str = answer["Body"].read().decode()
    return text
