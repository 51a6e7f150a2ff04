"""Which STS role sessions were assumed: what a test of cross-account access checks."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from drift_sandbox import Sandbox
from tests.support import ManualClock

ROLE = "arn:aws:iam::210987654321:role/DriftHealerMember"
OTHER = "arn:aws:iam::111122223333:role/Auditor"


def assume_two(sandbox: Sandbox) -> None:
    sts = sandbox.client("sts")
    sts.assume_role(RoleArn=ROLE, RoleSessionName="heal-1")
    sts.assume_role(RoleArn=OTHER, RoleSessionName="audit")


def test_assumed_roles_in_order(sandbox: Sandbox) -> None:
    assert sandbox.assumed_roles() == []
    assume_two(sandbox)
    sandbox.client("sts").get_caller_identity()  # not a session
    assert sandbox.assumed_roles() == [(ROLE, "heal-1"), (OTHER, "audit")]


def test_assumed_roles_out_of_process(clock: ManualClock) -> None:
    with Sandbox(clock=clock, server=True) as sandbox:
        assume_two(sandbox)
        assert sandbox.assumed_roles() == [(ROLE, "heal-1"), (OTHER, "audit")]


def test_a_faulted_call_assumed_nothing_a_lost_response_did(sandbox: Sandbox) -> None:
    sts = sandbox.client("sts")
    sandbox.faults.throttle("AssumeRole", service="sts")
    with pytest.raises(ClientError):
        sts.assume_role(RoleArn=ROLE, RoleSessionName="throttled")
    assert sandbox.assumed_roles() == []

    sandbox.faults.lose_response("AssumeRole", service="sts")
    with pytest.raises(ClientError):
        sts.assume_role(RoleArn=ROLE, RoleSessionName="lost")
    assert sandbox.assumed_roles() == [(ROLE, "lost")]
    assert sandbox.calls[("sts", "AssumeRole")] == 2


def test_the_list_returned_is_a_copy(sandbox: Sandbox) -> None:
    assume_two(sandbox)
    sandbox.assumed_roles().clear()
    assert len(sandbox.assumed_roles()) == 2


@pytest.mark.parametrize(
    "role",
    [
        "arn:aws:iam::role/drift-healer-member",
        "arn:aws:iam::12345:role/x",
        "arn:aws:iam::123456789012:user/x",
    ],
)
def test_sts_refuses_malformed_role_arns(sandbox: Sandbox, role: str) -> None:
    with pytest.raises(ClientError, match="ValidationError"):
        sandbox.client("sts").assume_role(RoleArn=role, RoleSessionName="session")
    assert sandbox.assumed_roles() == []


def test_a_refused_role_arn_never_ran_so_no_response_of_it_is_lost(sandbox: Sandbox) -> None:
    """STS refuses a malformed ARN before assuming anything: its answer stays the 400, and a
    lost-response fault waits for a call that ran."""
    sts = sandbox.client("sts")
    sandbox.faults.lose_response("AssumeRole", service="sts")
    with pytest.raises(ClientError) as refused:
        sts.assume_role(RoleArn="arn:aws:iam::12345:role/x", RoleSessionName="bad")
    assert refused.value.response["Error"]["Code"] == "ValidationError"
    with pytest.raises(ClientError) as lost:
        sts.assume_role(RoleArn=ROLE, RoleSessionName="lost")
    assert lost.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert sandbox.assumed_roles() == [(ROLE, "lost")]
