"""Coloured status labels for the admin (one palette, used by every list and page)."""

from django.utils.safestring import SafeString

from common.admin_lists import badge as coloured_badge
from orders.statuses import BillingStatus, PaymentStatus, SyncStatus

PALETTE: dict[str, str] = {
    SyncStatus.PENDING: "gray",
    SyncStatus.SYNCED: "green",
    SyncStatus.FAILED: "red",
    BillingStatus.AWAITING_PAYMENT: "gray",
    BillingStatus.SCHEDULED: "blue",
    BillingStatus.ON_HOLD: "orange",
    BillingStatus.ISSUING: "purple",
    BillingStatus.ISSUED: "green",
    BillingStatus.CANCELLING: "orange",
    BillingStatus.CANCELLED: "dark",
    BillingStatus.MANUAL: "teal",
    PaymentStatus.PENDING: "outline",
    PaymentStatus.PAID: "green",
    PaymentStatus.REFUNDED: "orange",
    PaymentStatus.CHARGEDBACK: "red",
}
# Shared values ("FAILED" exists in two vocabularies) resolve to the same colour.
PALETTE["FAILED"] = "red"
PALETTE["failed"] = "red"


def badge(value: str, label: str, *, colour: str | None = None) -> SafeString:
    return coloured_badge(value, label, colour=colour or PALETTE.get(value, "gray"))
