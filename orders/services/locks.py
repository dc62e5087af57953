"""Per-order work locks held by a worker while it talks to the outside world.

A PostgreSQL session advisory lock, not a row lock: the sync stores each result in its own short
transaction (so a crash loses nothing already learned) while the lock spans all of them. The
database releases it the moment the holder's connection dies, so a SIGKILLed worker never leaves
an order locked and a redelivered or swept task can resume at once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)

# The first key of pg_try_advisory_lock(int, int): one namespace per kind of work on an order.
SYNC_LOCK_NAMESPACE = 0x0D5E


@contextmanager
def order_work_lock(*, order_id: int, namespace: int = SYNC_LOCK_NAMESPACE) -> Iterator[bool]:
    """Yields True when this process now holds the order's lock; False when another one does."""
    key = order_id % 2_147_483_647
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [namespace, key])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [namespace, key])
            except DatabaseError:
                # The connection is gone, and the lock went with it.
                logger.warning("could not release the work lock of order %s", order_id)
