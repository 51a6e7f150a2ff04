"""Which S3 operation an HTTP request is, as botocore's S3 model (AWS's own) names it.

S3 is a REST API: moto dispatches its requests by method and path, not by an action name, so the
sandbox's gate (counting calls, rate limits, injected faults) names each request itself. Every
operation of the model declares its method, whether it addresses the service, a bucket or an
object (``/``, ``/{Bucket}``, ``/{Bucket}/{Key+}``), the sub-resource its query names
(``?tagging``, ``?list-type=2``), and the query parameters and headers it requires (UploadPart's
``partNumber`` and ``uploadId``, CopyObject's ``x-amz-copy-source``). A request is the most
specific operation all of whose requirements it meets; between equals, the one that declares
every query parameter sent (``GET /?max-directory-buckets=10`` is ListDirectoryBuckets), then the
one its host addresses (``GET /`` is ListDirectoryBuckets on the ``s3express-control`` endpoint,
FIPS or not, ListBuckets elsewhere: so also at the sandbox's own endpoint, which a client given
``endpoint_url`` sends both to, with nothing else to tell them apart), and a deprecated
operation yields to its successor (GetBucketLifecycle to GetBucketLifecycleConfiguration). Other
query parameters (``versionId``, ``response-content-type``, a presigned URL's ``X-Amz-*``) name
nothing.

The names are API operations, not IAM actions: IAM authorizes HeadObject as ``s3:GetObject``
and ListObjectsV2 as ``s3:ListBucket``, the sandbox's faults name the operation.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from botocore.loaders import create_loader
from botocore.model import ServiceModel

Level = Literal["service", "bucket", "object"]


@dataclass(frozen=True)
class _Operation:
    name: str
    method: str
    level: Level
    #: The sub-resource of its request URI: query parameters, with a value when it is fixed.
    literal: tuple[tuple[str, str | None], ...]
    #: The query parameters and (lower-case) headers it requires.
    query: frozenset[str]
    headers: frozenset[str]
    deprecated: bool
    #: Every query parameter it declares, required or not.
    declared: frozenset[str]
    #: Sent to the S3 Express control endpoint alone: no bucket in its request to decide.
    control_only: bool

    def matches(self, method: str, level: Level, query: Collection[str], headers: set[str]) -> bool:
        return (
            (self.method, self.level) == (method, level)
            and all(key in query for key, _ in self.literal)
            and self.query <= set(query)
            and self.headers <= headers
        )

    @property
    def specificity(self) -> int:
        return len(self.literal) + len(self.query) + len(self.headers)


def operation(
    method: str, level: Level, query: Mapping[str, Any], headers: Collection[str], host: str = ""
) -> str:
    """The S3 operation of a request: its method, what it addresses, its query (parameter ->
    value, or list of values), its header names and the host it was sent to. A request no
    operation fits is named by its method and level (``POST object``)."""
    lowered = {h.lower() for h in headers}
    control = host.lower().split(".", 1)[0] in CONTROL_HOSTS
    fits = [
        op
        for op in _operations()
        if op.matches(method, level, query, lowered)
        and all(value is None or _first(query[key]) == value for key, value in op.literal)
    ]
    if not fits:
        return f"{method} {level}"
    return min(
        fits,
        key=lambda op: (
            -op.specificity,
            not set(query) <= op.declared,
            op.control_only != control,
            op.deprecated,
            op.name,
        ),
    ).name


#: The first label of the S3 Express control endpoint's host
#: (``s3express-control[-fips].<region>.amazonaws.com``).
CONTROL_HOSTS = frozenset({"s3express-control", "s3express-control-fips"})


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


@cache
def _operations() -> tuple[_Operation, ...]:
    # A loader of its own: botocore rewrites the model a session's clients share (the bucket
    # moves from the path to the host), and the paths are what this reads.
    model = ServiceModel(create_loader().load_service_model("s3", "service-2"), "s3")
    out = []
    for name in model.operation_names:
        op = model.operation_model(name)
        path, _, sub = op.http["requestUri"].partition("?")
        level: Level = (
            "object" if "{Key+}" in path else "bucket" if "{Bucket}" in path else "service"
        )
        if path not in ("/", "/{Bucket}", "/{Bucket}/{Key+}"):
            continue  # not addressed by bucket and key (WriteGetObjectResponse)
        literal = tuple(
            (key, value if sep else None)
            for key, sep, value in (part.partition("=") for part in sub.split("&") if part)
        )
        shape = op.input_shape
        required = set(shape.required_members) if shape is not None else set()
        members = shape.members if shape is not None else {}
        query = frozenset(
            m.serialization.get("name", n)
            for n, m in members.items()
            if n in required and m.serialization.get("location") == "querystring"
        )
        headers = frozenset(
            m.serialization.get("name", n).lower()
            for n, m in members.items()
            if n in required and m.serialization.get("location") == "header"
        )
        declared = frozenset(key for key, _ in literal) | frozenset(
            m.serialization.get("name", n)
            for n, m in members.items()
            if m.serialization.get("location") == "querystring"
        )
        control = any(
            p.name == "UseS3ExpressControlEndpoint" and p.value is True
            for p in op.static_context_parameters
        )
        out.append(
            _Operation(
                name,
                op.http["method"],
                level,
                literal,
                query,
                headers,
                op.deprecated,
                declared,
                control and level == "service",
            )
        )
    return tuple(out)
