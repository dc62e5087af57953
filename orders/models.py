from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone

from orders.statuses import (
    ActionOutcome,
    BillingStatus,
    BillingTrigger,
    CustomerKind,
    HoldReason,
    PaidVia,
    PaymentStatus,
    SyncStatus,
)

BUBBLE_ID_REGEX = r"^[0-9]{10,16}x[0-9]{10,24}$"


# The read-only CPF/CNPJ field's help on the admin pages.
DOCUMENT_HELP = "Como guardado: só números e letras, sem pontos, barras ou traços."

class Order(models.Model):
    """One Bubble order and everything the backend did with it (docs/contract.md#the-order).

    Bubble stays the source of truth for the business data copied here (customer, amount,
    description); this row is the source of truth for what was sent to Omie and why.
    """

    SyncStatus = SyncStatus
    BillingStatus = BillingStatus
    BillingTrigger = BillingTrigger
    HoldReason = HoldReason
    CustomerKind = CustomerKind
    PaymentStatus = PaymentStatus
    PaidVia = PaidVia

    bubble_id = models.CharField("ID do pedido no Bubble", max_length=64, unique=True)

    # Customer, as read from Bubble
    customer_bubble_id = models.CharField("ID do cliente no Bubble", max_length=64, blank=True, db_index=True)
    document = models.CharField("CPF/CNPJ", max_length=14, blank=True, db_index=True, help_text=DOCUMENT_HELP)
    customer_kind = models.CharField("tipo de cliente", max_length=2, choices=CustomerKind.choices, blank=True)
    customer_name = models.CharField("nome do cliente", max_length=200, blank=True)
    customer_email = models.EmailField("e-mail do cliente", blank=True)
    cnpj_status = models.CharField("situação cadastral do CNPJ", max_length=40, blank=True)
    requires_approval = models.BooleanField("cliente exige aprovação", default=False)

    # What is billed
    amount = models.DecimalField("valor (R$)", max_digits=14, decimal_places=2, null=True, blank=True)
    service_description = models.TextField("descrição do serviço", blank=True)
    lc116_code = models.CharField("código de serviço LC 116", max_length=10, blank=True)

    # Payment
    payment_method = models.CharField("forma de pagamento", max_length=40, blank=True)
    payment_status = models.CharField("pagamento", max_length=12, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)
    paid_via = models.CharField("pago via", max_length=16, choices=PaidVia.choices, blank=True)
    paid_at = models.DateTimeField("pago em", null=True, blank=True)
    amount_paid = models.DecimalField("valor pago (R$)", max_digits=14, decimal_places=2, default=0)
    # The time of the newest payment fact applied; an older webhook never overwrites a newer state.
    payment_state_at = models.DateTimeField("pagamento atualizado em", null=True, blank=True)
    payment_flag = models.CharField(
        "alerta de pagamento", max_length=200, blank=True,
        help_text="Estorno, chargeback, pagamento a menor/a maior ou cobrança de outro pedido: requer análise do financeiro.",
    )
    # Refunded so far, as Pagar.me reports it (the charge's canceled_amount): partial refunds leave the payment "paid".
    amount_refunded = models.DecimalField("valor estornado (R$)", max_digits=14, decimal_places=2, default=0)

    # Statuses
    sync_status = models.CharField("status do pedido", max_length=10, choices=SyncStatus.choices, default=SyncStatus.PENDING)
    billing_status = models.CharField("status do faturamento", max_length=20, choices=BillingStatus.choices, blank=True)

    # Billing decision (docs/contract.md#billing-decision): stored, so ops and Bubble see when and why
    billing_trigger = models.CharField("gatilho de faturamento", max_length=16, choices=BillingTrigger.choices, blank=True)
    billing_scheduled_for = models.DateField("faturamento previsto para", null=True, blank=True)
    override_day25 = models.BooleanField("antecipação do dia 25 autorizada", default=False)
    hold_reason = models.CharField("motivo da retenção", max_length=16, choices=HoldReason.choices, blank=True)
    hold_approved_by = models.CharField("retenção aprovada por", max_length=200, blank=True)
    hold_approved_at = models.DateTimeField("retenção aprovada em", null=True, blank=True)

    # Omie ids
    omie_customer_code = models.BigIntegerField("código do cliente no Omie", null=True, blank=True)
    omie_os_code = models.BigIntegerField("código da OS no Omie", null=True, blank=True, unique=True)
    omie_os_number = models.CharField("número da OS (Omie)", max_length=20, blank=True, db_index=True)

    # Sync bookkeeping (docs/contract.md#sync). Each step stores what it learned as soon as it knows it, so a
    # re-run after a crash resumes where the previous one stopped.
    sync_started_at = models.DateTimeField("sincronização iniciada em", null=True, blank=True)
    source_fetched_at = models.DateTimeField("dados lidos do Bubble em", null=True, blank=True)
    # The Omie UpsertCliente payload built from Bubble (+ BrasilAPI for PJ): the Omie step needs
    # nothing else, and a change in it is what makes the customer be sent to Omie again.
    customer_payload = models.JSONField("dados do cliente para o Omie", default=dict, blank=True)
    omie_customer_synced_at = models.DateTimeField("cliente enviado ao Omie em", null=True, blank=True)
    # Set (and committed) before IncluirOS is sent. Set without omie_os_code means the outcome of
    # a send is unknown: ConsultarOS by cCodIntOS before sending again.
    omie_os_requested_at = models.DateTimeField("IncluirOS enviado em", null=True, blank=True)
    # The address IncluirOS's Email block asked Omie to send the NFS-e to (OMIE_SEND_NFSE_EMAIL);
    # empty: Omie was not asked to e-mail the customer.
    nfse_email_to = models.EmailField("NFS-e enviada pelo Omie para", blank=True)

    # Work bookkeeping
    last_error = models.TextField("último erro", blank=True)
    sync_attempts = models.PositiveIntegerField("tentativas de sincronização", default=0)
    billing_attempts = models.PositiveIntegerField("tentativas de emissão", default=0)
    next_attempt_at = models.DateTimeField("próxima tentativa em", null=True, blank=True)
    version = models.PositiveIntegerField("versão", default=0)

    created_at = models.DateTimeField("criado em", auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField("atualizado em", auto_now=True)
    synced_at = models.DateTimeField("sincronizado em", null=True, blank=True)

    class Meta:
        verbose_name = "pedido"
        verbose_name_plural = "pedidos"
        ordering = ["-created_at"]
        permissions = [("retry_order", "Pode reprocessar pedidos com falha")]
        constraints = [
            models.CheckConstraint(condition=Q(bubble_id__regex=BUBBLE_ID_REGEX), name="order_bubble_id_format"),
            # Compact and upper-case, as integrations.documents stores it: 11 digits (CPF) or 12
            # [0-9A-Z] + 2 check digits (CNPJ, alphanumeric since 2026); empty until read from Bubble.
            models.CheckConstraint(
                condition=Q(document="") | Q(document__regex=r"^([0-9]{11}|[0-9A-Z]{12}[0-9]{2})$"), name="order_document_compact"
            ),
            models.CheckConstraint(condition=Q(amount__isnull=True) | Q(amount__gte=0), name="order_amount_not_negative"),
            models.CheckConstraint(condition=Q(amount_paid__gte=0), name="order_amount_paid_not_negative"),
            models.CheckConstraint(condition=Q(amount_refunded__gte=0), name="order_amount_refunded_not_negative"),
            # Billing starts only once the order exists in Omie.
            models.CheckConstraint(
                condition=Q(billing_status="") | Q(sync_status=SyncStatus.SYNCED), name="order_billing_only_after_sync"
            ),
        ]
        indexes = [
            models.Index(fields=["sync_status", "created_at"], name="order_sync_status_idx"),
            models.Index(fields=["billing_status", "billing_scheduled_for"], name="order_billing_due_idx"),
            models.Index(fields=["payment_status"], name="order_payment_status_idx"),
            # The stuck-sync sweep reads only PENDING orders by their next expected attempt.
            models.Index(
                fields=["next_attempt_at"], name="order_sync_pending_due_idx", condition=Q(sync_status=SyncStatus.PENDING)
            ),
            # The search box (backoffice/search.py) on a million orders: a name word is a case-insensitive
            # "contains" (UPPER(name) LIKE UPPER('%word%')), which only a trigram index answers without
            # reading every row; an e-mail is iexact (UPPER(e-mail) = UPPER(…)).
            GinIndex(OpClass(Upper("customer_name"), name="gin_trgm_ops"), name="order_name_trgm_idx"),
            models.Index(Upper("customer_email"), name="order_email_upper_idx"),
            # The dashboard's counts per status (and the next run's total) in one index-only scan,
            # a tenth of the table's size, instead of four scans of the table.
            models.Index(fields=["billing_status", "sync_status"], include=["billing_scheduled_for", "amount"],
                         name="order_status_counts_idx"),
            # "Retidos (qualquer motivo)": the few held orders, newest first, without reading the rest.
            models.Index(fields=["-created_at"], condition=~Q(hold_reason=""), name="order_held_recent_idx"),
            # The month close's "ainda agendados": the waiting orders by date (its list, and its totals
            # per customer kind from the index alone).
            # The list's order (newest first, then id): deep pages read the skipped ids from this index alone.
            models.Index(fields=["created_at", "id"], name="order_created_id_idx"),
            models.Index(fields=["billing_scheduled_for", "id"], include=["customer_kind", "amount"],
                         condition=Q(billing_status__in=[BillingStatus.SCHEDULED, BillingStatus.ON_HOLD]),
                         name="order_waiting_due_idx"),
        ]

    def __str__(self) -> str:
        return self.bubble_id


class ActionLog(models.Model):
    """Append-only history of every state change and every refused attempt (docs/contract.md#action-log).

    Rows are never updated or deleted: a database trigger refuses it (migration 0002), and the
    admin grants nobody change or delete permission.
    """

    Outcome = ActionOutcome

    created_at = models.DateTimeField("quando", auto_now_add=True, db_index=True)
    actor = models.CharField("quem", max_length=200, help_text="usuário do admin, bubble:<e-mail>, pagarme ou system:<tarefa>")
    action = models.CharField("ação", max_length=60, db_index=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, null=True, blank=True, related_name="actions", verbose_name="pedido")
    # Kept for refused requests on ids that never became an Order.
    order_bubble_id = models.CharField("ID do pedido no Bubble", max_length=64, blank=True, db_index=True)
    payload = models.JSONField("dados da requisição", default=dict, blank=True)
    outcome = models.CharField("resultado", max_length=10, choices=ActionOutcome.choices)
    message = models.TextField("mensagem", blank=True)
    # Who really acted, as authenticated (``actor`` is what the caller claims, e.g. the operator
    # e-mail in Bubble's body). Empty for work the system does on its own (tasks, beat).
    # No database constraint: the log outlives users, and the append-only trigger forbids the
    # UPDATE a SET NULL would need.
    auth_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, null=True, blank=True, related_name="+",
        verbose_name="usuário autenticado",
    )
    # db_default: the previous release, still running during a deploy, inserts rows without these.
    auth_username = models.CharField("login autenticado", max_length=150, blank=True, default="", db_default="")
    auth_method = models.CharField("autenticação", max_length=10, blank=True, default="", db_default="",
                                   help_text="session (admin), jwt ou service")
    auth_token_id = models.CharField("token (jti)", max_length=64, blank=True, default="", db_default="",
                                     help_text="jti do JWT ou do token de serviço")

    class Meta:
        verbose_name = "registro de ação"
        verbose_name_plural = "registro de ações"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["order", "created_at"], name="actionlog_order_time_idx")]

    def __str__(self) -> str:
        # The admin's title and breadcrumb for one row: no raw actor ("system:orders.sync_fetch") or action key.

        return f"registro nº {self.pk} · {timezone.localtime(self.created_at):%d/%m/%Y %H:%M}"
