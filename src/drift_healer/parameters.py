"""The change policy document, read from SSM Parameter Store (a thin adapter, I/O only)."""

from __future__ import annotations

from typing import Any


def read(client: Any, name: str) -> str:
    """The parameter's value (a SecureString decrypted): the change policy's JSON text."""
    return str(client.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"])
