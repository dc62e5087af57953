"""The one seam where ``orders`` hands an order to ``billing`` (docs/architecture.md#which-way-imports-go).

``billing`` imports ``orders``; ``orders`` never imports ``billing``. Where the order's flow reaches
billing's part — the sync completed (run the billing decision), retry finds a failed emission (re-send
it), the order's API answer embeds its invoice — ``orders`` calls the function billing registered here
at start-up (``billing.apps.BillingConfig.ready``). Chosen over a task sent by name because the
decision must run in the sync's own transaction, under the order's row lock (docs/contract.md#sync),
and the invoice embed is a read inside a request: both are plain calls, not work for a queue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orders.models import Order


@dataclass(frozen=True)
class BillingHandoff:
    # The sync marked the (locked) order SYNCED: decide how and when it is billed, in the same transaction.
    decide: Callable[[Order, str], object]
    # Retry found a FAILED billing on the (locked) order: re-send it; returns the message for the log.
    retry: Callable[[Order], str]
    # GET /v1/orders/{id}: the order's live invoice as the API shows it, or None.
    invoice_data: Callable[[Order], dict[str, Any] | None]
    # The sync read Bubble's payment status for the (locked) order: billing mirrors it while no
    # Pagar.me fact has spoken for the order (in memory; the sync saves the row).
    payment_from_bubble: Callable[[Order, str], None]


_billing: BillingHandoff | None = None


def register_billing(handoff: BillingHandoff) -> None:
    """Called once by billing's AppConfig.ready()."""
    global _billing
    _billing = handoff


def billing() -> BillingHandoff:
    if _billing is None:
        raise RuntimeError("billing has not registered its hand-off (is the billing app installed?)")
    return _billing
