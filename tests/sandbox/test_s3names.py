"""S3 requests named as botocore's S3 model names them (drift_sandbox.s3names), and the sandbox's
switchboard counting and faulting S3 calls by those names, through real boto3 clients: in-process
(virtual-hosted and path-style addressing) and against the sandbox's server."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.loaders import create_loader
from botocore.model import ServiceModel

from drift_sandbox import Sandbox, s3names
from tests.support import ManualClock

_MODEL = ServiceModel(create_loader().load_service_model("s3", "service-2"), "s3")


# ------------------------------------------------------------------------------ the names alone
def named(method: str, target: str, headers: tuple[str, ...] = ()) -> str:
    """The name of a request as the sandbox's gate sees it: ``target`` is its path-style path and
    query as sent (a key percent-encoded), parsed as the gate parses the URL; the level is what
    the path addresses (moto's handlers tell the gate, for either addressing style)."""
    url = urlparse(target)
    bucket_and_key = url.path.lstrip("/").split("/", 1)
    level: s3names.Level = (
        "service" if bucket_and_key == [""] else "bucket" if len(bucket_and_key) == 1 else "object"
    )
    query = parse_qs(url.query, keep_blank_values=True)
    return s3names.operation(method, level, query, headers)


def row(expected: str, method: str, target: str, *headers: str, id: str = "", **kw: Any) -> Any:
    return pytest.param(method, target, headers, expected, id=id or expected, **kw)


COPY = "x-amz-copy-source"
TABLE = [
    # the service
    row("ListBuckets", "GET", "/"),
    row(
        "ListBuckets",
        "GET",
        "/?max-buckets=10&prefix=a&bucket-region=us-east-1",
        id="ListBuckets-params",
    ),
    row("HEAD service", "HEAD", "/", id="unmodeled-HEAD-service"),
    # buckets
    row("CreateBucket", "PUT", "/records"),
    row(
        "CreateBucket",
        "PUT",
        "/records",
        "x-amz-acl",
        "x-amz-bucket-object-lock-enabled",
        id="CreateBucket-headers",
    ),
    row("DeleteBucket", "DELETE", "/records"),
    row("HeadBucket", "HEAD", "/records"),
    row("ListObjects", "GET", "/records"),
    row(
        "ListObjects",
        "GET",
        "/records?prefix=a/&delimiter=/&marker=m&encoding-type=url",
        id="ListObjects-params",
    ),
    row("ListObjectsV2", "GET", "/records?list-type=2"),
    row(
        "ListObjectsV2",
        "GET",
        "/records?list-type=2&continuation-token=t&start-after=s&fetch-owner=true",
        id="ListObjectsV2-params",
    ),
    row("ListObjects", "GET", "/records?list-type=1", id="ListObjects-list-type=1"),
    row("ListObjectVersions", "GET", "/records?versions"),
    row(
        "ListObjectVersions",
        "GET",
        "/records?versions&key-marker=k&version-id-marker=v",
        id="ListObjectVersions-params",
    ),
    row("ListMultipartUploads", "GET", "/records?uploads"),
    row(
        "ListMultipartUploads",
        "GET",
        "/records?uploads&key-marker=k&upload-id-marker=u",
        id="ListMultipartUploads-params",
    ),
    row("GetBucketLocation", "GET", "/records?location"),
    row("GetBucketTagging", "GET", "/records?tagging"),
    row("PutBucketTagging", "PUT", "/records?tagging", "Content-MD5"),
    row("DeleteBucketTagging", "DELETE", "/records?tagging"),
    row("GetBucketVersioning", "GET", "/records?versioning"),
    row("PutBucketVersioning", "PUT", "/records?versioning"),
    row("GetBucketPolicy", "GET", "/records?policy"),
    row("GetBucketPolicyStatus", "GET", "/records?policyStatus"),
    row("ListBucketAnalyticsConfigurations", "GET", "/records?analytics"),
    row("GetBucketAnalyticsConfiguration", "GET", "/records?analytics&id=a"),
    row("DeleteObjects", "POST", "/records?delete"),
    row("POST bucket", "POST", "/records", id="unmodeled-POST-bucket-form-upload"),
    # deprecated operations yield to their successors: the same request on the wire
    row("GetBucketLifecycleConfiguration", "GET", "/records?lifecycle"),
    row("PutBucketLifecycleConfiguration", "PUT", "/records?lifecycle"),
    row("DeleteBucketLifecycle", "DELETE", "/records?lifecycle"),
    row("GetBucketNotificationConfiguration", "GET", "/records?notification"),
    row("PutBucketNotificationConfiguration", "PUT", "/records?notification"),
    # objects
    row("GetObject", "GET", "/records/k"),
    row(
        "GetObject",
        "GET",
        "/records/k?versionId=v&partNumber=1&response-content-type=text/plain",
        id="GetObject-params",
    ),
    row(
        "GetObject",
        "GET",
        "/records/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=s",
        id="GetObject-presigned",
    ),
    row("HeadObject", "HEAD", "/records/k"),
    row("HeadObject", "HEAD", "/records/k?versionId=v&partNumber=1", id="HeadObject-params"),
    row("PutObject", "PUT", "/records/k"),
    row(
        "PutObject",
        "PUT",
        "/records/k",
        "Content-Type",
        "x-amz-meta-owner",
        "x-amz-tagging",
        id="PutObject-headers",
    ),
    row("CopyObject", "PUT", "/records/k", COPY),
    row(
        "CopyObject",
        "PUT",
        "/records/k",
        "X-Amz-Copy-Source",
        "X-Amz-Metadata-Directive",
        id="CopyObject-title-case",
    ),
    row("DeleteObject", "DELETE", "/records/k"),
    row("DeleteObject", "DELETE", "/records/k?versionId=v", id="DeleteObject-versionId"),
    row("CreateMultipartUpload", "POST", "/records/k?uploads"),
    row("UploadPart", "PUT", "/records/k?partNumber=1&uploadId=u"),
    row(
        "UploadPart",
        "PUT",
        "/records/k?uploadId=u&partNumber=1",
        "Content-MD5",
        id="UploadPart-reordered",
    ),
    row(
        "UploadPartCopy",
        "PUT",
        "/records/k?partNumber=2&uploadId=u",
        COPY,
        "x-amz-copy-source-range",
    ),
    row(
        "PutObject", "PUT", "/records/k?partNumber=1", id="partNumber-without-uploadId-is-PutObject"
    ),
    row("CompleteMultipartUpload", "POST", "/records/k?uploadId=u"),
    row("AbortMultipartUpload", "DELETE", "/records/k?uploadId=u"),
    row("ListParts", "GET", "/records/k?uploadId=u"),
    row(
        "ListParts",
        "GET",
        "/records/k?uploadId=u&max-parts=10&part-number-marker=2",
        id="ListParts-params",
    ),
    row("GetObjectTagging", "GET", "/records/k?tagging"),
    row(
        "GetObjectTagging", "GET", "/records/k?tagging&versionId=v", id="GetObjectTagging-versionId"
    ),
    row("PutObjectTagging", "PUT", "/records/k?tagging"),
    row("DeleteObjectTagging", "DELETE", "/records/k?tagging"),
    row("GetObjectAcl", "GET", "/records/k?acl"),
    row("PutObjectAcl", "PUT", "/records/k?acl"),
    row("GetObjectAttributes", "GET", "/records/k?attributes", "X-Amz-Object-Attributes"),
    row("RestoreObject", "POST", "/records/k?restore"),
    row("SelectObjectContent", "POST", "/records/k?select&select-type=2"),
    row("POST object", "POST", "/records/k", id="unmodeled-POST-object"),
    # keys holding what would be a query, encoded: they name nothing
    row("GetObject", "GET", "/records/k%3Ftagging", id="key-k?tagging-GetObject"),
    row("PutObject", "PUT", "/records/a/b%3Dc%3Fuploads", id="key-a/b=c?uploads-PutObject"),
    row("DeleteObject", "DELETE", "/records/x%3FuploadId%3D1", id="key-x?uploadId=1-DeleteObject"),
    row(
        "PutObject",
        "PUT",
        "/records/k%3FpartNumber%3D1%26uploadId%3Du",
        id="key-k?partNumber=1&uploadId=u-PutObject",
    ),
    row(
        "GetObject",
        "GET",
        "/records/dir/sub/k%3Dv%3Fversions",
        id="key-dir/sub/k=v?versions-GetObject",
    ),
    row(
        "UploadPart",
        "PUT",
        "/records/a/k%3Ftagging?partNumber=1&uploadId=u",
        id="key-a/k?tagging-UploadPart",
    ),
    row(
        "GetBucketTagging",
        "GET",
        "/records?tagging&x=%3Flist-type%3D2",
        id="encoded-value-names-nothing",
    ),
    # GET / is ListDirectoryBuckets too, on the s3express-control endpoint: a parameter only it
    # declares tells them apart (the host too: test_list_directory_buckets_is_not_list_buckets)
    row("ListDirectoryBuckets", "GET", "/?max-directory-buckets=10"),
]


@pytest.mark.parametrize(("method", "target", "headers", "expected"), TABLE)
def test_a_request_is_named_as_botocores_s3_model_names_it(
    method: str, target: str, headers: tuple[str, ...], expected: str
) -> None:
    assert expected in _MODEL.operation_names or expected.startswith(method + " ")
    assert named(method, target, headers) == expected


def test_a_query_value_may_be_given_alone_or_as_parse_qs_lists_it() -> None:
    for value in ("2", ["2"], ["2", "1"]):
        assert s3names.operation("GET", "bucket", {"list-type": value}, []) == "ListObjectsV2"
    assert s3names.operation("GET", "bucket", {"list-type": ["1", "2"]}, []) == "ListObjects"


def test_every_operation_is_named_by_its_own_minimal_request() -> None:
    """Each operation of the model addressed by bucket and key, sent with just what it requires,
    is named itself; the deprecated ones by their successors (the same request on the wire), and
    ListDirectoryBuckets, whose GET / only its endpoint tells apart, as ListBuckets."""
    renamed = {}
    for name in _MODEL.operation_names:
        http = _MODEL.operation_model(name).http
        path, _, sub = http["requestUri"].partition("?")
        if path not in ("/", "/{Bucket}", "/{Bucket}/{Key+}"):
            assert name == "WriteGetObjectResponse"  # an endpoint of its own
            continue
        shape = _MODEL.operation_model(name).input_shape
        required = set(shape.required_members) if shape is not None else set()
        query = dict(parse_qs(sub, keep_blank_values=True))
        headers = []
        for member_name, member in (shape.members if shape is not None else {}).items():
            where, wire = member.serialization.get("location"), member.serialization.get("name")
            if member_name in required and where == "querystring":
                query[wire] = ["1"]
            if member_name in required and where == "header":
                headers.append(wire)
        level: s3names.Level = (
            "object" if "{Key+}" in path else "bucket" if "{Bucket}" in path else "service"
        )
        got = s3names.operation(http["method"], level, query, headers)
        if got != name:
            renamed[name] = got
    assert renamed == {
        "GetBucketLifecycle": "GetBucketLifecycleConfiguration",
        "PutBucketLifecycle": "PutBucketLifecycleConfiguration",
        "GetBucketNotification": "GetBucketNotificationConfiguration",
        "PutBucketNotification": "PutBucketNotificationConfiguration",
        "ListDirectoryBuckets": "ListBuckets",
    }
    deprecated = {n for n in _MODEL.operation_names if _MODEL.operation_model(n).deprecated}
    assert deprecated == set(renamed) - {"ListDirectoryBuckets"}


# ------------------------------------------------------------------------------ through boto3
@dataclass
class S3:
    """A plain boto3 S3 client on a sandbox, and the URL of every request it sent."""

    sandbox: Sandbox
    client: Any
    urls: list[str] = field(default_factory=list)

    def calls(self) -> Counter[str]:
        return Counter({a: n for (s, a), n in self.sandbox.calls.items() if s == "s3"})


@pytest.fixture(
    params=[
        pytest.param((False, "virtual"), id="in-process-virtual-hosted"),
        pytest.param((False, "path"), id="in-process-path-style"),
        pytest.param((True, "path"), id="server-path-style"),
    ]
)
def s3(request: pytest.FixtureRequest, clock: ManualClock) -> Iterator[S3]:
    server, style = request.param
    with Sandbox(clock=clock, server=server) as sandbox:
        client = boto3.client(
            "s3",
            region_name=sandbox.region,
            endpoint_url=sandbox.endpoint_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            aws_session_token="testing",
            config=Config(
                s3={"addressing_style": style},
                retries={"mode": "standard", "total_max_attempts": 1},
            ),
        )
        out = S3(sandbox, client)
        client.meta.events.register(
            "before-send.s3", lambda request, **_: out.urls.append(request.url)
        )
        yield out
        # the addressing style claimed is the one sent (botocore sends GetBucketLocation
        # path-style whatever the client's style)
        sent = [urlparse(u) for u in out.urls if "records" in u and "?location" not in u]
        virtual = [u for u in sent if u.hostname == "records.s3.amazonaws.com"]
        assert sent
        assert len(virtual) == (len(sent) if style == "virtual" else 0)


def test_boto3_calls_are_counted_by_their_operation_names(s3: S3) -> None:
    c = s3.client
    c.list_buckets()
    c.create_bucket(Bucket="records")
    c.head_bucket(Bucket="records")
    c.get_bucket_location(Bucket="records")
    c.put_bucket_versioning(Bucket="records", VersioningConfiguration={"Status": "Enabled"})
    c.put_bucket_tagging(Bucket="records", Tagging={"TagSet": [{"Key": "team", "Value": "core"}]})
    c.get_bucket_tagging(Bucket="records")
    rule = {"ID": "r", "Status": "Enabled", "Expiration": {"Days": 1}}
    c.put_bucket_lifecycle_configuration(
        Bucket="records", LifecycleConfiguration={"Rules": [{**rule, "Filter": {"Prefix": ""}}]}
    )
    c.put_bucket_lifecycle(  # deprecated: the same PUT ?lifecycle
        Bucket="records", LifecycleConfiguration={"Rules": [{**rule, "Prefix": ""}]}
    )
    c.get_bucket_lifecycle_configuration(Bucket="records")
    c.get_bucket_lifecycle(Bucket="records")  # deprecated: the same GET ?lifecycle
    c.put_bucket_notification_configuration(Bucket="records", NotificationConfiguration={})
    c.get_bucket_notification_configuration(Bucket="records")
    c.put_bucket_notification(  # deprecated: the same PUT ?notification
        Bucket="records", NotificationConfiguration={}
    )
    c.get_bucket_notification(Bucket="records")  # deprecated: the same GET ?notification

    for key in ("k", "k?tagging", "a/b=c?uploads", "x?uploadId=1"):
        c.put_object(Bucket="records", Key=key, Body=b"one")
        assert c.get_object(Bucket="records", Key=key)["Body"].read() == b"one"
        c.head_object(Bucket="records", Key=key)
    c.get_object(Bucket="records", Key="k", ResponseContentType="text/plain")
    c.copy_object(Bucket="records", Key="copy", CopySource={"Bucket": "records", "Key": "k"})
    c.put_object_tagging(
        Bucket="records", Key="k", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]}
    )
    assert c.get_object_tagging(Bucket="records", Key="k")["TagSet"] == [{"Key": "a", "Value": "b"}]
    c.list_objects(Bucket="records")
    assert c.list_objects_v2(Bucket="records")["KeyCount"] == 5
    c.list_object_versions(Bucket="records")

    upload = c.create_multipart_upload(Bucket="records", Key="big")["UploadId"]
    etag = c.upload_part(Bucket="records", Key="big", UploadId=upload, PartNumber=1, Body=b"part")[
        "ETag"
    ]
    c.list_parts(Bucket="records", Key="big", UploadId=upload)
    c.list_multipart_uploads(Bucket="records")
    c.complete_multipart_upload(
        Bucket="records",
        Key="big",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
    )
    assert c.get_object(Bucket="records", Key="big")["Body"].read() == b"part"
    other = c.create_multipart_upload(Bucket="records", Key="big-copy")["UploadId"]
    c.upload_part_copy(
        Bucket="records",
        Key="big-copy",
        UploadId=other,
        PartNumber=1,
        CopySource={"Bucket": "records", "Key": "big"},
    )
    c.abort_multipart_upload(Bucket="records", Key="big-copy", UploadId=other)

    c.delete_object(Bucket="records", Key="x?uploadId=1")
    c.delete_objects(Bucket="records", Delete={"Objects": [{"Key": "copy"}, {"Key": "k?tagging"}]})
    c.create_bucket(Bucket="scratch")
    c.delete_bucket(Bucket="scratch")

    assert s3.calls() == {
        "ListBuckets": 1,
        "CreateBucket": 2,
        "HeadBucket": 1,
        "GetBucketLocation": 1,
        "PutBucketVersioning": 1,
        "PutBucketTagging": 1,
        "GetBucketTagging": 1,
        "PutBucketLifecycleConfiguration": 2,
        "GetBucketLifecycleConfiguration": 2,
        "PutBucketNotificationConfiguration": 2,
        "GetBucketNotificationConfiguration": 2,
        "PutObject": 4,
        "GetObject": 6,
        "HeadObject": 4,
        "CopyObject": 1,
        "PutObjectTagging": 1,
        "GetObjectTagging": 1,
        "ListObjects": 1,
        "ListObjectsV2": 1,
        "ListObjectVersions": 1,
        "CreateMultipartUpload": 2,
        "UploadPart": 1,
        "ListParts": 1,
        "ListMultipartUploads": 1,
        "CompleteMultipartUpload": 1,
        "UploadPartCopy": 1,
        "AbortMultipartUpload": 1,
        "DeleteObject": 1,
        "DeleteObjects": 1,
        "DeleteBucket": 1,
    }


