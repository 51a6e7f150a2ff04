"""The notification as a human reviewer reads it, and the console links. Pure: no I/O.

A reviewer must be able to act from the email alone: what drifted (expected vs actual, secrets
redacted upstream), the change set and its risk, the console links, and the exact commands.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from .models import Deferral, HealRequest, HealResult, Message, Outcome
from .records import Review

#: SNS: "Subjects must be ... less than 100 characters long" (Publish, API reference).
SUBJECT_LIMIT = 99
#: SNS: a message holds at most 256 KB (262,144 bytes) with its attributes; email subscriptions
#: cannot raise it. The body keeps well under, so a publish never fails for size.
BODY_BYTES = 200 * 1024
_CONSOLE_HOSTS = {
    "aws": "{region}.console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}
_HEADLINES = {
    Outcome.IN_SYNC: "in sync",
    Outcome.DRIFT_REPORTED: "drift found (dry run)",
    Outcome.CHANGE_SET_CREATED: "change set ready for review",
    Outcome.HEALED: "drift healed",
    Outcome.RESIDUAL_DRIFT: "drift remains after healing",
    Outcome.NOTHING_TO_REVERT: "drift found, nothing to revert",
    Outcome.REJECTED: "heal rejected",
    Outcome.SKIPPED: "skipped",
    Outcome.FAILED: "heal FAILED",
}


def _console(region: str, arn: str | None) -> str:
    partition = arn.split(":")[1] if arn and arn.startswith("arn:") else "aws"
    host = _CONSOLE_HOSTS.get(partition, _CONSOLE_HOSTS["aws"]).format(region=region)
    return f"https://{host}/cloudformation/home?region={region}"


def change_set_url(region: str, stack_arn: str, change_set_arn: str) -> str:
    """The console page to review a change set (both ARNs URL-encoded)."""
    return (
        f"{_console(region, stack_arn)}#/stacks/changesets/changes"
        f"?stackId={quote(stack_arn, safe='')}&changeSetId={quote(change_set_arn, safe='')}"
    )


def drift_url(region: str, stack_arn: str) -> str:
    """The console page with the stack's drift results."""
    return f"{_console(region, stack_arn)}#/stacks/drifts?stackId={quote(stack_arn, safe='')}"


def render(result: HealResult, region: str) -> Message:
    """Subject, body and filterable attributes of the message for ``result``."""
    headline = _HEADLINES[result.outcome]
    if result.outcome is Outcome.DRIFT_REPORTED and result.policy and result.policy.accepted_drift:
        headline = "drift found, accepted by the change policy"
    if result.policy and result.policy.regressions:
        headline = f"ALARM after healing: {', '.join(result.policy.regressions)}"
    subject = " ".join(f"[drift-healer] {short_name(result.stack_name)}: {headline}".split())
    if len(subject) > SUBJECT_LIMIT:
        subject = subject[: SUBJECT_LIMIT - 1] + "…"
    lines = [
        f"Stack:    {result.stack_name}",
        f"Stack ID: {result.stack_id or 'unknown'}",
        f"Region:   {region}",
        f"Outcome:  {result.outcome.value}",
        f"Reason:   {result.reason}",
        "",
    ]
    lines += _drift_section(result)
    lines += _change_set_section(result)
    lines += _approval_section(result)
    lines += _policy_section(result)
    if result.change_record:
        lines += [f"Change record: {result.change_record}", ""]
    if result.verification is not None:
        lines += [f"Verification: stack drift status {result.verification.stack_drift_status}", ""]
    if result.stack_id:
        lines += [f"Drift results: {drift_url(region, result.stack_id)}", ""]
    lines += ["What to do next:", *("  " + step for step in _next_steps(result, region))]
    return Message(
        subject=subject,
        body=_fit("\n".join(lines).rstrip() + "\n", _console_of(result, region)),
        attributes={"stack_name": result.stack_name, "outcome": result.outcome.value},
    )


