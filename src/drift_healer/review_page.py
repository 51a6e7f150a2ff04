"""The review page's HTML: what a reviewer reads before approving a heal, the form that answers it,
and the pages that say what happened. Pure: values in, a string of HTML out.

Plain HTML and a little inline CSS, no JavaScript: it works in any browser, a screen reader and a
mail client's preview. Every value is escaped; what the page shows of the drift was redacted by
the healer before it was recorded, exactly as in the email.
"""

from __future__ import annotations

from html import escape
from typing import Any

from .models import HealResult
from .policy import approval
from .render import drift_url, short_name

#: How an answer given on the page names its approver: after the name typed, kept whole.
VIA_LINK = " (review link)"
#: What the form's fields may hold, in characters (the answer is recorded in the result).
NAME_LIMIT = approval.FIELD_LIMITS["Approver"] - len(VIA_LINK)
TICKET_LIMIT = approval.FIELD_LIMITS["Ticket"]
COMMENT_LIMIT = approval.FIELD_LIMITS["Comment"]

_STYLE = """
body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fff}
main{max-width:60rem;margin:0 auto;padding:1rem 1.5rem 3rem}
h1{font-size:1.6rem;margin:.5rem 0 1rem}h2{font-size:1.2rem;margin:2rem 0 .5rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}
dd{margin:0;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%}caption{text-align:left;font-weight:600}
th,td{border:1px solid #767676;padding:.35rem .5rem;text-align:left;vertical-align:top;
overflow-wrap:anywhere}th{background:#f0f0f0}
code{font-family:ui-monospace,monospace}
.risk-HIGH{color:#8a1c1c;font-weight:700}.risk-LOW{color:#1d5e20;font-weight:700}
.note{border-left:4px solid #767676;padding:.25rem .75rem;background:#f7f7f7}
.alert{border-left:4px solid #8a1c1c;padding:.5rem .75rem;background:#fbeaea}
fieldset{border:1px solid #767676;padding:1rem;margin:1.5rem 0}legend{font-weight:600}
label{display:block;font-weight:600;margin-top:.75rem}
input[type=text],textarea{width:100%;max-width:36rem;font:inherit;padding:.35rem;
border:1px solid #767676;box-sizing:border-box}
.check{display:flex;gap:.5rem;align-items:flex-start;font-weight:400}
.check input{margin-top:.35rem}
button{font:inherit;font-weight:600;padding:.5rem 1.25rem;margin:1rem 1rem 0 0;cursor:pointer;
border:2px solid #1b1b1b;border-radius:4px;background:#fff}
button.approve{background:#1d5e20;border-color:#1d5e20;color:#fff}
:focus-visible{outline:3px solid #1a5fb4;outline-offset:2px}
"""


def review(
    plan: HealResult,
    region: str,
    token: str,
    deadline: str,
    fingerprint: str,
    problem: str | None = None,
    entered: dict[str, str] | None = None,
) -> str:
    """The review: the stack, the change set's risk and reasons, every drifted property (expected
    and actual), what the approval is bound to, and the form (a POST: viewing changes nothing).
    ``problem``: why the last answer was not taken (shown first); ``entered``: what was typed."""
    typed = entered or {}
    change_set = plan.change_set
    risk = change_set.risk.value if change_set and change_set.risk else "unknown"
    reasons = change_set.risk_reasons if change_set else []
    body = [
        f"<h1>Approve the heal of {escape(short_name(plan.stack_name))}?</h1>",
        *([f'<p class="alert" role="alert">{escape(problem)}</p>'] if problem else []),
        "<p>The healer found drift on this stack and made a change set that reverts it. It "
        "executes the change set only if you approve, and only if the change set is still "
        "exactly what this page shows.</p>",
        "<dl>",
        _row("Stack", plan.stack_id or plan.stack_name),
        _row("Region", region),
        f'<dt>Risk</dt><dd><span class="risk-{escape(risk)}">{escape(risk)}</span></dd>',
        _row("Change set", change_set.name if change_set else "unknown"),
        _row("Answer by", deadline),
        "</dl>",
    ]
    if reasons:
        body += ["<h2>Why this risk</h2>", "<ul>"]
        body += [f"<li>{escape(reason)}</li>" for reason in reasons]
        body.append("</ul>")
    body += _drift(plan, region)
    if change_set is not None:
        body.append(
            f'<p>See every change in the <a href="{escape(change_set.url)}">change set in the '
            "CloudFormation console</a> (you sign in to AWS there).</p>"
        )
    body += [
        f'<p class="note">This approval holds for these changes only (fingerprint '
        f"<code>{escape(fingerprint)}</code>). If the change set, the stack or its other change "
        "sets differ when your answer arrives, nothing is executed.</p>",
        '<form method="post">',
        f'<input type="hidden" name="t" value="{escape(token)}">',
        "<fieldset><legend>Your answer</legend>",
        '<label for="name">Your name or email (recorded as the approver)</label>',
        f'<input type="text" id="name" name="name" required maxlength="{NAME_LIMIT}" '
        f'autocomplete="on" value="{escape(typed.get("name", ""))}">',
        '<label for="ticket">Change ticket (optional)</label>',
        f'<input type="text" id="ticket" name="ticket" maxlength="{TICKET_LIMIT}" '
        f'value="{escape(typed.get("ticket", ""))}">',
        '<label for="comment">Comment (optional)</label>',
        f'<textarea id="comment" name="comment" rows="3" maxlength="{COMMENT_LIMIT}">'
        f"{escape(typed.get('comment', ''))}</textarea>",
        '<label class="check" for="confirm"><input type="checkbox" id="confirm" name="confirm" '
        'value="yes" required> I have reviewed the changes above, and I answer for this '
        "change.</label>",
        '<button type="submit" name="decision" value="approve" class="approve">Approve and '
        "execute</button>",
        '<button type="submit" name="decision" value="reject">Reject (the change set is '
        "deleted)</button>",
        "</fieldset>",
        "</form>",
    ]
    return _page(f"Review: {short_name(plan.stack_name)}", body)


