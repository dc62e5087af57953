"""The order endpoints Bubble calls (docs/contract.md#http-api). Thin: validate, call one service, serialize."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from common.api.views import OperatorInputSerializer, StrictSerializer
from common.exceptions import NotFound
from orders.api_base import OrderApi
from orders.models import Order
from orders.selectors import order_get, order_invoice_summary, order_recent_actions
from orders.services import actor_for_bubble, order_retry, order_sync_trigger, retry
from orders.statuses import BillingStatus, BillingTrigger, HoldReason, PaymentStatus, SyncStatus


def _choice(enum: type, value: str) -> dict[str, str] | None:
    return {"code": value, "label": enum(value).label} if value else None


# The schemas of the method fields below (what they return, with an example built from the enums), so
# that the OpenAPI schema and docs/bubble.md's examples (generated from it) show real shapes, not "{}".
# orders/tests/test_api_examples.py compares them with a real response.
def _choice_schema(enum: Any, example: Any) -> dict[str, Any]:
    return {"type": "object", "nullable": True, "description": "código (para o Bubble comparar) e rótulo (para mostrar)",
            "properties": {"code": {"type": "string", "enum": [c.value for c in enum]}, "label": {"type": "string"}},
            "example": {"code": example.value, "label": example.label}}


def _json_type(value: Any) -> str:
    """The JSON type of an example value (a bool is checked before int: it is one in Python)."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, bool):
        return "boolean"
    return "integer" if isinstance(value, int) else "string"


def _object_schema(example: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": {k: {"type": _json_type(v), "nullable": True} for k, v in example.items()},
            "example": example}


OMIE_EXAMPLE = {"codigo_cliente_omie": 2485994961, "n_cod_os": 2486018765, "c_num_os": "000000000000042"}
BILLING_EXAMPLE = {
    "trigger": _choice(BillingTrigger, BillingTrigger.IMMEDIATE), "scheduled_for": None,
    "hold": {"reason": None, "approved_by": None, "approved_at": None}, "override_day25": False,
}
PAYMENT_EXAMPLE = {"status": PaymentStatus.PAID.value, "method": "pix", "paid_via": "pagarme", "paid_at": "2026-11-25T10:00:00-03:00",
                   "amount_paid": "1500.00", "flag": None}
INVOICE_EXAMPLE = {
    "status": _choice(BillingStatus, BillingStatus.ISSUED), "nf_number": "1234", "verification_code": "ABCD-1234",
    "nf_url": "https://nfse.prefeitura.sp.gov.br/...", "issued_at": "2026-11-25T10:05:00-03:00", "city_hall_message": None,
    "cancel_reason_code": None, "cancel_justification": None, "cancel_error": None, "manual": False,
}


class OrderOutputSerializer(serializers.Serializer):
    """The order as Bubble and ops see it: ids, both statuses (enum + label), billing, payment."""

    id = serializers.CharField(source="bubble_id")
    customer_id = serializers.CharField(source="customer_bubble_id")
    customer_kind = serializers.CharField()
    customer_name = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    sync_status = serializers.SerializerMethodField()
    billing_status = serializers.SerializerMethodField()
    omie = serializers.SerializerMethodField()
    billing = serializers.SerializerMethodField()
    payment = serializers.SerializerMethodField()
    invoice = serializers.SerializerMethodField()
    last_error = serializers.CharField()
    synced_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    version = serializers.IntegerField()

    @extend_schema_field(_choice_schema(SyncStatus, SyncStatus.SYNCED))
    def get_sync_status(self, order: Order) -> dict[str, str] | None:
        return _choice(SyncStatus, order.sync_status)

    @extend_schema_field(_choice_schema(BillingStatus, BillingStatus.ISSUED))
    def get_billing_status(self, order: Order) -> dict[str, str] | None:
        return _choice(BillingStatus, order.billing_status)

    @extend_schema_field(_object_schema(OMIE_EXAMPLE))
    def get_omie(self, order: Order) -> dict[str, Any]:
        return {
            "codigo_cliente_omie": order.omie_customer_code,
            "n_cod_os": order.omie_os_code,
            "c_num_os": order.omie_os_number or None,
        }

    @extend_schema_field(_object_schema(BILLING_EXAMPLE))
    def get_billing(self, order: Order) -> dict[str, Any]:
        return {
            "trigger": _choice(BillingTrigger, order.billing_trigger),
            "scheduled_for": order.billing_scheduled_for.isoformat() if order.billing_scheduled_for else None,
            "hold": {
                "reason": _choice(HoldReason, order.hold_reason),
                "approved_by": order.hold_approved_by or None,
                "approved_at": order.hold_approved_at.isoformat() if order.hold_approved_at else None,
            },
            "override_day25": order.override_day25,
        }

    @extend_schema_field(_object_schema(PAYMENT_EXAMPLE))
    def get_payment(self, order: Order) -> dict[str, Any]:
        return {
            "status": order.payment_status,
            "method": order.payment_method or None,
            "paid_via": order.paid_via or None,
            "paid_at": order.paid_at.isoformat() if order.paid_at else None,
            "amount_paid": str(order.amount_paid),
            "flag": order.payment_flag or None,
        }

    @extend_schema_field({**_object_schema(INVOICE_EXAMPLE), "nullable": True})
    def get_invoice(self, order: Order) -> dict[str, Any] | None:
        # No query when there cannot be an invoice: an order whose billing never started (a new one among
        # them; every path that creates an Invoice sets billing_status in the same transaction, and nothing
        # sets it back to empty). Most triggers are one of these; the trigger is the hot path
        # (bench/trigger_profile.py).
        if not order.billing_status:
            return None
        return order_invoice_summary(order=order)


