"""Helpers to drive the fake Bubble from tests, the seed command and the control endpoint."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from sandbox.fake_bubble.models import FakeControl, FakePatch, FakeThing

CONTROL_FIELDS = ("outage_status", "outage_calls_left", "latency_ms", "missing_status", "token")


def control_get() -> FakeControl:
    control, _ = FakeControl.objects.get_or_create(pk=1)
    return control


def control_set(**values: Any) -> FakeControl:
    """E.g. ``control_set(outage_status=503, outage_calls_left=3)``; unknown keys raise."""
    unknown = set(values) - set(CONTROL_FIELDS)
    if unknown:
        raise ValueError(f"unknown control fields: {sorted(unknown)}")
    if values.get("outage_status") not in (None, 429, 500, 502, 503, 504):
        raise ValueError("outage_status must be 429 or 5xx")
    if values.get("missing_status", 404) not in (400, 404):
        raise ValueError("missing_status must be 400 or 404")
    control_get()
    FakeControl.objects.filter(pk=1).update(**values)
    return control_get()


def control_reset(*, clear_data: bool = False) -> None:
    FakeControl.objects.update_or_create(
        pk=1,
        defaults={
            "outage_status": None, "outage_calls_left": None, "latency_ms": 0, "missing_status": 404, "token": "", "calls": 0,
        },
    )
    if clear_data:
        FakePatch.objects.all().delete()
        FakeThing.objects.all().delete()


def outage_take() -> int | None:
    """The status this call must fail with, consuming one of the next-N failing calls; None = serve it."""
    control = control_get()
    FakeControl.objects.filter(pk=1).update(calls=F("calls") + 1)
    if control.outage_status is None:
        return None
    if control.outage_calls_left is None:
        return control.outage_status
    # Atomic: concurrent calls never consume more failures than configured.
    taken = FakeControl.objects.filter(pk=1, outage_calls_left__gt=0).update(outage_calls_left=F("outage_calls_left") - 1)
    if not taken:
        return None
    FakeControl.objects.filter(pk=1, outage_calls_left=0).update(outage_status=None, outage_calls_left=None)
    return control.outage_status


def thing_put(*, type_name: str, bubble_id: str, fields: dict[str, Any]) -> FakeThing:
    """Creates or replaces a thing (idempotent: the seed runs it on every start)."""
    thing, _ = FakeThing.objects.update_or_create(
        type_name=type_name, bubble_id=bubble_id, defaults={"data": fields, "modified_at": timezone.now()}
    )
    return thing


def thing_get(*, type_name: str, bubble_id: str) -> FakeThing | None:
    return FakeThing.objects.filter(type_name=type_name, bubble_id=bubble_id).first()


def thing_patch(
    *, type_name: str, bubble_id: str, fields: dict[str, Any], raw_body: str = "", started_at: datetime | None = None
) -> FakeThing | None:
    """Merges fields like Bubble's PATCH and records it; None when the thing does not exist.

    The record is written under the thing's row lock, so the records' order is the order applied.
    """
    now = timezone.now()
    with transaction.atomic():
        thing = FakeThing.objects.select_for_update().filter(type_name=type_name, bubble_id=bubble_id).first()
        if thing is None:
            return None
        thing.data = {**thing.data, **fields}
        thing.modified_at = now
        thing.save(update_fields=["data", "modified_at"])
        FakePatch.objects.create(
            type_name=type_name, bubble_id=bubble_id, body=fields, raw_body=raw_body, status_code=204,
            started_at=started_at or now, received_at=now,
        )
        return thing


def patch_record_failure(*, type_name: str, bubble_id: str, raw_body: str, status_code: int, started_at: datetime) -> None:
    FakePatch.objects.create(
        type_name=type_name, bubble_id=bubble_id, body=None, raw_body=raw_body[:10000], status_code=status_code,
        started_at=started_at, received_at=timezone.now(),
    )


def patches_for(*, type_name: str | None = None, bubble_id: str | None = None, ok_only: bool = False) -> list[FakePatch]:
    query = Q()
    if type_name:
        query &= Q(type_name=type_name)
    if bubble_id:
        query &= Q(bubble_id=bubble_id)
    if ok_only:
        query &= Q(status_code=204)
    return list(FakePatch.objects.filter(query).order_by("id"))
