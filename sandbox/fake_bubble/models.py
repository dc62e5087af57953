"""State of the fake Bubble (docs/contract.md#sandbox). In the database, so the web process, workers and tests share it."""

from django.db import models
from django.utils import timezone

from integrations.bubble.fields import DecimalJSONDecoder, ExactJSONEncoder


class FakeThing(models.Model):
    type_name = models.CharField("tipo", max_length=64)
    bubble_id = models.CharField("id", max_length=64)
    data = models.JSONField("campos", default=dict, encoder=ExactJSONEncoder, decoder=DecimalJSONDecoder)
    created_at = models.DateTimeField(default=timezone.now)
    modified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "coisa (Bubble falso)"
        verbose_name_plural = "coisas (Bubble falso)"
        constraints = [models.UniqueConstraint(fields=["type_name", "bubble_id"], name="fake_bubble_thing_unique")]

    def __str__(self) -> str:
        return f"{self.type_name}/{self.bubble_id}"


class FakePatch(models.Model):
    """Every PATCH received, in arrival order (``id``), with the body as sent and the answer given."""

    type_name = models.CharField(max_length=64)
    bubble_id = models.CharField(max_length=64)
    body = models.JSONField(null=True, encoder=ExactJSONEncoder, decoder=DecimalJSONDecoder)
    raw_body = models.TextField(blank=True, default="")
    status_code = models.PositiveSmallIntegerField()
    # When the request arrived and when it was applied: two PATCHes of one thing must never overlap.
    started_at = models.DateTimeField(default=timezone.now)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "PATCH recebido (Bubble falso)"
        verbose_name_plural = "PATCHes recebidos (Bubble falso)"
        ordering = ["id"]
        indexes = [models.Index(fields=["type_name", "bubble_id"], name="fake_bubble_patch_thing_idx")]

    def __str__(self) -> str:
        return f"PATCH {self.type_name}/{self.bubble_id} → {self.status_code}"


class FakeControl(models.Model):
    """One row (pk=1): how the fake misbehaves right now."""

    # 503 or 429 for every call (outage_calls_left is None) or for the next N calls.
    outage_status = models.PositiveSmallIntegerField(null=True, blank=True)
    outage_calls_left = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    # What a missing thing answers: 404 (current Bubble) or 400 (older apps), both with MISSING_DATA.
    missing_status = models.PositiveSmallIntegerField(default=404)
    # The bearer token the fake accepts; empty = settings.BUBBLE_API_TOKEN (what the client sends).
    token = models.CharField(max_length=200, blank=True, default="")
    calls = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = "controle (Bubble falso)"
        verbose_name_plural = "controle (Bubble falso)"

    def __str__(self) -> str:
        return "controle do Bubble falso"