class ErrorOutputSerializer(serializers.Serializer):
    """The envelope of docs/contract.md#error-envelope: ``{"error": {"code", "message", "details"}}``."""

    error = serializers.DictField()


class ActionOutputSerializer(serializers.Serializer):
    at = serializers.DateTimeField(source="created_at")
    actor = serializers.CharField()
    action = serializers.CharField()
    outcome = serializers.CharField()
    message = serializers.CharField()


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER,
    description="Repeats within 24 h replay the first answer (Idempotent-Replayed: true).",
)
ERRORS = {code: ErrorOutputSerializer for code in (400, 401, 403, 404, 409, 413, 415, 422)}


class OrderSyncOmieApi(OrderApi):
    """POST /v1/orders/{id}/sync-omie — Bubble's "Pedido criado" trigger: 202 first, 200 after."""

    required_permission = "orders.add_order"
    action_name = "sync_trigger"

    @extend_schema_serializer(component_name="OrderSyncOmieInput")
    class InputSerializer(StrictSerializer):
        pass

    @extend_schema(
        request=InputSerializer, parameters=[IDEMPOTENCY_KEY],
        responses={202: OrderOutputSerializer, 200: OrderOutputSerializer, **ERRORS},
    )
    def post(self, request: Request, bubble_id: str) -> Response:
        bubble_id = self.bubble_id()
        self.InputSerializer(data=request.data).is_valid(raise_exception=True)
        order, created = order_sync_trigger(bubble_id=bubble_id, actor=actor_for_bubble(None), payload={})
        return Response(OrderOutputSerializer(order).data, status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK)


class OrderDetailApi(OrderApi):
    """GET /v1/orders/{id} — the order's state and its recent history."""

    required_permission = "orders.view_order"

    @extend_schema_serializer(component_name="OrderDetail")
    class OutputSerializer(OrderOutputSerializer):
        recent_actions = serializers.SerializerMethodField()

        @extend_schema_field(ActionOutputSerializer(many=True))
        def get_recent_actions(self, order: Order) -> list[dict[str, Any]]:
            return ActionOutputSerializer(order_recent_actions(order=order), many=True).data

    @extend_schema(responses={200: OutputSerializer, **ERRORS})
    def get(self, request: Request, bubble_id: str) -> Response:
        order = order_get(bubble_id=self.bubble_id())
        if order is None:
            raise NotFound("Pedido não encontrado.", details={"order_id": bubble_id})
        return Response(self.OutputSerializer(order).data)


class OrderRetryApi(OrderApi):
    """POST /v1/orders/{id}/retry — re-runs a failed sync or dead Bubble writebacks."""

    required_permission = retry.PERMISSION
    action_name = retry.ACTION

    @extend_schema_serializer(component_name="OrderRetryInput")
    class InputSerializer(OperatorInputSerializer):
        pass

    @extend_schema_serializer(component_name="OrderRetryOutput")
    class OutputSerializer(OrderOutputSerializer):
        message = serializers.CharField()

    @extend_schema(request=InputSerializer, parameters=[IDEMPOTENCY_KEY], responses={202: OutputSerializer, **ERRORS})
    def post(self, request: Request, bubble_id: str) -> Response:
        bubble_id = self.bubble_id()
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        operator = serializer.validated_data["operator"]
        order, message = order_retry(bubble_id=bubble_id, actor=actor_for_bubble(operator), payload={"operator": operator})
        order.message = message  # type: ignore[attr-defined]  # shown with the order's state
        return Response(self.OutputSerializer(order).data, status=status.HTTP_202_ACCEPTED)
