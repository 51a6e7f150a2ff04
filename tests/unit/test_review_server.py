"""The local review server (``drift-healer`` and ``make demo``) over HTTP: it never reads a body
larger than the page would take, nor waits for one that was declared in a way it cannot read,
nor for ever for one that stops arriving;
methods the page does not serve get 501 from the server itself; a form of more fields than the
page sends is refused with the parser's reason; HEAD sends no body.

The server runs with no review secret: every request that gets past the HTTP layer and the
form's parsing is answered 503 ("not set up") without any AWS call, which tells the two apart.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import urlencode, urlsplit

import pytest

from drift_healer import review
from drift_healer.settings import Settings
from drift_healer_cli.review_server import ReviewServer

#: Seconds to wait for an answer: the server answers in milliseconds unless it waits for a body.
WAIT = 10


@pytest.fixture(scope="module")
def server() -> Iterator[ReviewServer]:
    """One for the module: it keeps nothing between requests, and closing one takes half a
    second (its poll interval)."""
    with ReviewServer(Settings(review_url="", review_secret_arn="")) as running:
        yield running


def _connect(server: ReviewServer) -> socket.socket:
    url = urlsplit(server.url)
    return socket.create_connection((url.hostname or "", url.port or 80), timeout=WAIT)


def _read(connection: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """The response, read to the end (the server closes each connection after its answer)."""
    data = b""
    while chunk := connection.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (h.partition(":") for h in lines)}
    return int(status_line.split()[1]), headers, body


def _exchange(server: ReviewServer, request: bytes) -> tuple[int, dict[str, str], bytes]:
    with _connect(server) as connection:
        connection.sendall(request)
        return _read(connection)


def _post(body: bytes, length: str | None = None) -> bytes:
    declared = str(len(body)) if length is None else length
    return (
        b"POST / HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        + f"Content-Length: {declared}\r\n\r\n".encode()
        + body
    )


@pytest.mark.parametrize("length", [2 * review.MAX_BODY + 1, 10**12])
def test_a_declared_body_over_the_limit_is_refused_without_being_read(
    server: ReviewServer, length: int
) -> None:
    """Nothing of the body is sent: a server that tried to read it would wait until WAIT."""
    status, _, body = _exchange(server, _post(b"", str(length)))
    assert status == 400
    assert b"This request was not understood" in body and b"the form is too large." in body


def test_a_declared_body_at_the_limit_is_waited_for_and_read(server: ReviewServer) -> None:
    size = 2 * review.MAX_BODY
    with _connect(server) as connection:
        connection.sendall(_post(b"", str(size)))
        connection.settimeout(0.3)
        with pytest.raises(TimeoutError):
            connection.recv(1)  # no answer before the body
        connection.settimeout(WAIT)
        connection.sendall(b"t=" + b"a" * (size - 2))
        status, _, body = _read(connection)
    assert status == 400 and b"the form is too large." in body


def test_a_body_that_stops_arriving_is_answered_408_when_the_server_stops_waiting() -> None:
    """A client that declares 100 bytes and sends 10 holds a thread of the server until its
    timeout, no longer; the server says why and goes on serving."""
    with ReviewServer(Settings(review_url="", review_secret_arn=""), timeout=0.5) as short:
        with _connect(short) as connection:
            connection.sendall(_post(b"t=" + b"a" * 8, "100"))
            status, _, body = _read(connection)
        assert status == 408 and b"did not arrive whole in time" in body
        assert _exchange(short, b"GET /?t=x HTTP/1.1\r\nHost: localhost\r\n\r\n")[0] == 503


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", "+5", "\u0665"])
def test_a_content_length_that_is_not_a_size_is_refused_as_such(
    server: ReviewServer, length: str
) -> None:
    status, _, body = _exchange(server, _post(b"", length))
    assert status == 400 and b"Content-Length is not a number of bytes" in body


@pytest.mark.parametrize("method", ["DELETE", "PATCH", "OPTIONS", "TRACE"])
def test_methods_the_page_does_not_serve_get_501_from_the_server(
    server: ReviewServer, method: str
) -> None:
    status, _, _ = _exchange(server, f"{method} / HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    assert status == 501


def test_put_reaches_the_page_which_refuses_it(server: ReviewServer) -> None:
    """Unlike the methods above, PUT is handed to the page (a Function URL passes any method)."""
    status, _, body = _exchange(server, b"PUT / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert status == 405 and b"Not allowed" in body


def test_a_form_of_more_than_twenty_fields_is_refused_with_the_reason(
    server: ReviewServer,
) -> None:
    twenty = urlencode({f"f{i}": "x" for i in range(20)}).encode()
    status, _, body = _exchange(server, _post(twenty))
    assert status == 503  # parsed: past the form, the deployment has no secret
    status, _, body = _exchange(server, _post(twenty + b"&f20=x"))
    assert status == 400
    assert b"This request was not understood" in body
    assert b"Max number of fields exceeded." in body


def test_head_gets_the_status_and_headers_of_get_and_no_body(server: ReviewServer) -> None:
    get_status, get_headers, get_body = _exchange(
        server, b"GET /?t=x HTTP/1.1\r\nHost: localhost\r\n\r\n"
    )
    status, headers, body = _exchange(server, b"HEAD /?t=x HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert (status, body) == (get_status, b"") and get_body
    same = ("content-type", "cache-control", "content-security-policy", "referrer-policy")
    assert {h: headers[h] for h in same} == {h: get_headers[h] for h in same}
