"""Signed review links: a token verifies only as signed, only under its secret, only until it
expires; anything else is refused with a reason, never an untyped error."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drift_healer.policy import links
from drift_healer.policy.links import Link, LinkRefused

SECRET = "k" * 64
#: LINK signed with SECRET by version v1 (test_the_token_format_is_fixed_...).
GOLDEN = (
    "v1.eyJjIjoiZXlKaklqb2lZMkZzYkdKaFkyc2lmUT09IiwiZSI6ImFybjphd3M6bGFtYmRhOmV1LXdlc3QtMToxMjM0"
    "NTY3ODkwMTI6ZnVuY3Rpb246ZHJpZnQtaGVhbGVyOiRMQVRFU1QvZHVyYWJsZS1leGVjdXRpb24vbmlnaHRseS8wYjdl"
    "IiwiZiI6InNoYTI1NjowMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZiIsIngiOjE3OTY0NjEyMDB9."
    "fJP_yuudVQ0JF2roMTQ4JUpL6OidXVZ39sN8SdYaiaw"
)
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
LINK = Link(
    execution="arn:aws:lambda:eu-west-1:123456789012:function:drift-healer:$LATEST/"
    "durable-execution/nightly/0b7e",
    callback_id="eyJjIjoiY2FsbGJhY2sifQ==",
    fingerprint="sha256:0123456789abcdef0123456789abcdef",
    expires=NOW + timedelta(hours=72),
)


def test_a_token_verifies_to_exactly_what_was_signed() -> None:
    token = links.sign(SECRET, LINK)
    assert links.verify(SECRET, token, NOW) == LINK
    assert all(c.isalnum() or c in "-_." for c in token)  # safe in a URL as it is


def test_any_changed_character_is_refused_as_forged() -> None:
    token = links.sign(SECRET, LINK)
    for i in range(len(token)):
        for other in "ABstuv-_.":  # the last base64 character has 4 spellings of its bits
            if other == token[i]:
                continue
            changed = token[:i] + other + token[i + 1 :]
            with pytest.raises(LinkRefused) as refused:
                links.verify(SECRET, changed, NOW)
            assert refused.value.why == "forged", (i, other)


def test_another_secret_or_another_link_does_not_verify() -> None:
    token = links.sign(SECRET, LINK)
    with pytest.raises(LinkRefused, match="not valid"):
        links.verify("s" * 64, token, NOW)
    # a link for another callback, spliced with this token's signature
    other = links.sign(SECRET, Link(LINK.execution, "other", LINK.fingerprint, LINK.expires))
    spliced = ".".join([*other.split(".")[:2], token.split(".")[2]])
    with pytest.raises(LinkRefused):
        links.verify(SECRET, spliced, NOW)


def test_an_expired_token_says_so() -> None:
    token = links.sign(SECRET, LINK)
    with pytest.raises(LinkRefused) as refused:
        links.verify(SECRET, token, LINK.expires)
    assert refused.value.why == "expired"
    assert "expired at 2026-12-05T09:00+00:00" in str(refused.value)
    assert links.verify(SECRET, token, LINK.expires - timedelta(seconds=1)) == LINK


def test_a_short_secret_is_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match="fewer than 32"):
        links.sign("short", LINK)


@given(st.text(max_size=5000))
def test_whatever_arrives_as_a_token_is_refused_typed(token: str) -> None:
    with pytest.raises(LinkRefused):
        links.verify(SECRET, token, NOW)


@given(st.binary(max_size=300))
def test_a_signed_payload_that_is_not_a_link_is_refused(payload: bytes) -> None:
    """Even correctly signed bytes are refused unless they are a link this module made."""
    body = links._b64(payload)
    token = f"{links.VERSION}.{body}.{links._b64(links._mac(SECRET, body))}"
    with pytest.raises(LinkRefused):
        links.verify(SECRET, token, NOW)


def test_a_token_cut_short_anywhere_is_refused_as_forged() -> None:
    """A prefix of a signature must not pass for it (a one-character signature would verify
    one time in 64)."""
    token = links.sign(SECRET, LINK)
    for end in range(len(token)):
        with pytest.raises(LinkRefused) as refused:
            links.verify(SECRET, token[:end], NOW)
        assert refused.value.why == "forged", end


def test_a_secret_too_short_to_sign_with_is_a_fault_of_its_own() -> None:
    """Not a link's fault: the review page tells the reviewer the deployment is not set up."""
    with pytest.raises(links.KeyTooShort, match="generate a longer one"):
        links.sign("short", LINK)


def test_the_token_format_is_fixed_for_the_links_already_sent() -> None:
    """Links live for days in inboxes: a change to how they are signed (the context string,
    the fields, their spelling) must be a new VERSION, not a silent break. A known answer."""
    assert links.sign(SECRET, LINK) == GOLDEN


def signed(fields: object) -> str:
    """A token this secret signed over any JSON body: signed, yet not one the healer sends."""
    payload = links._b64(json.dumps(fields).encode())
    return f"{links.VERSION}.{payload}.{links._b64(links._mac(SECRET, payload))}"


@pytest.mark.parametrize(
    "fields",
    [
        {},
        [],
        "text",
        {"e": "a", "c": "b", "f": "c"},
        {"e": "a", "c": "b", "f": "c", "x": 1e400},
        {"e": "a", "c": "b", "f": "c", "x": "soon"},
        {"e": "", "c": "b", "f": "c", "x": 2_000_000_000},
        {"e": 1, "c": "b", "f": "c", "x": 2_000_000_000},
        {"e": "a", "c": "b", "f": "c", "x": 10**30},
    ],
)
def test_a_signed_body_that_is_not_a_link_is_refused_as_forged(fields: object) -> None:
    with pytest.raises(LinkRefused) as refused:
        links.verify(SECRET, signed(fields), NOW)
    assert refused.value.why == "forged"
