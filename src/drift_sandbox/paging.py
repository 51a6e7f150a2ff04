"""Pages, as AWS hands out long answers: a slice and a NextToken for the rest.

The token is the offset of the next page, opaque to callers. A reader that stops at the first
page misses what the later ones hold, which is what a small page size makes every test show.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from moto.cloudformation.exceptions import ValidationError

T = TypeVar("T")


def page(items: Sequence[T], token: str | None, size: int) -> tuple[list[T], str | None]:
    """The page of ``items`` that ``token`` starts (the first without one), and the token of the
    next page (None on the last)."""
    start = 0
    if token:
        if not token.isdigit():
            raise ValidationError(message=f"Invalid NextToken: {token}")
        start = int(token)
    end = start + size
    return list(items[start:end]), str(end) if end < len(items) else None