def approval_request(
    result: HealResult,
    region: str,
    callback_id: str,
    review: Review,
    review_link: str | None = None,
) -> Message:
    """The request a reviewer acts on: the plan (drift, change set, risk), what the approval is
    bound to, the deadline, the review page's signed link (when there is one) and the exact
    commands to approve or reject."""
    subject = " ".join(f"[drift-healer] {short_name(result.stack_name)}: approval needed".split())[
        :SUBJECT_LIMIT
    ]
    risk = result.change_set.risk.value if result.change_set and result.change_set.risk else "?"
    lines = [
        f"Stack:    {result.stack_name}",
        f"Region:   {region}",
        f"Request:  execute the REVERT_DRIFT change set below ({risk} risk)?",
        f"Deadline: {review['Deadline']} (then the change set is deleted: REJECTED)",
        "",
        *_drift_section(result),
        *_change_set_section(result),
        f"Fingerprint: {review['Fingerprint']}",
        "  The approval holds for exactly these changes: if the change set, the stack or its",
        "  other change sets differ when it arrives, nothing is executed.",
        "",
        *(
            [
                "Review it, then approve or reject it, in your browser (anyone with this email",
                f"can answer, once, until the deadline): {review_link}",
                "",
                "Or from a terminal.",
            ]
            if review_link
            else []
        ),
        "To approve (after reviewing the change set):",
        f"  aws lambda send-durable-execution-callback-success --region {region} "
        f"--callback-id {callback_id} --cli-binary-format raw-in-base64-out "
        "--result '"
        + json.dumps({"Approver": "you@example.com", "Ticket": "CHG-1234", "Comment": "ok"})
        + "'",
        "To reject (the change set is deleted):",
        f"  aws lambda send-durable-execution-callback-failure --region {region} "
        f"--callback-id {callback_id} "
        "--error '"
        + json.dumps({"ErrorMessage": "why", "ErrorData": json.dumps({"Approver": "you"})})
        + "'",
    ]
    return Message(
        subject=subject,
        body=_fit("\n".join(lines).rstrip() + "\n", _console_of(result, region)),
        attributes={"stack_name": result.stack_name, "outcome": "APPROVAL_REQUESTED"},
    )


def deferral(result: HealResult, region: str, deferred: Deferral) -> Message:
    """The heal is ready but waits for the change policy: until when, why, and how to stop it."""
    until = deferred.until.replace("T", " ").replace("+00:00", " UTC")
    subject = " ".join(
        f"[drift-healer] {short_name(result.stack_name)}: heal deferred until {until}".split()
    )[:SUBJECT_LIMIT]
    why = []
    if deferred.window:
        why.append(f"it may run only in the change window {deferred.window}")
    if deferred.freezes:
        why.append(f"the freeze {', '.join(deferred.freezes)} holds it")
    lines = [
        f"Stack:    {result.stack_name}",
        f"Region:   {region}",
        f"Deferred: until {until} ({'; '.join(why) or 'the change policy'})",
        "",
        *_drift_section(result),
        *_change_set_section(result),
        *_policy_section(result),
        "What happens next:",
        "  At that time the healer checks again that the change set is exactly what it was, that",
        "  the stack was not updated and that the drift is still there; then it executes it (a",
        "  window that has closed by then defers it again). To stop it, delete the change set.",
    ]
    return Message(
        subject=subject,
        body=_fit("\n".join(lines).rstrip() + "\n", _console_of(result, region)),
        attributes={"stack_name": result.stack_name, "outcome": "DEFERRED"},
    )


def _policy_section(result: HealResult) -> list[str]:
    policy = result.policy
    if policy is None:
        return []
    lines = ["Change policy and health gates:"]
    if policy.tier:
        lines.append(f"  Tier:     {policy.tier}")
    if policy.window:
        lines.append(f"  Executed in the change window {policy.window}")
    for deferred in policy.deferrals:
        held = [f"window {deferred.window}"] if deferred.window else []
        held += [f"freeze {name}" for name in deferred.freezes]
        lines.append(f"  Deferred until {deferred.until} ({', '.join(held) or 'policy'})")
    if policy.accepted_drift:
        lines.append(f"  Accepted drift ({len(policy.accepted_drift)}):")
        for accepted in policy.accepted_drift[:50]:
            lines.append(
                f"    - {accepted.logical_resource_id} {accepted.property_path or '(deleted)'}: "
                f"{accepted.reason} ({accepted.owner}, until {accepted.expires})"
            )
    for expired in policy.expired_rules:
        lines.append(f"  Expired, so its drift counts again: {expired}")
    for title, states in (
        ("Alarms before", policy.health_before),
        ("Alarms after the bake time", policy.health_after),
    ):
        if states:
            shown = ", ".join(f"{name} {state}" for name, state in states.items())
            more = policy.alarms_watched - len(states)
            rest = ", OK" if list(states.values())[-1] == "OK" else ""  # not OK ones come first
            lines.append(f"  {title}: {shown}" + (f" and {more} more{rest}" if more > 0 else ""))
    if policy.regressions:
        lines.append(f"  REGRESSION: {', '.join(policy.regressions)} went off after the change")
    return [*lines, ""] if len(lines) > 1 else []


