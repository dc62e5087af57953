"""The customer current account (conta corrente, SPEC §4.5): a balance and its append-only ledger.

Invariants, each enforced by the database and not only by code:
- the balance is never negative (CHECK constraint), and every change goes through
  ``billing.services.account`` holding the account row lock (``select_for_update``);
- entries are never updated or deleted (trigger, migration 0002), so the balance always equals
  the sum of the entries (each entry also stores the balance it produced).
"""

from django.db import models
from django.db.models import Q

from common.money import brl


class EntryKind(models.TextChoices):
    TRANSFER_IN = "TRANSFER_IN", "Crédito de pedido pago"
    USE = "USE", "Uso em pedido"


class CustomerAccount(models.Model):
    customer_bubble_id = models.CharField("ID do cliente no Bubble", max_length=64, unique=True)
    balance = models.DecimalField("saldo (R$)", max_digits=14, decimal_places=2, default=0)
    created_at = models.DateTimeField("criada em", auto_now_add=True)
    updated_at = models.DateTimeField("atualizada em", auto_now=True)

    class Meta:
        verbose_name = "conta corrente do cliente"
        verbose_name_plural = "contas correntes dos clientes"
        ordering = ["customer_bubble_id"]
        constraints = [models.CheckConstraint(condition=Q(balance__gte=0), name="account_balance_not_negative")]

    def __str__(self) -> str:
        return f"{self.customer_bubble_id} · {brl(self.balance)}"


class AccountEntry(models.Model):
    Kind = EntryKind

    account = models.ForeignKey(CustomerAccount, on_delete=models.PROTECT, related_name="entries", verbose_name="conta")
    # Signed: credits are positive, uses negative.
    amount = models.DecimalField("valor (R$)", max_digits=14, decimal_places=2)
    balance_after = models.DecimalField("saldo após (R$)", max_digits=14, decimal_places=2)
    kind = models.CharField("tipo", max_length=16, choices=EntryKind.choices)
    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="account_entries", verbose_name="pedido"
    )
    actor = models.CharField("quem", max_length=200)
    reason = models.TextField("motivo", blank=True)
    created_at = models.DateTimeField("quando", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "lançamento da conta corrente"
        verbose_name_plural = "lançamentos da conta corrente"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="account_entry_amount_not_zero"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="account_entry_balance_not_negative"),
            models.CheckConstraint(
                condition=(Q(kind=EntryKind.TRANSFER_IN) & Q(amount__gt=0)) | (Q(kind=EntryKind.USE) & Q(amount__lt=0)),
                name="account_entry_sign_matches_kind",
            ),
        ]
        indexes = [models.Index(fields=["order", "kind"], name="account_entry_order_kind_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {brl(self.amount)}"