#: One boto3 call of each operation, on the state ``_prepare`` leaves.
PROBES: dict[str, Callable[[Any, dict[str, Any]], object]] = {
    "ListBuckets": lambda c, u: c.list_buckets(),
    "HeadBucket": lambda c, u: c.head_bucket(Bucket="records"),
    "ListObjects": lambda c, u: c.list_objects(Bucket="records"),
    "ListObjectsV2": lambda c, u: c.list_objects_v2(Bucket="records"),
    "ListObjectVersions": lambda c, u: c.list_object_versions(Bucket="records"),
    "ListMultipartUploads": lambda c, u: c.list_multipart_uploads(Bucket="records"),
    "PutObject": lambda c, u: c.put_object(Bucket="records", Key="new", Body=b"x"),
    "CopyObject": lambda c, u: c.copy_object(
        Bucket="records", Key="copy", CopySource={"Bucket": "records", "Key": "k"}
    ),
    "GetObject": lambda c, u: c.get_object(Bucket="records", Key="k"),
    "HeadObject": lambda c, u: c.head_object(Bucket="records", Key="k"),
    "GetObjectTagging": lambda c, u: c.get_object_tagging(Bucket="records", Key="k"),
    "DeleteObject": lambda c, u: c.delete_object(Bucket="records", Key="new"),
    "DeleteObjects": lambda c, u: c.delete_objects(
        Bucket="records", Delete={"Objects": [{"Key": "copy"}]}
    ),
    "CreateMultipartUpload": lambda c, u: c.create_multipart_upload(Bucket="records", Key="more"),
    "UploadPart": lambda c, u: c.upload_part(
        Bucket="records", Key="big", UploadId=u["open"], PartNumber=1, Body=b"x"
    ),
    "UploadPartCopy": lambda c, u: c.upload_part_copy(
        Bucket="records",
        Key="big",
        UploadId=u["open"],
        PartNumber=2,
        CopySource={"Bucket": "records", "Key": "k"},
    ),
    "ListParts": lambda c, u: c.list_parts(Bucket="records", Key="big", UploadId=u["open"]),
    "CompleteMultipartUpload": lambda c, u: c.complete_multipart_upload(
        Bucket="records",
        Key="done",
        UploadId=u["done"],
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": u["etag"]}]},
    ),
    "AbortMultipartUpload": lambda c, u: c.abort_multipart_upload(
        Bucket="records", Key="gone", UploadId=u["gone"]
    ),
}


