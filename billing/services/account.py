"""The customer current account (docs/contract.md#current-account): every balance change is one ledger entry.

Concurrency: the account row is locked (``select_for_update``) for the whole change, so parallel
uses serialise on it and each sees the balance the previous one left; the CHECK constraint on the
balance is the last line of defence should any code path forget the lock.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Sum

from billing.models import AccountEntry, CustomerAccount
from common.exceptions import InvalidState
from common.money import brl
from integrations.bubble.services import writeback_enqueue
from orders.models import Order


def account_lock(*, customer_bubble_id: str) -> CustomerAccount:
    """The customer's account, created on first use, locked until the caller's transaction ends."""
    # ON CONFLICT DO NOTHING: two first uses at once both end up locking the one row.
    CustomerAccount.objects.bulk_create([CustomerAccount(customer_bubble_id=customer_bubble_id)], ignore_conflicts=True)
    return CustomerAccount.objects.select_for_update().get(customer_bubble_id=customer_bubble_id)


def account_entry_add(
    *, account: CustomerAccount, amount: Decimal, kind: AccountEntry.Kind, order: Order | None, actor: str, reason: str = ""
) -> AccountEntry:
    """Appends one entry to a LOCKED account and writes the new balance back to Bubble (`saldo_cc`)."""

    new_balance = account.balance + amount
    if new_balance < 0:
        raise InvalidState(
            f"Saldo insuficiente na conta corrente: {brl(account.balance)}.", details={"balance": str(account.balance)}
        )
    account.balance = new_balance
    account.save(update_fields=["balance", "updated_at"])
    entry = AccountEntry.objects.create(
        account=account, amount=amount, balance_after=new_balance, kind=kind, order=order, actor=actor[:200], reason=reason
    )
    writeback_enqueue(thing="customer", bubble_id=account.customer_bubble_id, fields={"saldo_cc": new_balance},
                      order_id=order.pk if order else None)
    return entry


def order_transferred_total(*, order: Order) -> Decimal:
    """What was already moved from this order into the customer's account."""

    total = AccountEntry.objects.filter(order=order, kind=AccountEntry.Kind.TRANSFER_IN).aggregate(s=Sum("amount"))["s"]
    return total or Decimal("0.00")
