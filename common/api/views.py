"""What every endpoint under /v1/ shares, whatever app it serves (docs/contract.md#http-api): strict
input, the service group's permission, Idempotency-Key, the refusal of a body without a Content-Type,
and one hook to log a refused POST. Errors become the JSON envelope in ``common.exceptions``.

The order endpoints' base (``orders.api_base.OrderApi``) adds the order id check and logs refusals
in the action log.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.auth import SERVICE_GROUP
from common.api.idempotency import IdempotencyKeyMixin


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


class ServiceApi(IdempotencyKeyMixin, APIView):
    """The base of the /v1/ endpoints: service group + ``required_permission``, Idempotency-Key on POST."""

    permission_classes = [IsAuthenticated, RequiredPermission]
    required_permission: str = ""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # A body without a Content-Type would otherwise be read as empty and accepted.
        if request.method == "POST" and request.META.get("CONTENT_LENGTH", "0") not in ("", "0") and not request.content_type:
            raise UnsupportedMediaType("")
        super().initial(request, *args, **kwargs)

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        # Unauthenticated calls (401) are not logged: they have no actor, and logging them would
        # let anyone fill the audit trail.
        refused = 400 <= response.status_code < 500 and response.status_code != 401
        if refused and self.request.method == "POST" and not getattr(exc, "logged", False):
            self.refusal_log(response)
        return response

    def refusal_log(self, response: Response) -> None:
        """Records a refused POST (4xx other than 401); the app's base view says where. Nothing here."""

    def parsed_body(self) -> Any:
        """The request's body as parsed, or None when it could not be parsed or is not an object/list."""
        try:
            data = self.request.data
        except Exception:  # noqa: BLE001 - the body could not be parsed: there is nothing to log
            return None
        return data if isinstance(data, Mapping | list) else None
