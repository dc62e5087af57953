"""Every Pagar.me webhook event received, kept raw whatever became of it (unique on the event id), and
the refused posts. The tables kept their names from when the models lived in ``billing``
(``billing_pagarmeevent``, ``billing_pagarmewebhookrefusal``): the move changed no data."""

from django.db import models

# Sending stored events back to processing from the admin (the same pattern as Omie's webhook events).
REPROCESS_PERMISSION = "pagarme.reprocess_pagarmeevent"


class EventStatus(models.TextChoices):
    RECEIVED = "RECEIVED", "Recebido"
    APPLIED = "APPLIED", "Aplicado"
    # Older than the payment state already applied: kept, changes nothing.
    STALE = "STALE", "Antigo (ignorado)"
    UNMATCHED = "UNMATCHED", "Pedido não encontrado"
    UNKNOWN_TYPE = "UNKNOWN_TYPE", "Tipo não tratado"
    INVALID = "INVALID", "Inválido"
    # The API does not confirm what the webhook claims (e.g. charge.paid, API says pending): nothing changed.
    NOT_CONFIRMED = "NOT_CONFIRMED", "Não confirmado pela API"
    # The same (charge, resulting status) was already applied by another event (charge.paid + order.paid).
    DUPLICATE = "DUPLICATE", "Duplicado (cobrança e situação já aplicadas)"


class PagarmeEvent(models.Model):
    Status = EventStatus

    event_id = models.CharField("ID do evento", max_length=100, unique=True)
    type = models.CharField("tipo", max_length=80, blank=True, db_index=True)
    payload = models.JSONField("conteúdo recebido")
    status = models.CharField("situação", max_length=16, choices=EventStatus.choices, default=EventStatus.RECEIVED, db_index=True)
    # A plain id on purpose (integrations never import the orders or billing apps); the column is the
    # former foreign key's, without its constraint.
    order_id = models.BigIntegerField("pedido (id)", null=True, blank=True, db_index=True)
    bubble_order_id = models.CharField("ID do pedido no Bubble", max_length=64, blank=True, db_index=True)
    charge_id = models.CharField("cobrança", max_length=100, blank=True)
    charge_status = models.CharField("situação da cobrança", max_length=40, blank=True)
    occurred_at = models.DateTimeField("ocorrido em", null=True, blank=True)
    received_at = models.DateTimeField("recebido em", auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField("processado em", null=True, blank=True)
    message = models.TextField("mensagem", blank=True)
    # What authenticated the request (rs256 / basic / hmac) and what the API said of the charge.
    auth_scheme = models.CharField("autenticação", max_length=8, blank=True)
    api_status = models.CharField("situação na API", max_length=40, blank=True)
    # The payment status this event resulted in (set when APPLIED): (charge_id, payment_status) is applied once.
    payment_status = models.CharField("pagamento resultante", max_length=16, blank=True)
    attempts = models.PositiveSmallIntegerField("consultas à API", default=0)
    next_attempt_at = models.DateTimeField("próxima consulta", null=True, blank=True)
    # LGPD: when the payload was reduced to ids, type, status, amounts and times.
    reduced_at = models.DateTimeField("payload reduzido em", null=True, blank=True)

    class Meta:
        app_label = "pagarme"
        db_table = "billing_pagarmeevent"
        verbose_name = "evento Pagar.me"
        verbose_name_plural = "eventos Pagar.me"
        ordering = ["-received_at"]
        permissions = [("reprocess_pagarmeevent", "Pode reprocessar eventos do Pagar.me")]

    def __str__(self) -> str:
        return f"{self.event_id} ({self.type})"


class PagarmeWebhookRefusal(models.Model):
    """POSTs to /webhooks/pagarme that no listed scheme authenticated (401) or that found the JWKS down (503).

    One row per source address, minute and answer, counting the refusals (``count``): a flood of anonymous
    posts is one row a minute, not one row each. The row keeps the first refusal of its minute as the
    sample (reasons, kid, excerpt). Nothing of the request is kept beyond a short excerpt of the body: it
    may be forged, and it may carry personal data.
    """

    received_at = models.DateTimeField("recebido em", auto_now_add=True, db_index=True)
    # The aggregation key: the client address as text ("" when unknown) and the minute. Rows from before
    # the aggregation have no minute and stay one per refusal.
    source = models.CharField("origem", max_length=64, blank=True, default="")
    window_start = models.DateTimeField("minuto", null=True, blank=True)
    count = models.PositiveIntegerField("recusas no minuto", default=1)
    last_at = models.DateTimeField("última recusa em", null=True, blank=True)
    http_status = models.PositiveSmallIntegerField("resposta")
    reasons = models.JSONField("motivos", default=dict)
    message = models.TextField("mensagem", blank=True)
    kid = models.CharField("kid", max_length=200, blank=True)
    remote_addr = models.GenericIPAddressField("IP", null=True, blank=True)
    body_bytes = models.PositiveIntegerField("tamanho do corpo", default=0)
    body_excerpt = models.CharField("início do corpo", max_length=200, blank=True)

    class Meta:
        app_label = "pagarme"
        db_table = "billing_pagarmewebhookrefusal"
        verbose_name = "webhook Pagar.me recusado"
        verbose_name_plural = "webhooks Pagar.me recusados"
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["source", "window_start", "http_status"], name="pagarme_refusal_per_source_minute"),
        ]

    def __str__(self) -> str:
        return f"{self.received_at:%d/%m/%Y %H:%M:%S} HTTP {self.http_status} ×{self.count}"
