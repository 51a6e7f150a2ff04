"""Live state of the resource types the sandbox checks for drift.

Drift is only real if it is read from where an out-of-band change lands: the moto backend objects
that the SSM, SQS, SNS and S3 APIs change. Each adapter reads a resource's live properties in
CloudFormation's property shape, and writes template values back (what executing a REVERT_DRIFT
change set does). The backends are always read afresh: an SSM overwrite creates a new object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from moto.s3.models import s3_backends
from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends
from moto.ssm.models import ssm_backends
from moto.utilities.utils import get_partition

Properties = dict[str, Any]


@dataclass(frozen=True)
class Location:
    """Where a resource lives: account, region and its physical id."""

    account_id: str
    region: str
    physical_id: str


class LiveResource(Protocol):
    """Reads and restores the live properties of one resource type."""

    #: Properties whose change CloudFormation can only apply by replacing the resource.
    replacement_properties: frozenset[str]

    def read(self, where: Location) -> Properties | None:
        """The live properties, or None when the resource no longer exists."""

    def write(self, where: Location, properties: Mapping[str, Any]) -> None:
        """Set the given properties on the live resource, creating it if it is gone."""


def _tags(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def _tag_map(tags: Any) -> dict[str, str]:
    return {str(t["Key"]): str(t["Value"]) for t in tags or []}


class SsmParameter:
    """AWS::SSM::Parameter, physical id = parameter name."""

    replacement_properties = frozenset({"Name"})

    def read(self, where: Location) -> Properties | None:
        backend = ssm_backends[where.account_id][where.region]
        param = backend.get_parameter(where.physical_id)
        if param is None:
            return None
        props: Properties = {"Name": param.name, "Type": param.parameter_type, "Value": param.value}
        if param.description:
            props["Description"] = param.description
        if param.allowed_pattern:
            props["AllowedPattern"] = param.allowed_pattern
        if getattr(param, "tier", None):
            props["Tier"] = param.tier
        return props

    def write(self, where: Location, properties: Mapping[str, Any]) -> None:
        backend = ssm_backends[where.account_id][where.region]
        current = self.read(where) or {}
        merged = {**current, **properties}
        backend.put_parameter(
            name=where.physical_id,
            description=merged.get("Description", ""),
            value=str(merged["Value"]),
            parameter_type=merged.get("Type", "String"),
            allowed_pattern=merged.get("AllowedPattern", ""),
            keyid=None,  # type: ignore[arg-type]
            overwrite=True,
            tags=[],
            data_type="text",
            tier=merged.get("Tier"),
            policies=None,
        )


_SQS_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
)


class SqsQueue:
    """AWS::SQS::Queue, physical id = queue URL."""

    replacement_properties = frozenset({"QueueName", "FifoQueue"})

    @staticmethod
    def _name(where: Location) -> str:
        return where.physical_id.rstrip("/").rsplit("/", 1)[-1]

    def read(self, where: Location) -> Properties | None:
        backend = sqs_backends[where.account_id][where.region]
        queue = backend.queues.get(self._name(where))
        if queue is None:
            return None
        props: Properties = {"QueueName": queue.name}
        for attribute in _SQS_ATTRIBUTES:
            props[attribute] = int(getattr(queue, _snake(attribute)))
        props["Tags"] = _tags(queue.tags or {})
        return props

    def write(self, where: Location, properties: Mapping[str, Any]) -> None:
        backend = sqs_backends[where.account_id][where.region]
        name = self._name(where)
        attributes = {k: str(properties[k]) for k in _SQS_ATTRIBUTES if k in properties}
        if name not in backend.queues:
            backend.create_queue(name, tags=_tag_map(properties.get("Tags")), **attributes)
            return
        if attributes:
            backend.set_queue_attributes(name, attributes)
        if "Tags" in properties:
            queue = backend.get_queue(name)
            queue.tags = _tag_map(properties["Tags"])


class SnsTopic:
    """AWS::SNS::Topic, physical id = topic ARN."""

    replacement_properties = frozenset({"TopicName", "FifoTopic"})

    def read(self, where: Location) -> Properties | None:
        backend = sns_backends[where.account_id][where.region]
        topic = backend.topics.get(where.physical_id)
        if topic is None:
            return None
        props: Properties = {"TopicName": topic.name, "Tags": _tags(topic._tags)}
        if topic.display_name:
            props["DisplayName"] = topic.display_name
        if topic.kms_master_key_id:
            props["KmsMasterKeyId"] = topic.kms_master_key_id
        return props

    def write(self, where: Location, properties: Mapping[str, Any]) -> None:
        backend = sns_backends[where.account_id][where.region]
        arn = where.physical_id
        if arn not in backend.topics:
            backend.create_topic(arn.rsplit(":", 1)[-1])
        if "DisplayName" in properties:
            backend.set_topic_attribute(arn, "display_name", str(properties["DisplayName"]))
        if "KmsMasterKeyId" in properties:
            backend.set_topic_attribute(arn, "kms_master_key_id", str(properties["KmsMasterKeyId"]))
        if "Tags" in properties:
            backend.topics[arn]._tags = _tag_map(properties["Tags"])


class S3Bucket:
    """AWS::S3::Bucket (tags, versioning, default encryption), physical id = bucket name."""

    replacement_properties = frozenset({"BucketName"})

    @staticmethod
    def _backend(where: Location) -> Any:
        return s3_backends[where.account_id][get_partition(where.region)]

    def read(self, where: Location) -> Properties | None:
        backend = self._backend(where)
        bucket = backend.buckets.get(where.physical_id)
        if bucket is None:
            return None
        props: Properties = {"BucketName": bucket.name}
        tags = backend.tagger.list_tags_for_resource(bucket.arn).get("Tags", [])
        props["Tags"] = sorted(
            ({"Key": t["Key"], "Value": t["Value"]} for t in tags), key=lambda t: t["Key"]
        )
        if bucket.versioning_status:
            props["VersioningConfiguration"] = {"Status": bucket.versioning_status}
        if bucket.encryption:
            props["BucketEncryption"] = _encryption_to_cfn(bucket.encryption)
        return props

    def write(self, where: Location, properties: Mapping[str, Any]) -> None:
        backend = self._backend(where)
        name = where.physical_id
        if name not in backend.buckets:
            backend.create_bucket(name, where.region)
        if "VersioningConfiguration" in properties:
            backend.put_bucket_versioning(name, properties["VersioningConfiguration"]["Status"])
        if "BucketEncryption" in properties:
            backend.put_bucket_encryption(name, _encryption_to_api(properties["BucketEncryption"]))
        if "Tags" in properties:
            backend.put_bucket_tagging(name, _tag_map(properties["Tags"]))


def _encryption_to_cfn(api: Mapping[str, Any]) -> Properties:
    rules = api.get("Rule", [])
    rules = rules if isinstance(rules, list) else [rules]
    out = []
    for rule in rules:
        default = dict(rule.get("ApplyServerSideEncryptionByDefault", {}))
        entry: Properties = {"ServerSideEncryptionByDefault": default}
        if "BucketKeyEnabled" in rule:
            entry["BucketKeyEnabled"] = str(rule["BucketKeyEnabled"]).lower() == "true"
        out.append(entry)
    return {"ServerSideEncryptionConfiguration": out}


def _encryption_to_api(cfn: Mapping[str, Any]) -> Properties:
    rule = cfn["ServerSideEncryptionConfiguration"][0]
    api_rule: Properties = {
        "ApplyServerSideEncryptionByDefault": dict(rule["ServerSideEncryptionByDefault"])
    }
    if "BucketKeyEnabled" in rule:
        api_rule["BucketKeyEnabled"] = str(rule["BucketKeyEnabled"]).lower()
    return {"Rule": api_rule}


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


#: The resource types whose drift the sandbox detects; every other type is NOT_CHECKED.
LIVE_RESOURCES: dict[str, LiveResource] = {
    "AWS::SSM::Parameter": SsmParameter(),
    "AWS::SQS::Queue": SqsQueue(),
    "AWS::SNS::Topic": SnsTopic(),
    "AWS::S3::Bucket": S3Bucket(),
}
