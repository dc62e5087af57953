from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.decision import decide_billing, next_billing_date
from orders.statuses import BillingTrigger, HoldReason

THRESHOLD = Decimal("50000.00")


def decide(**overrides):
    args = dict(
        customer_kind="PJ", payment_status="pending", amount=Decimal("100.00"), cnpj_status="ATIVA",
        requires_approval=False, override=False, hold_approved=False, today=date(2026, 11, 10),
        billing_day=25, hold_threshold=THRESHOLD,
    )
    args.update(overrides)
    return decide_billing(**args)


@pytest.mark.parametrize(
    ("overrides", "trigger", "scheduled", "hold"),
    [
        ({"customer_kind": "PF", "payment_status": "paid"}, BillingTrigger.IMMEDIATE, date(2026, 11, 10), None),
        ({"customer_kind": "PF", "payment_status": "pending"}, BillingTrigger.AWAIT_PAYMENT, None, None),
        ({"customer_kind": "PF", "payment_status": "failed"}, BillingTrigger.AWAIT_PAYMENT, None, None),
        ({"today": date(2026, 11, 24)}, BillingTrigger.DAY_25, date(2026, 11, 25), None),
        ({"today": date(2026, 11, 25)}, BillingTrigger.DAY_25, date(2026, 11, 25), None),
        ({"today": date(2026, 11, 26)}, BillingTrigger.DAY_25, date(2026, 12, 25), None),
        ({"today": date(2026, 12, 31)}, BillingTrigger.DAY_25, date(2027, 1, 25), None),
        ({"today": date(2027, 1, 31), "billing_day": 31}, BillingTrigger.DAY_25, date(2027, 1, 31), None),
        ({"today": date(2027, 2, 1), "billing_day": 31}, BillingTrigger.DAY_25, date(2027, 2, 28), None),
        ({"payment_status": "paid"}, BillingTrigger.DAY_25, date(2026, 11, 25), None),
        ({"amount": THRESHOLD}, BillingTrigger.DAY_25, date(2026, 11, 25), HoldReason.AMOUNT),
        ({"amount": THRESHOLD - Decimal("0.01")}, BillingTrigger.DAY_25, date(2026, 11, 25), None),
        ({"cnpj_status": "BAIXADA"}, BillingTrigger.DAY_25, date(2026, 11, 25), HoldReason.CNPJ_INACTIVE),
        ({"cnpj_status": None}, BillingTrigger.DAY_25, date(2026, 11, 25), HoldReason.CNPJ_INACTIVE),
        ({"requires_approval": True}, BillingTrigger.DAY_25, date(2026, 11, 25), HoldReason.CUSTOMER_FLAG),
        ({"customer_kind": "PF", "payment_status": "paid", "requires_approval": True}, BillingTrigger.IMMEDIATE, date(2026, 11, 10),
         HoldReason.CUSTOMER_FLAG),
        ({"customer_kind": "PF", "payment_status": "paid", "cnpj_status": None}, BillingTrigger.IMMEDIATE, date(2026, 11, 10), None),
        ({"requires_approval": True, "hold_approved": True}, BillingTrigger.DAY_25, date(2026, 11, 25), None),
        ({"override": True}, BillingTrigger.IMMEDIATE, date(2026, 11, 10), None),
        ({"override": True, "amount": THRESHOLD}, BillingTrigger.IMMEDIATE, date(2026, 11, 10), HoldReason.AMOUNT),
    ],
)
def test_decision_table(overrides, trigger, scheduled, hold):
    decision = decide(**overrides)
    assert (decision.trigger, decision.scheduled_for, decision.hold_reason) == (trigger, scheduled, hold)


@given(
    today=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)),
    billing_day=st.integers(min_value=1, max_value=31),
)
def test_scheduled_date_is_always_a_billing_day_and_never_in_the_past(today, billing_day):
    scheduled = decide(today=today, billing_day=billing_day).scheduled_for
    assert scheduled >= today
    # It is the billing day of its month (or the month's last day when the month is shorter)...
    next_day = scheduled + timedelta(days=1)
    assert scheduled.day == billing_day or (scheduled.day < billing_day and next_day.month != scheduled.month)
    # ...and the first such day from today on: nothing earlier qualifies.
    assert next_billing_date(today, billing_day) == scheduled
    assert (scheduled - today).days <= 31
