"""The review page on this machine: an HTTP server on 127.0.0.1 that hands each request to the
review function's own code (``drift_healer.review.handle``) as a Lambda Function URL would, and
sends back its page. For ``make demo`` and the tests that open the page in a real browser.

The review function reads the heal's history and answers its callback over the Lambda API: point
it at a local run's endpoint (``LocalRunner.serve``) with ``AWS_ENDPOINT_URL_LAMBDA``.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from drift_healer import review
from drift_healer.settings import Settings


class ReviewServer:
    """Serves the review page until ``close``; ``url`` is its address."""

    def __init__(self, settings: Settings, timeout: float = 30.0) -> None:
        """``timeout``: seconds each read of a request may wait (a client that declares a body
        and stops sending it is answered 408 and let go, not waited on for ever; this is a
        local server for one person, not a guard against a client trickling bytes)."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(settings, timeout))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}/"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> ReviewServer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def function_url_event(method: str, target: str, body: str = "") -> dict[str, Any]:
    """The Function URL event (payload format 2.0) of an HTTP request, as far as the page reads
    it: method, path, query, body."""
    parts = urlsplit(target)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    return {
        "version": "2.0",
        "rawPath": parts.path or "/",
        "rawQueryString": parts.query,
        **({"queryStringParameters": query} if query else {}),
        "requestContext": {"http": {"method": method, "path": parts.path or "/"}},
        **({"body": body, "isBase64Encoded": False} if body else {}),
    }


def _handler(settings: Settings, seconds: float) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = seconds  # on the socket: every read, the request line's and the body's

        def do_GET(self) -> None:
            self._answer("GET")

        def do_HEAD(self) -> None:
            self._answer("HEAD")

        def do_POST(self) -> None:
            declared = self.headers.get("Content-Length") or "0"
            if not (declared.isascii() and declared.isdigit()):
                self.send_error(400, "Content-Length is not a number of bytes")
                return
            length = int(declared)
            if length > 2 * review.MAX_BODY:
                # refused as the page refuses any form it did not send: too large, unread
                self._answer("POST", "x" * (review.MAX_BODY + 1))
                return
            try:
                body = self.rfile.read(length)
            except TimeoutError:
                self.close_connection = True
                self.send_error(408, "the form did not arrive whole in time")
                return
            self._answer("POST", body.decode(errors="replace"))

        def do_PUT(self) -> None:
            self._answer("PUT")

        def _answer(self, method: str, body: str = "") -> None:
            page = review.handle(
                function_url_event(method, self.path, body), settings, datetime.now(UTC)
            )
            payload = str(page.get("body", "")).encode()
            self.send_response(int(page["statusCode"]))
            for name, value in page.get("headers", {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the access log would carry the token."""

    return Handler
