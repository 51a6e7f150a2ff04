"""Change records to S3 (a thin adapter, I/O only)."""

from __future__ import annotations

import json
from typing import Any


def put_record(client: Any, bucket: str, key: str, record: dict[str, Any]) -> None:
    """Write one change record (the bucket encrypts it with its key; versioning keeps every
    write). The same key on a retry overwrites with the same content."""
    client.put_object(
        Bucket=bucket,
        Key=key,
        Body=json.dumps(record, indent=1, sort_keys=True).encode(),
        ContentType="application/json",
    )
