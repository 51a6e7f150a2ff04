"""Secrets stay secret: sensitive property values never reach checkpoints, logs or emails."""

from __future__ import annotations

import re

REDACTED = "****"
_SENSITIVE = re.compile(
    r"(pass(word|wd|phrase)?|secret|token|api[-_]?key|private[-_]?key|credential|auth)",
    re.IGNORECASE,
)


def is_sensitive(property_path: str, resource_name: str = "") -> bool:
    """Whether a property's values must be hidden: its path looks secret (``/MasterUserPassword``)
    or it is the value of a resource whose name looks secret (``/Value`` of ``/app/db-password``).
    """
    if _SENSITIVE.search(property_path):
        return True
    return property_path.startswith("/Value") and bool(_SENSITIVE.search(resource_name))


def redact(value: str | None, property_path: str, resource_name: str = "") -> str | None:
    """The value, or ``****`` when the property is sensitive."""
    if value is None:
        return None
    return REDACTED if is_sensitive(property_path, resource_name) else value
