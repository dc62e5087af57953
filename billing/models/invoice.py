"""The invoice (docs/contract.md#invoice): one attempt to get an NFS-e for an order, and the work it still needs.

An invoice is worked on one step at a time (``next_step`` at ``next_poll_at``) by whoever holds its
lease (``lease_token`` until ``leased_until``): the dispatcher hands leases out, the step task takes
it over with a conditional UPDATE, so two workers never act on one invoice at once, and a worker
that dies simply lets its lease run out for the next dispatch to pick the invoice up again.

``faturar_requested_at`` is committed BEFORE FaturarOS is sent. Set without
``faturar_accepted_at`` it means "FaturarOS may or may not have reached Omie": the next step then
asks ConsultarOS first and never sends FaturarOS blindly. The cancel request works the same way.
"""

from django.db import models
from django.db.models import Q

from orders.statuses import BillingStatus

INVOICE_STATUSES = [
    BillingStatus.ISSUING,
    BillingStatus.ISSUED,
    BillingStatus.FAILED,
    BillingStatus.CANCELLING,
    BillingStatus.CANCELLED,
    BillingStatus.MANUAL,
]


class InvoiceStep(models.TextChoices):
    NONE = "", "Nada a fazer"
    FATURAR = "FATURAR", "Faturar a OS (FaturarOS)"
    POLL_NFSE = "POLL_NFSE", "Consultar a NFS-e (StatusOS)"
    REENVIAR = "REENVIAR", "Reenviar a NFS-e (ReenviarOS)"
    CANCEL = "CANCEL", "Cancelar a OS (CancelarOS)"
    POLL_CANCEL = "POLL_CANCEL", "Confirmar o cancelamento (StatusOS)"


class FailureStage(models.TextChoices):
    NONE = "", "—"
    # The OS was not billed: retry sends FaturarOS again (after ConsultarOS confirms it).
    FATURAR = "FATURAR", "Omie recusou o faturamento"
    # The OS is billed but the city hall refused the NFS-e: retry uses ReenviarOS.
    NFSE = "NFSE", "Prefeitura rejeitou a NFS-e"


class CancelReason(models.IntegerChoices):
    ISSUE_ERROR = 1, "Erro na emissão"
    SERVICE_NOT_PROVIDED = 2, "Serviço não prestado"
    OTHER = 9, "Outros"


