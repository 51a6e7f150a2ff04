"""Signed review links: a token that lets whoever holds it review one approval, and answer it once.

The approval email carries a link to the review page with a token. The token names the durable
execution, the callback it waits on and the fingerprint of the reviewed changes, and an expiry
(the approval's deadline), signed with HMAC-SHA256 under a secret kept in AWS Secrets Manager.
The review page trusts nothing in the link it cannot verify: a token that is altered, signed
under another key, cut short or past its expiry is refused, whatever it says.

Single use comes from the callback itself: a durable callback can be answered once, so the page
answers only a callback still pending, and a second answer with the same token finds none.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime

#: Versioned, so that a later format can tell its tokens apart; also the signing context.
VERSION = "v1"
#: Longer than any token this module makes (the execution ARN and the callback id are at most a
#: few hundred characters each); anything longer is refused before it is decoded.
MAX_TOKEN = 4096
#: A shorter secret would make the signature guessable; Secrets Manager generates 64 characters.
MIN_SECRET = 32


class LinkRefused(Exception):
    """A review link that must not be acted on. ``why`` is ``forged`` (malformed, altered or
    signed under another key) or ``expired``; the message says so in a sentence for the page."""

    def __init__(self, why: str, message: str) -> None:
        super().__init__(message)
        self.why = why


@dataclass(frozen=True)
class Link:
    """What a verified token says."""

    execution: str
    callback_id: str
    fingerprint: str
    expires: datetime


def sign(secret: str, link: Link) -> str:
    """The token for ``link`` (URL-safe: letters, digits, ``-``, ``_`` and ``.``)."""
    body = json.dumps(
        {
            "e": link.execution,
            "c": link.callback_id,
            "f": link.fingerprint,
            "x": int(link.expires.timestamp()),
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode()
    payload = _b64(body)
    return f"{VERSION}.{payload}.{_b64(_mac(secret, payload))}"


def verify(secret: str, token: str, now: datetime) -> Link:
    """The link a token signs, checked: LinkRefused if it is not exactly one this secret signed,
    or if it expired before ``now``."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN:
        raise _forged()
    version, _, rest = token.partition(".")
    payload, _, signature = rest.partition(".")
    if version != VERSION or not payload or not signature:
        raise _forged()
    # compared as text: base64 has several spellings of one byte string, a token has one
    if not signature.isascii() or not hmac.compare_digest(signature, _b64(_mac(secret, payload))):
        raise _forged()
    try:
        fields = json.loads(_unb64(payload))
        link = Link(
            execution=_text(fields["e"]),
            callback_id=_text(fields["c"]),
            fingerprint=_text(fields["f"]),
            expires=datetime.fromtimestamp(int(fields["x"]), UTC),
        )
    except (ValueError, KeyError, TypeError, OverflowError, OSError):
        raise _forged() from None  # signed by this secret, yet not one of its tokens
    if now >= link.expires:
        raise LinkRefused(
            "expired",
            f"This review link expired at {link.expires.isoformat(timespec='minutes')}: the "
            "approval it was for timed out, and its change set was deleted. Nothing was changed.",
        )
    return link


class KeyTooShort(ValueError):
    """The deployment's secret is too short to sign with: a configuration fault, not a link's."""


def _mac(secret: str, payload: str) -> bytes:
    if len(secret) < MIN_SECRET:
        raise KeyTooShort(
            f"the review links' secret has {len(secret)} characters, fewer than {MIN_SECRET}: "
            "generate a longer one (the template's ReviewSecret does)"
        )
    message = f"drift-healer review link {VERSION}.{payload}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def _forged() -> LinkRefused:
    return LinkRefused(
        "forged",
        "This review link is not valid: it was changed or cut short, or it is not one the healer "
        "sent. Open the link from the approval email as it is. Nothing was changed.",
    )


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("not a non-empty string")
    return value


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not text or any(c not in _ALPHABET for c in text):
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as error:
        raise ValueError("not base64url") from error


_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