def answered(stack: str, approved: bool, approver: str) -> str:
    """After an answer was sent: what happens next."""
    stack = short_name(stack)
    if approved:
        title = f"Approved: {stack}"
        text = (
            f"Thank you, {approver}. The healer checks that the change set is still exactly what "
            "you reviewed, then executes it and verifies the stack. The result comes by email."
        )
    else:
        title = f"Rejected: {stack}"
        text = (
            f"Thank you, {approver}. The change set is deleted and nothing is executed; the "
            "drift remains. The result comes by email."
        )
    return _page(title, [f"<h1>{escape(title)}</h1>", f"<p>{escape(text)}</p>"])


def refused(title: str, text: str) -> str:
    """A link that cannot be acted on, and why; nothing was changed."""
    return _page(title, [f"<h1>{escape(title)}</h1>", f"<p>{escape(text)}</p>"])


def _drift(plan: HealResult, region: str) -> list[str]:
    resources = plan.drifted_resources
    if not resources:
        return []
    total = max(plan.drifted_resource_count, len(resources))
    out = [
        "<h2>What drifted (the change set sets it back to the expected values)</h2>",
        "<table>",
        f"<caption>{total} drifted resource{'s' if total != 1 else ''}</caption>",
        '<thead><tr><th scope="col">Resource</th><th scope="col">Property</th>'
        '<th scope="col">Expected (the template)</th><th scope="col">Actual (now)</th></tr>'
        "</thead><tbody>",
    ]
    for resource in resources:
        name = (
            f"{escape(resource.logical_resource_id)} ({escape(resource.resource_type)}, "
            f"{escape(resource.stack_resource_drift_status)})"
        )
        differences = resource.property_differences or []
        if not differences:
            out.append(f'<tr><th scope="row">{name}</th><td colspan="3">(no properties)</td></tr>')
        for d in differences:
            out.append(
                f'<tr><th scope="row">{name}</th><td><code>{escape(d.property_path)}</code></td>'
                f"<td>{_value(d.expected_value)}</td><td>{_value(d.actual_value)}</td></tr>"
            )
        if resource.omitted_differences:
            out.append(
                f'<tr><th scope="row">{name}</th><td colspan="3">and '
                f"{resource.omitted_differences} more differences</td></tr>"
            )
    out.append("</tbody></table>")
    more = total - len(resources)
    if more > 0 or any(r.omitted_differences for r in resources):
        url = drift_url(region, plan.stack_id) if plan.stack_id else ""
        what = f"{more} more drifted resource{'s' if more != 1 else ''}" if more > 0 else ""
        out.append(
            f"<p>Not everything fits this page: see {what or 'every difference'} "
            + (f'in the <a href="{escape(url)}">drift results</a>.' if url else "in the console.")
            + "</p>"
        )
    return out


def _value(value: Any) -> str:
    return "<em>(none)</em>" if value is None else f"<code>{escape(str(value))}</code>"


def _row(term: str, value: str) -> str:
    return f"<dt>{escape(term)}</dt><dd>{escape(value)}</dd>"


def _page(title: str, body: list[str]) -> str:
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="referrer" content="no-referrer">',
            f"<title>{escape(title)} | drift-healer</title>",
            f"<style>{_STYLE}</style>",
            "</head>",
            "<body>",
            "<main>",
            *body,
            "</main>",
            "</body>",
            "</html>",
            "",
        ]
    )