class Invoice(models.Model):
    Step = InvoiceStep
    CancelReason = CancelReason

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="invoices", verbose_name="pedido")
    status = models.CharField("situação", max_length=20, choices=[(s.value, s.label) for s in INVOICE_STATUSES])
    requested_by = models.CharField("emissão pedida por", max_length=200, blank=True)

    # The work queue
    next_step = models.CharField("próximo passo", max_length=12, choices=InvoiceStep.choices, blank=True)
    next_poll_at = models.DateTimeField("próximo passo em", null=True, blank=True)
    poll_count = models.PositiveIntegerField("consultas feitas", default=0)
    step_attempts = models.PositiveIntegerField("tentativas do passo atual", default=0)
    last_step_error = models.TextField("último erro do passo", blank=True)
    # Omie answers REDUNDANT to a repeated consult of one OS within 60 s: reads are spaced from this.
    last_read_at = models.DateTimeField("última consulta ao Omie em", null=True, blank=True)
    lease_token = models.UUIDField("reserva", null=True, blank=True)
    leased_until = models.DateTimeField("reservada até", null=True, blank=True)

    # FaturarOS
    faturar_requested_at = models.DateTimeField("FaturarOS enviado em", null=True, blank=True)
    faturar_accepted_at = models.DateTimeField("FaturarOS aceito em", null=True, blank=True)
    faturar_attempts = models.PositiveIntegerField("envios de FaturarOS", default=0)
    reenviar_requested_at = models.DateTimeField("ReenviarOS enviado em", null=True, blank=True)

    # The NFS-e
    nfse_number = models.CharField("número da NFS-e", max_length=40, blank=True, db_index=True)
    verification_code = models.CharField("código de verificação", max_length=80, blank=True)
    nfse_url = models.URLField("link da NFS-e", max_length=500, blank=True)
    rps_status = models.CharField("situação do RPS", max_length=20, blank=True)
    lot_status = models.CharField("situação do lote", max_length=20, blank=True)
    city_hall_message = models.TextField("mensagem da prefeitura", blank=True)
    issued_at = models.DateTimeField("emitida em", null=True, blank=True)
    failure_stage = models.CharField("falha em", max_length=8, choices=FailureStage.choices, blank=True)

    # NF recorded by ops (mark-nf-manual)
    manual_note = models.TextField("observação (NF manual)", blank=True)
    manual_recorded_by = models.CharField("NF manual registrada por", max_length=200, blank=True)

    # Cancellation
    cancel_reason_code = models.PositiveSmallIntegerField("motivo do cancelamento", choices=CancelReason.choices, null=True, blank=True)
    cancel_justification = models.CharField("justificativa do cancelamento", max_length=255, blank=True)
    cancel_requested_by = models.CharField("cancelamento pedido por", max_length=200, blank=True)
    cancel_requested_at = models.DateTimeField("cancelamento pedido em", null=True, blank=True)
    cancel_sent_at = models.DateTimeField("CancelarOS enviado em", null=True, blank=True)
    cancel_accepted_at = models.DateTimeField("CancelarOS aceito em", null=True, blank=True)
    cancelled_at = models.DateTimeField("cancelada em", null=True, blank=True)
    cancel_error = models.TextField("motivo da falha do cancelamento", blank=True)

    created_at = models.DateTimeField("criada em", auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField("atualizada em", auto_now=True)

    class Meta:
        verbose_name = "nota fiscal"
        verbose_name_plural = "notas fiscais"
        ordering = ["-created_at"]
        permissions = [
            ("cancel_nf", "Pode cancelar NFS-e"),
            ("mark_nf_manual", "Pode registrar NF manual"),
            ("approve_hold", "Pode aprovar faturamento retido"),
            ("override_day25", "Pode antecipar o faturamento do dia 25"),
            ("manage_cc", "Pode movimentar a conta corrente do cliente"),
        ]
        constraints = [
            # docs/contract.md#invoice: at most one invoice that is not cancelled per order.
            models.UniqueConstraint(fields=["order"], condition=~Q(status=BillingStatus.CANCELLED), name="invoice_one_live_per_order"),
            models.CheckConstraint(condition=Q(status__in=[s.value for s in INVOICE_STATUSES]), name="invoice_status_valid"),
            models.CheckConstraint(
                condition=~Q(status__in=[BillingStatus.ISSUED, BillingStatus.MANUAL]) | ~Q(nfse_number=""),
                name="invoice_issued_has_number",
            ),
            models.CheckConstraint(
                condition=Q(faturar_accepted_at__isnull=True) | Q(faturar_requested_at__isnull=False),
                name="invoice_faturar_accepted_after_request",
            ),
            models.CheckConstraint(
                condition=Q(cancel_reason_code__isnull=True) | Q(cancel_reason_code__in=CancelReason.values),
                name="invoice_cancel_reason_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["next_step", "next_poll_at"], name="invoice_work_due_idx", condition=~Q(next_step="")),
            models.Index(fields=["status", "created_at"], name="invoice_status_idx"),
            # The month close ("Faturamento do mês") reads a month of issued / cancelled NFS-e, not all of them.
            models.Index(fields=["issued_at"], condition=Q(issued_at__isnull=False), name="invoice_issued_at_idx"),
            models.Index(fields=["cancelled_at"], condition=Q(cancelled_at__isnull=False), name="invoice_cancelled_at_idx"),
        ]

    def __str__(self) -> str:
        return f"NF {self.nfse_number or '—'} · pedido {self.order_id}"

    @property
    def faturar_outcome_unknown(self) -> bool:
        return self.faturar_requested_at is not None and self.faturar_accepted_at is None