def _prepare(c: Any, uploads: dict[str, Any]) -> None:
    """Uploads for the probes to complete and abort, made afresh before each round."""
    uploads["done"] = c.create_multipart_upload(Bucket="records", Key="done")["UploadId"]
    uploads["etag"] = c.upload_part(
        Bucket="records", Key="done", UploadId=uploads["done"], PartNumber=1, Body=b"x"
    )["ETag"]
    uploads["gone"] = c.create_multipart_upload(Bucket="records", Key="gone")["UploadId"]


#: A fault aimed at an operation, and the HTTP status it answers: each aimed at one that another
#: request differs from only by a header, a query parameter or the method.
AIMS = [
    ("UploadPart", "throttle", 503),  # PutObject, UploadPartCopy: PUT of the key too
    ("CopyObject", "deny", 403),  # UploadPartCopy carries the same copy-source header
    ("PutObject", "server_error", 500),  # CopyObject, UploadPart
    ("DeleteObjects", "throttle", 503),  # DeleteObject
    ("ListObjectsV2", "deny", 403),  # ListObjects: GET of the bucket without list-type=2
    ("HeadObject", "server_error", 500),  # GetObject (IAM's s3:GetObject governs both)
    ("CompleteMultipartUpload", "throttle", 503),  # CreateMultipartUpload: POST of the key
]


