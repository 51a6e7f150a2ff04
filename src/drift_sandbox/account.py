"""An emulated AWS account in which CloudFormation drift really happens.

``Sandbox`` is moto plus the drift extension, in-process (``mock_aws``) or as a server on
127.0.0.1 (``ThreadedMotoServer``) for anything out of process. Use it as a context manager::

    with Sandbox(clock=runner_clock) as sandbox:
        cfn = sandbox.client("cloudformation")
        sandbox.faults.throttle("DescribeStackDriftDetectionStatus", times=3)

Several accounts: every account id has backends of its own. ``sandbox.client(..., account=)``
acts in one directly; STS AssumeRole on a role of another account hands out credentials that
land there, as in AWS. A fleet of stacks is made at once by :meth:`Sandbox.create_stacks`.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Self

import boto3
from botocore.config import Config
from moto import mock_aws
from moto.cloudformation.exceptions import ValidationError
from moto.moto_api._internal.models import moto_api_backend
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from . import api, bulk, calendars, schedules, stacks
from .engine import DriftEngine
from .faults import Faults
from .ratelimit import RateLimits
from .timing import Clock, Timing, wall_clock

ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"
_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


@dataclass(frozen=True)
class Notification:
    """One SNS message as a subscriber receives it."""

    subject: str | None
    message: str
    attributes: dict[str, str]


class Inbox:
    """An SQS queue subscribed to a topic: how a test reads what was published (public APIs)."""

    def __init__(self, sandbox: Sandbox, topic_arn: str) -> None:
        self._sqs = sandbox.client("sqs")
        name = "inbox-" + topic_arn.rsplit(":", 1)[-1]
        self.queue_url: str = self._sqs.create_queue(QueueName=name)["QueueUrl"]
        queue_arn = self._sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        sandbox.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)

    def messages(self) -> list[Notification]:
        """Every notification delivered since the last call."""
        out: list[Notification] = []
        while True:
            batch = self._sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            if not batch:
                return out
            for message in batch:
                envelope = json.loads(message["Body"])
                out.append(
                    Notification(
                        subject=envelope.get("Subject"),
                        message=envelope["Message"],
                        attributes={
                            k: v["Value"] for k, v in envelope.get("MessageAttributes", {}).items()
                        },
                    )
                )
                self._sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )


class Sandbox:
    """moto plus the CloudFormation drift extension, with modeled time and faults."""

    def __init__(
        self,
        clock: Clock = wall_clock,
        timing: Timing | None = None,
        region: str = DEFAULT_REGION,
        server: bool = False,
    ) -> None:
        self.region = region
        self.faults = Faults()
        #: How often each (service, action) was called, faulted calls included.
        self.calls: Counter[tuple[str, str]] = Counter()
        #: The same per (account, service, action), the account being the one the caller's
        #: credentials map to: what a test of a fleet over several accounts counts.
        self.calls_by_account: Counter[tuple[str, str, str]] = Counter()
        #: (role ARN, session name) of every AssumeRole that ran, in order (see assumed_roles).
        self.sessions: list[tuple[str, str]] = []
        self.engine = DriftEngine(clock, timing or Timing(), self.faults)
        #: The account's API rate limits, on the engine's clock: none until some are set, e.g.
        #: ``sandbox.limits.limit("cloudformation", {"DescribeStacks": Limit(2, 5)})``.
        self.limits = RateLimits(lambda: self.engine.clock())
        self._server_mode = server
        self._server: ThreadedMotoServer | None = None
        self._mock: Any = None
        self.endpoint_url: str | None = None

    # ------------------------------------------------------------------------- lifecycle
    def start(self) -> Self:
        api.install(self)
        if self._server_mode:
            self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            self._server.start()
            host, port = self._server.get_host_and_port()
            self.endpoint_url = f"http://{host}:{port}"
        else:
            self._mock = mock_aws()
            self._mock.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
            moto_api_backend.reset()  # the server shares this process's backends
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        api.uninstall()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------------- clients
    def environment(self) -> dict[str, str]:
        """Environment variables that point any AWS SDK or CLI at this sandbox."""
        env = dict(_FAKE_CREDENTIALS, AWS_DEFAULT_REGION=self.region, AWS_REGION=self.region)
        if self.endpoint_url:
            env["AWS_ENDPOINT_URL"] = self.endpoint_url
        return env

    @contextmanager
    def environ(self) -> Iterator[None]:
        """Point the process's own AWS SDK calls at the sandbox while the block runs."""
        saved = {k: os.environ.get(k) for k in self.environment()}
        os.environ.update(self.environment())
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def client(
        self,
        service: str,
        region: str | None = None,
        retries: int = 1,
        account: str = ACCOUNT_ID,
    ) -> Any:
        """A plain boto3 client on the sandbox. ``retries=1`` (no retry) shows faults as they
        are; raise it to see what boto3's own retries hide. ``account``: the account it acts in
        (moto's ``x-moto-account-id`` request header, in-process and server alike:
        https://docs.getmoto.org/en/latest/docs/multi_account.html)."""
        client = boto3.client(
            service,
            region_name=region or self.region,
            endpoint_url=self.endpoint_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            aws_session_token="testing",
            config=Config(retries={"mode": "standard", "total_max_attempts": retries}),
        )
        if account != ACCOUNT_ID:

            def act_in_account(request: Any, **_: Any) -> None:
                request.headers["x-moto-account-id"] = account

            client.meta.events.register("before-sign.*.*", act_in_account)
        return client

    # ------------------------------------------------------------------------- helpers
    def inbox(self, topic_arn: str) -> Inbox:
        """Subscribe a queue to the topic and return a reader for what is published to it."""
        return Inbox(self, topic_arn)

    def assumed_roles(self) -> list[tuple[str, str]]:
        """(role ARN, session name) of every STS AssumeRole that ran, in order. A call an injected
        fault answered instead did not run; one whose response was lost did."""
        return list(self.sessions)

    def make_busy(
        self,
        stack_name: str,
        seconds: float,
        region: str | None = None,
        account: str = ACCOUNT_ID,
    ) -> None:
        """Put the stack in UPDATE_IN_PROGRESS for ``seconds`` of modeled time."""
        stack = self.engine.stack(account, region or self.region, stack_name)
        self.engine.make_busy(stack, seconds)

    def delete_stack(
        self, stack_name: str, region: str | None = None, account: str = ACCOUNT_ID
    ) -> None:
        """Delete a stack (by name or ARN) at once, as if someone else did (moto deletes
        synchronously); its change sets go with it."""
        region = region or self.region
        stack = self.engine.stack(account, region, stack_name)
        self.engine.backend(account, region).delete_stack(stack.stack_id)
        self.engine.on_stack_deleted(account, region, stack.stack_id)

    # ------------------------------------------------------------------------- the fleet
    def create_stacks(
        self,
        names: Iterable[str],
        tags: Mapping[str, str],
        account: str = ACCOUNT_ID,
        region: str | None = None,
        template: str = bulk.TRIVIAL_TEMPLATE,
    ) -> list[str]:
        """Real stacks, one per name, each tagged ``tags``, from a template of one no-op resource
        (``bulk.TRIVIAL_TEMPLATE``) or a parameterless ``template`` of your own (parsed once for
        all of them): CREATE_COMPLETE, describable, taggable, deletable, found by the tagging
        API, exactly as CreateStack leaves them; made in the backend directly, about 0.1 ms a
        stack instead of 2 to 4 ms through the API (and not counted in ``calls``). Returns their
        ARNs (StackIds), in order."""
        made = bulk.create_stacks(names, tags, account, region or self.region, template)
        for stack in made:
            self.engine.on_stack_created(stack)
        return [stack.stack_id for stack in made]

    def tag_stack(
        self,
        stack: str,
        tags: Mapping[str, str],
        account: str = ACCOUNT_ID,
        region: str | None = None,
    ) -> None:
        """Give the stack (name or ARN) exactly these tags, as someone's UpdateStack with
        UsePreviousTemplate, previous parameter values and ``Tags`` does (an empty mapping removes
        them all): the sandbox's shortcut, not counted in ``calls``. Change sets made before
        become OBSOLETE, as after any update. A deleted stack, or one busy updating, is refused
        as UpdateStack refuses it (ValidationError)."""
        found = stacks.operable(account, region or self.region, stack)
        if found.status.endswith("_IN_PROGRESS"):
            raise ValidationError(
                message=f"Stack:{found.stack_id} is in {found.status} state and can not be updated."
            )
        bulk.retag(found, tags)
        self.engine.on_stack_updated(found)

    def change_calendar(
        self,
        name: str,
        closed: Sequence[tuple[datetime, datetime]] = (),
        default_open: bool = True,
        account: str = ACCOUNT_ID,
        region: str | None = None,
    ) -> None:
        """An SSM Change Calendar named ``name`` (moto has none): open by default, closed during
        each ``closed`` interval (aware instants), or the other way round with
        ``default_open=False``. GetCalendarState answers from it."""
        calendars.put(
            account,
            region or self.region,
            name,
            calendars.Calendar(default_open, tuple((a, b) for a, b in closed)),
        )

    def scheduled_event(
        self, group: str, name: str, account: str = ACCOUNT_ID, region: str | None = None
    ) -> dict[str, Any]:
        """The event the EventBridge Scheduler schedule would invoke its target with if it fired
        now (the engine's clock): its Target.Input, context attributes such as
        ``<aws.scheduler.scheduled-time>`` replaced, parsed. Scheduler never fires in moto; this
        is how a test or the demo fires it. LookupError if there is no such schedule,
        ValueError if it is DISABLED (it would not fire). Not counted in ``calls``."""
        return schedules.scheduled_input(
            account, region or self.region, group, name, self.engine.clock()
        )
