"""The Bubble trigger "Pedido criado": create-or-get the order, enqueue its sync after commit.

No external call here. Concurrent or repeated triggers for one Bubble id meet at the unique
constraint (``INSERT … ON CONFLICT DO NOTHING``): only the one whose INSERT returned the row
enqueues; the others read the committed row and are logged as repeats. It is the hottest write
path (``bench/trigger_profile.py``), hence the raw INSERT: ``get_or_create`` costs a SELECT and a
SAVEPOINT more.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from orders.models import Order
from orders.services.action_log import action_log_record
from orders.services.sync_chain import order_sync_enqueue, order_sync_next_step
from orders.services.writeback import order_writeback_sync_status
from orders.statuses import ActionOutcome, SyncStatus

_INSERT_FIELDS = [field for field in Order._meta.concrete_fields if not field.primary_key]
_INSERT = "INSERT INTO {table} ({columns}) VALUES ({values}) ON CONFLICT ({bubble_id}) DO NOTHING RETURNING {pk}"


def order_sync_trigger(*, bubble_id: str, actor: str, payload: dict[str, Any] | None = None) -> tuple[Order, bool]:
    """Returns the order and whether this call created it (and so started its sync)."""
    order = Order.objects.filter(bubble_id=bubble_id).first()
    if order is not None:
        _log_repeat(order=order, actor=actor, payload=payload)
        return order, False
    with transaction.atomic():
        order = _order_insert_if_absent(bubble_id=bubble_id)
        if order is None:  # a concurrent trigger created it between our SELECT and our INSERT
            order = Order.objects.get(bubble_id=bubble_id)
            _log_repeat(order=order, actor=actor, payload=payload)
            return order, False
        order_writeback_sync_status(order=order)
        transaction.on_commit(partial(order_sync_enqueue, order_id=order.id, step=order_sync_next_step(order)))
        action_log_record(
            actor=actor, action="sync_trigger", outcome=ActionOutcome.OK, order=order, payload=payload,
            message="Pedido registrado; sincronização com o Omie enfileirada.",
        )
    return order, True


def _log_repeat(*, order: Order, actor: str, payload: dict[str, Any] | None) -> None:
    message = f"Pedido já registrado ({SyncStatus(order.sync_status).label}); nada foi reenviado."
    action_log_record(actor=actor, action="sync_trigger", outcome=ActionOutcome.OK, order=order, payload=payload, message=message)


def _order_insert_if_absent(*, bubble_id: str) -> Order | None:
    """Inserts a new PENDING order, or returns None when the Bubble id already has one.

    The values are the model's own (defaults, ``auto_now``), prepared by its fields exactly as
    ``save()`` prepares them; only the conflict handling is spelled out here.
    """
    now = timezone.now()
    order = Order(bubble_id=bubble_id, sync_started_at=now, next_attempt_at=now)
    values = [field.get_db_prep_save(field.pre_save(order, True), connection) for field in _INSERT_FIELDS]
    quote = connection.ops.quote_name
    sql = _INSERT.format(
        table=quote(Order._meta.db_table),
        columns=", ".join(quote(field.column) for field in _INSERT_FIELDS),
        values=", ".join(["%s"] * len(_INSERT_FIELDS)),
        bubble_id=quote(Order._meta.get_field("bubble_id").column),
        pk=quote(Order._meta.pk.column),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return None
    order.pk = row[0]
    order._state.adding = False
    order._state.db = connection.alias
    return order
