"""The status vocabulary (docs/contract.md#statuses): the ONLY module that spells the Portuguese labels.

Code uses the English enum members; the database stores the English value; the label is exactly
what is written to Bubble's option-set fields and shown in the admin (``Order.SyncStatus.SYNCED.label``).
"""

from django.db import models


class SyncStatus(models.TextChoices):
    """`status_pedido` in Bubble."""

    PENDING = "PENDING", "Aguardando sincronização"
    SYNCED = "SYNCED", "Sincronizado"
    FAILED = "FAILED", "Erro de sincronização"


class BillingStatus(models.TextChoices):
    """`status_faturamento` in Bubble; empty until the order is synced."""

    AWAITING_PAYMENT = "AWAITING_PAYMENT", "Aguardando pagamento"
    SCHEDULED = "SCHEDULED", "Agendado dia 25"
    ON_HOLD = "ON_HOLD", "Retido para aprovação"
    ISSUING = "ISSUING", "Em emissão"
    ISSUED = "ISSUED", "NF emitida"
    FAILED = "FAILED", "Falha na emissão"
    CANCELLING = "CANCELLING", "Cancelamento em andamento"
    CANCELLED = "CANCELLED", "NF cancelada"
    MANUAL = "MANUAL", "NF manual"


class BillingTrigger(models.TextChoices):
    IMMEDIATE = "IMMEDIATE", "Imediato"
    DAY_25 = "DAY_25", "Dia de faturamento"
    AWAIT_PAYMENT = "AWAIT_PAYMENT", "Após o pagamento"


class HoldReason(models.TextChoices):
    AMOUNT = "AMOUNT", "Valor acima do limite de aprovação"
    CNPJ_INACTIVE = "CNPJ_INACTIVE", "CNPJ não está ativo na Receita Federal"
    CUSTOMER_FLAG = "CUSTOMER_FLAG", "Cliente exige aprovação"


class CustomerKind(models.TextChoices):
    PF = "PF", "Pessoa física"
    PJ = "PJ", "Pessoa jurídica"


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Pendente"
    PAID = "paid", "Pago"
    # Pagar.me received less than the order's amount: not paid, no NF; flagged for finance.
    UNDERPAID = "underpaid", "Pago a menor"
    FAILED = "failed", "Falhou"
    REFUNDED = "refunded", "Estornado"
    CHARGEDBACK = "chargedback", "Chargeback"


class PaidVia(models.TextChoices):
    PAGARME = "pagarme", "Pagar.me"
    CONTA_CORRENTE = "conta_corrente", "Conta corrente"
    MANUAL = "manual", "Manual"


class ActionOutcome(models.TextChoices):
    OK = "ok", "Executada"
    REJECTED = "rejected", "Recusada"
    ERROR = "error", "Erro"
    RETRY = "retry", "Nova tentativa"  # an expected retry (BrasilAPI's false 404s): neither done nor an error
