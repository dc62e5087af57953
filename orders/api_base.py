"""What every order endpoint under /v1/ shares: strict input, the id check, permissions,
Idempotency-Key, and an action-log entry for every refused request (docs/contract.md#action-log, docs/contract.md#http-api).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.exceptions import ApplicationError
from integrations.auth import SERVICE_GROUP
from orders.idempotency import IdempotencyKeyMixin
from orders.selectors import bubble_id_is_valid, order_get
from orders.services.action_log import action_log_record, actor_for_bubble
from orders.statuses import ActionOutcome

MAX_LOGGED_BODY = 4096


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not declare: a typo in Bubble's call is an error, not a silent no-op."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Campo desconhecido."] for name in unknown})
        return super().to_internal_value(data)


class OperatorInputSerializer(StrictSerializer):
    """Ops endpoints say who pressed the button (recorded as ``bubble:<operator>``)."""

    operator = serializers.EmailField(max_length=200)


class RequiredPermission(BasePermission):
    """The caller is in the service group (``Integração Bubble``) and has the view's
    ``required_permission`` (e.g. ``orders.retry_order``).

    Staff users (superusers included) who are not in the group are refused: they act through the
    admin, where the action log records them as themselves.
    """

    NOT_A_SERVICE_USER = "Somente usuários do grupo Integração Bubble usam estes endpoints; a equipe usa o admin."
    message = None

    def has_permission(self, request: Request, view: APIView) -> bool:

        permission = getattr(view, "required_permission", None)
        user = request.user
        if not (permission and user and user.is_authenticated):
            return False
        if not user.groups.filter(name=SERVICE_GROUP).exists():
            self.message = self.NOT_A_SERVICE_USER
            return False
        return user.has_perm(permission)


class OrderApi(IdempotencyKeyMixin, APIView):
    permission_classes = [IsAuthenticated, RequiredPermission]
    required_permission: str = ""
    # The action-log name of the operation; a refused POST is logged under it.
    action_name: str = ""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # A body without a Content-Type would otherwise be read as empty and accepted.
        if request.method == "POST" and request.META.get("CONTENT_LENGTH", "0") not in ("", "0") and not request.content_type:
            raise UnsupportedMediaType("")
        super().initial(request, *args, **kwargs)

    def bubble_id(self) -> str:
        value = self.kwargs["bubble_id"]
        if not bubble_id_is_valid(value):
            raise ApplicationError(
                "ID de pedido inválido: esperado o ID único do Bubble (ex.: 1671702337369x488321592367327900).",
                details={"order_id": value[:100]},
            )
        return value

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        refused = 400 <= response.status_code < 500 and response.status_code != 401
        if refused and self.request.method == "POST" and self.action_name and not getattr(exc, "logged", False):
            self._log_refusal(response)
        return response

    def _log_refusal(self, response: Response) -> None:
        # Unauthenticated calls (401) are not logged: they have no actor, and logging them would
        # let anyone fill the audit trail.
        raw_id = str(self.kwargs.get("bubble_id", ""))
        body = self._parsed_body()
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

    def _parsed_body(self) -> Any:
        try:
            data = self.request.data
        except Exception:  # noqa: BLE001 - the body could not be parsed: there is nothing to log
            return None
        return data if isinstance(data, Mapping | list) else None
