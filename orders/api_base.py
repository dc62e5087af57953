"""The base of the order endpoints under /v1/: the id check and an action-log entry for every refused
request (docs/contract.md#action-log). Strict input, permissions and Idempotency-Key come from the API's
base view (``common/api/views.py``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rest_framework.response import Response

from common.api.views import ServiceApi
from common.exceptions import ApplicationError
from orders.selectors import bubble_id_is_valid, order_get
from orders.services.action_log import action_log_record, actor_for_bubble
from orders.statuses import ActionOutcome

MAX_LOGGED_BODY = 4096


class OrderApi(ServiceApi):
    # The action-log name of the operation; a refused POST is logged under it.
    action_name: str = ""

    def bubble_id(self) -> str:
        value = self.kwargs["bubble_id"]
        if not bubble_id_is_valid(value):
            raise ApplicationError(
                "ID de pedido inválido: esperado o ID único do Bubble (ex.: 1671702337369x488321592367327900).",
                details={"order_id": value[:100]},
            )
        return value

    def refusal_log(self, response: Response) -> None:
        if not self.action_name:
            return
        raw_id = str(self.kwargs.get("bubble_id", ""))
        body = self.parsed_body()
        operator = body.get("operator") if isinstance(body, Mapping) and isinstance(body.get("operator"), str) else None
        error = (response.data or {}).get("error", {}) if isinstance(response.data, Mapping) else {}
        payload: dict[str, Any] = {"path": self.request.path[:300], "status": response.status_code, "code": error.get("code")}
        if body is not None and len(json.dumps(body, default=str)) <= MAX_LOGGED_BODY:
            payload["body"] = body
        order = order_get(bubble_id=raw_id) if bubble_id_is_valid(raw_id) else None
        action_log_record(
            actor=actor_for_bubble(operator[:180] if operator else None),
            action=self.action_name,
            outcome=ActionOutcome.REJECTED,
            order=order,
            order_bubble_id=raw_id[:64],
            payload=payload,
            message=str(error.get("message", "")),
        )
