from __future__ import annotations

from typing import Any

from common.principal import current_principal
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
    outside (or after) the transaction they roll back. The authenticated user and token of the
    current request (if any) are stored beside the claimed ``actor``.
    """
    principal = current_principal()
    return ActionLog.objects.create(
        auth_user_id=principal.user_id,
        auth_username=principal.username[:150],
        auth_method=principal.method,
        auth_token_id=principal.token_id,
        actor=_text(actor)[:200],
        action=action,
        outcome=outcome,
        order=order,
        order_bubble_id=_text(order_bubble_id or (order.bubble_id if order else ""))[:64],
        payload=_json_safe(payload or {}),
        message=_text(message),
    )


def _text(value: str) -> str:
    """PostgreSQL text and jsonb refuse NUL and lone surrogates; a refused request may carry both,
    and its refusal must still be logged (never a 500 because the caller sent garbage)."""
    return value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


def _json_safe(value: Any) -> Any:
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, dict):
        return {_text(str(k)): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def actor_for_bubble(operator: str | None) -> str:
    return f"bubble:{operator}" if operator else "bubble"


def actor_for_task(task_name: str) -> str:
    return f"system:{task_name}"