def test_a_fault_aimed_at_one_operation_hits_that_operation_only(s3: S3) -> None:
    """For each aim in turn: one fault aimed at its operation, then one call of every operation.
    Exactly the aimed-at one fails, once, and every call is counted under its own name."""
    c, faults = s3.client, s3.sandbox.faults
    c.create_bucket(Bucket="records")
    c.put_object(Bucket="records", Key="k", Body=b"k")
    uploads = {"open": c.create_multipart_upload(Bucket="records", Key="big")["UploadId"]}
    failures, counted = {}, {}
    for target, kind, _ in AIMS:
        _prepare(c, uploads)
        getattr(faults, kind)(target, times=1, service="s3")
        before = s3.calls()
        failed = {}
        for name, probe in PROBES.items():
            try:
                probe(c, uploads)
            except ClientError as error:
                failed[name] = error.response["ResponseMetadata"]["HTTPStatusCode"]
        failures[target] = failed
        counted[target] = s3.calls() - before
        assert [fault.remaining for fault in faults.api] == [0]  # used up, by that one call
        faults.clear()
    assert failures == {target: {target: status} for target, _, status in AIMS}
    assert counted == {target: Counter(list(PROBES)) for target, _, _ in AIMS}


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("s3express-control.us-east-1.amazonaws.com", "ListDirectoryBuckets"),
        ("s3express-control-fips.us-east-1.amazonaws.com", "ListDirectoryBuckets"),
        ("s3.us-east-1.amazonaws.com", "ListBuckets"),
        ("127.0.0.1", "ListBuckets"),
    ],
)
def test_get_at_the_service_is_named_by_the_host_it_was_sent_to(host: str, expected: str) -> None:
    """ListBuckets and ListDirectoryBuckets are both GET /: the S3 Express control endpoint (FIPS
    or not) tells them apart; at the sandbox's own endpoint nothing does, and it is ListBuckets."""
    assert s3names.operation("GET", "service", {}, [], host) == expected


def test_list_directory_buckets_is_not_list_buckets(sandbox: Sandbox) -> None:
    """Both are GET / at the service: boto3 sends ListDirectoryBuckets to the S3 Express control
    endpoint (s3express-control.<region>.amazonaws.com), and the host names it, with or without
    its own parameter; a fault aimed at ListBuckets leaves it alone."""
    s3 = sandbox.client("s3")
    sandbox.faults.throttle("ListBuckets", service="s3")
    s3.list_directory_buckets()
    s3.list_directory_buckets(MaxDirectoryBuckets=5)
    assert sandbox.calls[("s3", "ListDirectoryBuckets")] == 2
    with pytest.raises(ClientError, match="SlowDown"):
        s3.list_buckets()
    assert sandbox.calls[("s3", "ListBuckets")] == 1
