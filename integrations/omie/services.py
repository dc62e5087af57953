from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from integrations.omie.models import OmieCall
from integrations.omie.throttle import get_throttle

_PRUNE_BATCH = 5000


def omie_call_prune(*, older_than_days: int | None = None, now: datetime | None = None) -> int:
    """Deletes call log rows past retention (90 days by default), in small batches so the table is
    never locked for long. Returns how many rows were deleted."""
    days = settings.OMIE_CALL_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted = 0
    while True:
        ids = list(OmieCall.objects.filter(created_at__lt=cutoff).order_by("id").values_list("id", flat=True)[:_PRUNE_BATCH])
        if not ids:
            return deleted
        deleted += OmieCall.objects.filter(id__in=ids).delete()[0]


def omie_method_pause(*, call: str, seconds: float, reason: str = "manual") -> datetime:
    """Pauses one Omie method for every worker (ops). Never shortens a longer pause."""
    return get_throttle().pause(call, seconds=seconds, reason=reason)


def omie_method_resume(*, call: str) -> None:
    """Lifts a pause and clears the method's error window (ops, after checking with Omie)."""
    get_throttle().resume(call)
