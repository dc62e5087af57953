from __future__ import annotations

from typing import Any

from orders.models import ActionLog, Order
from orders.statuses import ActionOutcome


def action_log_record(
    *,
    actor: str,
    action: str,
    outcome: ActionOutcome | str,
    order: Order | None = None,
    order_bubble_id: str = "",
    payload: dict[str, Any] | None = None,
    message: str = "",
) -> ActionLog:
    """Appends one entry. Call it for every trigger, retry, task outcome and refused request.

    A refusal must be logged even though the refused change is not made: callers record it
    outside (or after) the transaction they roll back.
    """
    return ActionLog.objects.create(
        actor=actor[:200],
        action=action,
        outcome=outcome,
        order=order,
        order_bubble_id=order_bubble_id or (order.bubble_id if order else ""),
        payload=payload or {},
        message=message,
    )


def actor_for_bubble(operator: str | None) -> str:
    return f"bubble:{operator}" if operator else "bubble"


def actor_for_task(task_name: str) -> str:
    return f"system:{task_name}"