def _approval_section(result: HealResult) -> list[str]:
    approval = result.approval
    if approval is None:
        return []
    lines = [
        f"Approval:   {approval.decision}"
        + (f" by {approval.approver}" if approval.approver else "")
    ]
    if approval.ticket:
        lines.append(f"Ticket:     {approval.ticket}")
    if approval.comment:
        lines.append(f"Comment:    {approval.comment}")
    if approval.fingerprint:
        lines.append(f"Reviewed:   {approval.fingerprint}")
    return [*lines, ""]


def short_name(stack: str) -> str:
    """A stack ARN's name (``arn:…:stack/NAME/ID``), or the name as given."""
    parts = stack.split("/")
    return parts[1] if stack.startswith("arn:") and len(parts) >= 3 else stack


def _console_of(result: HealResult, region: str) -> str:
    return drift_url(region, result.stack_id) if result.stack_id else "the CloudFormation console"


def _fit(body: str, console: str) -> str:
    """The body, cut at a line to BODY_BYTES if it is longer, saying where the rest is."""
    if len(body.encode()) <= BODY_BYTES:
        return body
    note = f"\n… the message was cut to fit SNS's size limit; the full report: {console}\n"
    room = BODY_BYTES - len(note.encode())
    cut = body.encode()[:room].decode(errors="ignore")
    return cut[: cut.rfind("\n") + 1] + note


def _drift_section(result: HealResult) -> list[str]:
    if not result.drifted_resources:
        return []
    total = max(result.drifted_resource_count, len(result.drifted_resources))
    lines = [f"Drifted resources ({total}):"]
    for resource in result.drifted_resources:
        lines.append(
            f"  - {resource.logical_resource_id} ({resource.resource_type}) "
            f"{resource.stack_resource_drift_status}"
            + (f"  [{resource.physical_resource_id}]" if resource.physical_resource_id else "")
        )
        for d in resource.property_differences:
            lines.append(
                f"      {d.property_path}: expected {_show(d.expected_value)}, "
                f"actual {_show(d.actual_value)} ({d.difference_type})"
            )
        if resource.omitted_differences:
            lines.append(
                f"      and {resource.omitted_differences} more differences (see the drift "
                "results below)"
            )
    if total > len(result.drifted_resources):
        lines.append(
            f"  and {total - len(result.drifted_resources)} more resources (see the drift "
            "results below)"
        )
    return [*lines, ""]


def _change_set_section(result: HealResult) -> list[str]:
    cs = result.change_set
    if cs is None:
        return []
    lines = [f"Change set: {cs.name}"]
    if cs.risk is not None:
        lines.append(f"Risk:       {cs.risk.value}")
        lines += [f"  - {reason}" for reason in cs.risk_reasons]
    lines += [f"Review:     {cs.url}", ""]
    return lines


def _next_steps(result: HealResult, region: str) -> list[str]:
    cs = result.change_set
    if result.outcome is Outcome.CHANGE_SET_CREATED and cs is not None:
        return [
            "Review the change set (link above). To apply it:",
            f"  aws cloudformation execute-change-set --region {region} "
            f"--change-set-name '{cs.id}'",
            "To discard it:",
            f"  aws cloudformation delete-change-set --region {region} --change-set-name '{cs.id}'",
        ]
    return {
        Outcome.IN_SYNC: ["Nothing. The stack matches its template."],
        Outcome.DRIFT_REPORTED: [
            "Decide whether the drift is wanted. To propose a revert for review, invoke with",
            "  "
            + json.dumps(
                HealRequest(stack_name=result.stack_name, create_change_set_only=True).event()
            ),
        ],
        Outcome.HEALED: ["Nothing. The drift was reverted and the stack verified in sync."],
        Outcome.RESIDUAL_DRIFT: [
            "Inspect the drift results (link above): some properties cannot be reverted by "
            "CloudFormation and need a template change or a manual fix.",
        ],
        Outcome.NOTHING_TO_REVERT: [
            "CloudFormation found nothing it can revert (e.g. drift in properties it does not "
            "manage). Update the template to match, or accept the drift.",
        ],
        Outcome.SKIPPED: ["Nothing now; the reason above says when this stack will be healed."],
        Outcome.REJECTED: [
            "The drift is still there; the change set was deleted. Heal again when the change "
            "may be made, or change the template to accept the drift.",
        ],
        Outcome.FAILED: [
            "Read the reason above and the function's logs; fix the cause and invoke again.",
        ],
    }.get(result.outcome, ["Read the reason above."])


def _show(value: str | None) -> str:
    return "(none)" if value is None else f'"{value}"'
