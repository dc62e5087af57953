"""Refused Pagar.me webhooks, counted per source address and minute instead of one row each.

An anonymous flood (nginx's ``limit_req`` lets a burst through) must not grow the table by a row per
post: each (source, minute, HTTP answer) is one row whose ``count`` goes up, keeping the minute's first
refusal as the sample ops read. Concurrent refusals of one minute race on a unique constraint; the loser
increments the winner's row.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from integrations.pagarme.webhooks.models import PagarmeWebhookRefusal


@dataclass(frozen=True)
class RefusalSample:
    """What is kept of one refused request: never the headers, only the start of the body."""

    http_status: int
    reasons: dict[str, str]
    message: str
    kid: str
    remote_addr: str | None
    body_bytes: int
    body_excerpt: str


def pagarme_refusal_record(*, sample: RefusalSample) -> PagarmeWebhookRefusal:
    """Counts one refusal in its (source, minute, answer) row, creating the row with this sample when it is the first."""
    now = timezone.now()
    key = {"source": (sample.remote_addr or "")[:64], "window_start": now.replace(second=0, microsecond=0),
           "http_status": sample.http_status}
    rows = PagarmeWebhookRefusal.objects.filter(**key)
    if rows.update(count=F("count") + 1, last_at=now):
        return rows.get()
    try:
        with transaction.atomic():
            return PagarmeWebhookRefusal.objects.create(
                **key, count=1, last_at=now, reasons=sample.reasons, message=sample.message[:2000], kid=sample.kid[:200],
                remote_addr=sample.remote_addr, body_bytes=sample.body_bytes, body_excerpt=sample.body_excerpt[:200],
            )
    except IntegrityError:
        rows.update(count=F("count") + 1, last_at=now)
        return rows.get()
