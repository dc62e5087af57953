"""The orders' places in the line of each Omie write (docs/orders.md, "Omie's line").

Orders reach Omie in the order Bubble triggered them, whatever order their tasks run in: the sync's
Omie client waits its turn at the order's place (``integrations.omie.throttle``, "the line"). An order
far back is parked (its task ends, its place stays) and its task is called again the moment a grant
brings it to the places that wait; its own countdown is only the safety net.
"""

from __future__ import annotations

import logging

from integrations.omie.throttle import LinePlace
from orders.enqueue import order_sync_omie_enqueue
from orders.models import Order

logger = logging.getLogger(__name__)

_TICKET_PREFIX = "order:"


def omie_line_place(order: Order) -> LinePlace:
    """The order's trigger time (µs): the same ticket on every retry keeps the place; a reprocess
    (a new ``sync_started_at``) goes to the back."""
    started = order.sync_started_at or order.created_at
    return LinePlace(ticket=f"{_TICKET_PREFIX}{order.pk:012d}", score=int(started.timestamp() * 1_000_000))


def omie_line_wake(tickets: tuple[str, ...]) -> None:
    """Calls the Omie step of the parked orders a grant brought to the waiting places. A task called
    twice is harmless: the order's work lock lets one run, the other finds nothing to do."""
    for ticket in tickets:
        if ticket.startswith(_TICKET_PREFIX) and ticket[len(_TICKET_PREFIX):].isdigit():
            order_sync_omie_enqueue(order_id=int(ticket[len(_TICKET_PREFIX):]))
        else:
            logger.warning("not an order's ticket in Omie's line: %r", ticket)
