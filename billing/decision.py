"""The billing decision (docs/contract.md#billing-decision): a pure function of its inputs, no database, no clock.

Callers pass ``today`` in America/Sao_Paulo (``common.dates.today_sp()``); the function never
reads the time itself, which is what makes it testable with a table and with hypothesis.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from orders.statuses import BillingTrigger, CustomerKind, HoldReason, PaymentStatus

ACTIVE_CNPJ_STATUS = "ATIVA"


@dataclass(frozen=True)
class BillingDecision:
    trigger: BillingTrigger
    # The day the NFS-e should be emitted; None while a PF order waits for its payment.
    scheduled_for: date | None
    hold_reason: HoldReason | None


def billing_day_of(year: int, month: int, billing_day: int) -> date:
    """The billing day in a month; a day past the month's end means its last day."""
    return date(year, month, min(billing_day, calendar.monthrange(year, month)[1]))


def next_billing_date(today: date, billing_day: int) -> date:
    """This month's billing day when it has not passed yet (today included), else next month's."""
    this_month = billing_day_of(today.year, today.month, billing_day)
    if today <= this_month:
        return this_month
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return billing_day_of(year, month, billing_day)


def decide_billing(
    *,
    customer_kind: CustomerKind | str,
    payment_status: PaymentStatus | str,
    amount: Decimal,
    cnpj_status: str | None,
    requires_approval: bool,
    override: bool,
    hold_approved: bool,
    today: date,
    billing_day: int,
    hold_threshold: Decimal,
) -> BillingDecision:
    if override:
        trigger, scheduled = BillingTrigger.IMMEDIATE, today
    elif customer_kind == CustomerKind.PF:
        if payment_status == PaymentStatus.PAID:
            trigger, scheduled = BillingTrigger.IMMEDIATE, today
        else:
            trigger, scheduled = BillingTrigger.AWAIT_PAYMENT, None
    else:
        trigger, scheduled = BillingTrigger.DAY_25, next_billing_date(today, billing_day)

    hold: HoldReason | None = None
    if not hold_approved:
        if amount >= hold_threshold:
            hold = HoldReason.AMOUNT
        elif customer_kind == CustomerKind.PJ and (cnpj_status or "").upper() != ACTIVE_CNPJ_STATUS:
            hold = HoldReason.CNPJ_INACTIVE
        elif requires_approval:
            hold = HoldReason.CUSTOMER_FLAG
    return BillingDecision(trigger=trigger, scheduled_for=scheduled, hold_reason=hold)
