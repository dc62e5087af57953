"""Pagar.me webhook events (SPEC §5.4): every event received is kept, whatever became of it."""

from django.db import models


class EventStatus(models.TextChoices):
    RECEIVED = "RECEIVED", "Recebido"
    APPLIED = "APPLIED", "Aplicado"
    # Older than the payment state already applied: kept, changes nothing.
    STALE = "STALE", "Antigo (ignorado)"
    UNMATCHED = "UNMATCHED", "Pedido não encontrado"
    UNKNOWN_TYPE = "UNKNOWN_TYPE", "Tipo não tratado"
    INVALID = "INVALID", "Inválido"


class PagarmeEvent(models.Model):
    Status = EventStatus

    event_id = models.CharField("ID do evento", max_length=100, unique=True)
    type = models.CharField("tipo", max_length=80, blank=True, db_index=True)
    payload = models.JSONField("conteúdo recebido")
    status = models.CharField("situação", max_length=16, choices=EventStatus.choices, default=EventStatus.RECEIVED, db_index=True)
    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="pagarme_events", verbose_name="pedido"
    )
    bubble_order_id = models.CharField("ID do pedido no Bubble", max_length=64, blank=True, db_index=True)
    charge_id = models.CharField("cobrança", max_length=100, blank=True)
    charge_status = models.CharField("situação da cobrança", max_length=40, blank=True)
    occurred_at = models.DateTimeField("ocorrido em", null=True, blank=True)
    received_at = models.DateTimeField("recebido em", auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField("processado em", null=True, blank=True)
    message = models.TextField("mensagem", blank=True)

    class Meta:
        verbose_name = "evento Pagar.me"
        verbose_name_plural = "eventos Pagar.me"
        ordering = ["-received_at"]
        permissions = [("reprocess_pagarmeevent", "Pode reprocessar eventos do Pagar.me")]

    def __str__(self) -> str:
        return f"{self.event_id} ({self.type})"
