"""Daily reconciliation with Omie (docs/contract.md#reconciliation): what differs between Omie and our records."""

from django.db import models


class DriftKind(models.TextChoices):
    CANCELLED_IN_OMIE = "CANCELLED_IN_OMIE", "NF cancelada diretamente no Omie"
    BILLED_IN_OMIE = "BILLED_IN_OMIE", "OS faturada no Omie sem emissão registrada aqui"
    NOT_BILLED_IN_OMIE = "NOT_BILLED_IN_OMIE", "NF emitida aqui, OS não faturada no Omie"
    NUMBER_MISMATCH = "NUMBER_MISMATCH", "Número da NFS-e diferente"
    UNKNOWN_OS = "UNKNOWN_OS", "OS do Omie sem pedido correspondente"
    NFSE_STATUS = "NFSE_STATUS", "Situação da NFS-e diferente"
    # Seen at once through Omie's webhooks (billing.services.omie_webhooks).
    OS_CANCELLED_IN_OMIE = "OS_CANCELLED_IN_OMIE", "OS cancelada diretamente no Omie"
    OS_DELETED_IN_OMIE = "OS_DELETED_IN_OMIE", "OS excluída diretamente no Omie"
    NFSE_REPLACED = "NFSE_REPLACED", "NFS-e substituída no Omie"
    # The archived XML of an issued NFS-e says something else than StatusOS (billing.services.nfse_archive).
    NFSE_XML_MISMATCH = "NFSE_XML_MISMATCH", "XML da NFS-e diferente do StatusOS"


class ReconciliationRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "RUNNING", "Em andamento"
        DONE = "DONE", "Concluída"
        FAILED = "FAILED", "Falhou"

    started_at = models.DateTimeField("iniciada em", auto_now_add=True)
    finished_at = models.DateTimeField("terminada em", null=True, blank=True)
    date_from = models.DateField("de")
    date_to = models.DateField("até")
    status = models.CharField("situação", max_length=10, choices=Status.choices, default=Status.RUNNING)
    os_checked = models.PositiveIntegerField("OS conferidas", default=0)
    nfse_checked = models.PositiveIntegerField("NFS-e conferidas", default=0)
    drifts_found = models.PositiveIntegerField("divergências", default=0)
    message = models.TextField("mensagem", blank=True)
    # cCodIntOS of every NFS-e Omie listed; what we issued in the window and Omie did not list is drift.
    seen_keys = models.JSONField("OS vistas no Omie", default=list, blank=True)

    class Meta:
        verbose_name = "conciliação com o Omie"
        verbose_name_plural = "conciliações com o Omie"
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Conciliação {self.date_from:%d/%m} a {self.date_to:%d/%m/%Y}"


class ReconciliationDrift(models.Model):
    Kind = DriftKind

    class Source(models.TextChoices):
        RECONCILIATION = "RECONCILIATION", "Conciliação diária"
        WEBHOOK = "WEBHOOK", "Webhook do Omie"
        NFSE_DOCUMENT = "NFSE_DOCUMENT", "Documentos da NFS-e"

    # Empty for a drift seen through a webhook (no reconciliation run involved).
    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="drifts", verbose_name="conciliação",
                            null=True, blank=True)
    source = models.CharField("detectada por", max_length=16, choices=Source.choices, default=Source.RECONCILIATION)
    webhook_event_id = models.BigIntegerField("webhook do Omie (id)", null=True, blank=True)
    kind = models.CharField("divergência", max_length=24, choices=DriftKind.choices)
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="drifts", verbose_name="pedido")
    omie_os_code = models.BigIntegerField("código da OS no Omie", null=True, blank=True)
    c_cod_int_os = models.CharField("código de integração da OS", max_length=64, blank=True)
    local_state = models.CharField("situação aqui", max_length=100, blank=True)
    omie_state = models.CharField("situação no Omie", max_length=100, blank=True)
    message = models.TextField("detalhe", blank=True)
    detected_at = models.DateTimeField("detectada em", auto_now_add=True, db_index=True)
    resolved_at = models.DateTimeField("resolvida em", null=True, blank=True)
    resolved_by = models.CharField("resolvida por", max_length=200, blank=True)

    class Meta:
        verbose_name = "divergência com o Omie"
        verbose_name_plural = "divergências com o Omie"
        ordering = ["-detected_at"]
        permissions = [("resolve_drift", "Pode marcar divergência com o Omie como resolvida")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.c_cod_int_os or self.omie_os_code}"
