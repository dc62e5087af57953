"""Every Omie webhook event received, kept raw whatever became of it (unique on Omie's messageId)."""

from django.db import models

# Sending stored events back to processing from the admin (the same pattern as Pagar.me's events).
REPROCESS_PERMISSION = "omie.reprocess_omiewebhookevent"


class OmieEventStatus(models.TextChoices):
    RECEIVED = "RECEIVED", "Recebido (a processar)"
    APPLIED = "APPLIED", "Aplicado"
    # Known topic, our OS, but nothing to change (already in that state, or only a hint for a poll).
    NO_CHANGE = "NO_CHANGE", "Sem mudança"
    DRIFT = "DRIFT", "Divergência registrada"
    UNMATCHED = "UNMATCHED", "OS não é nossa"
    IGNORED_TOPIC = "IGNORED_TOPIC", "Tópico não tratado"
    INVALID = "INVALID", "Formato não reconhecido"


class OmieWebhookEvent(models.Model):
    Status = OmieEventStatus

    message_id = models.CharField("id da mensagem (messageId)", max_length=200, unique=True)
    topic = models.CharField("tópico", max_length=100, blank=True, db_index=True)
    payload = models.JSONField("conteúdo recebido")
    status = models.CharField("situação", max_length=16, choices=OmieEventStatus.choices, default=OmieEventStatus.RECEIVED,
                              db_index=True)
    # What the field mapping read: the format and the names of the fields the event carried.
    payload_format = models.CharField("formato", max_length=12, blank=True)
    fields_seen = models.JSONField("campos recebidos", default=list, blank=True)
    omie_os_code = models.BigIntegerField("código da OS no Omie", null=True, blank=True, db_index=True)
    c_cod_int_os = models.CharField("código de integração da OS", max_length=100, blank=True, db_index=True)
    nfse_number = models.CharField("número da NFS-e", max_length=40, blank=True)
    # Plain ids on purpose: integrations never import the orders or billing apps.
    order_id = models.BigIntegerField("pedido (id)", null=True, blank=True, db_index=True)
    invoice_id = models.BigIntegerField("nota (id)", null=True, blank=True)
    received_at = models.DateTimeField("recebido em", auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField("processado em", null=True, blank=True)
    deliveries = models.PositiveIntegerField("entregas recebidas", default=1)
    message = models.TextField("resultado", blank=True)

    class Meta:
        app_label = "omie"
        verbose_name = "webhook do Omie"
        verbose_name_plural = "webhooks do Omie"
        ordering = ["-received_at", "-id"]
        permissions = [("reprocess_omiewebhookevent", "Pode reprocessar webhooks do Omie")]

    def __str__(self) -> str:
        return f"{self.topic or '?'} · {self.message_id}"
