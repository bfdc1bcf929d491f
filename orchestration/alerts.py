"""Alerts that reach a person: a failed task (a failed gate among them), studies the gate
withheld from the report, and feeds overdue by their cadence. Sent through Airflow's notifiers
(the SMTP and HTTP providers') to whatever the two Airflow connections name:

- `hhp_alerts_smtp` (type smtp): the mail server; its extra gives `from_email` and `to`;
- `hhp_alerts_webhook` (type http): a Slack-compatible incoming webhook (JSON `{"text": ...}`);
  its extra may give the `endpoint` path.

A connection not configured is skipped. Every message is masked (hhp.pseudonymise) so that no
identifier leaves the platform, and is sent as it is, never rendered as a template: a partner's
file name cannot inject into it.
"""

from __future__ import annotations

import html
import logging

from airflow.sdk import BaseHook, BaseNotifier

from hhp.pseudonymise import mask_identifiers

SMTP_CONNECTION, WEBHOOK_CONNECTION = "hhp_alerts_smtp", "hhp_alerts_webhook"
log = logging.getLogger("hhp.alerts")


def _connection(conn_id: str):
    try:
        return BaseHook.get_connection(conn_id)
    except Exception:  # not configured (AirflowNotFoundException), or no secrets backend to ask
        return None


def send_alert(subject: str, text: str, context) -> list[str]:
    """Send one alert to every configured channel; returns the connections it went to."""
    subject, text = mask_identifiers(subject), mask_identifiers(text)
    log.error("%s: %s", subject, text)
    sent = []
    smtp = _connection(SMTP_CONNECTION)
    if smtp is not None:
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        extra = smtp.extra_dejson
        SmtpNotifier(
            to=extra.get("to"),
            from_email=extra.get("from_email"),
            subject=subject,
            html_content=f"<pre>{html.escape(text)}</pre>",
            smtp_conn_id=SMTP_CONNECTION,
        ).notify(context)  # notify, not __call__: the text is never rendered as a template
        sent.append(SMTP_CONNECTION)
    webhook = _connection(WEBHOOK_CONNECTION)
    if webhook is not None:
        from airflow.providers.http.notifications.http import HttpNotifier

        HttpNotifier(
            http_conn_id=WEBHOOK_CONNECTION,
            endpoint=webhook.extra_dejson.get("endpoint", ""),
            json={"text": f"{subject}\n{text}"},
            headers={"Content-Type": "application/json"},
        ).notify(context)
        sent.append(WEBHOOK_CONNECTION)
    return sent


def failure_text(context) -> tuple[str, str]:
    """(subject, text) of a failed task's alert: which task, which try, and the error's words."""
    ti = context.get("task_instance") or context.get("ti")
    dag_id, task_id = getattr(ti, "dag_id", "?"), getattr(ti, "task_id", "?")
    error = context.get("exception")
    text = (
        f"{dag_id}.{task_id} failed (try {getattr(ti, 'try_number', '?')}, run {context.get('run_id', '?')})"
    )
    if error is not None:
        text += f"\n{type(error).__name__}: {error}"
    return f"hhp: task failed: {dag_id}.{task_id}", text


class FailureAlert(BaseNotifier):
    """The on_failure_callback of every task (orchestration.wiring.task_defaults)."""

    template_fields = ()

    def notify(self, context) -> None:
        subject, text = failure_text(context)
        try:
            send_alert(subject, text, context)
        except Exception:  # an alert that cannot be sent must not hide the failure it reports
            log.exception("could not send the alert: %s", subject)
