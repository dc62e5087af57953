"""The billing endpoints Bubble calls (docs/contract.md#http-api): the ops buttons on an order and the customer account.

Thin views on the orders' API base: validate the body, call one service (which checks the state and
writes the action log), serialize the order as GET /v1/orders/{id} does.
"""

from __future__ import annotations

from typing import Any, ClassVar

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import ops_actions as ops
from billing.selectors import customer_account_get
from billing.services import actions
from billing.services.actions import Caller
from common.api.views import OperatorInputSerializer, RequiredPermission
from common.exceptions import ApplicationError, NotFound
from orders.api_base import OrderApi
from orders.apis import OrderOutputSerializer
from orders.models import Order
from orders.selectors import bubble_id_is_valid
from orders.services.action_log import actor_for_bubble


class OrderActionApi(OrderApi):
    """The ops buttons share the orders' API base: the id check, the permission (403), strict input
    with ``operator``, Idempotency-Key and a log entry for every refused request."""

    ops_action: ClassVar[ops.OpsAction]  # the catalog entry: the permission and the action-log name

    @extend_schema_serializer(component_name="OrderActionInput")
    class InputSerializer(OperatorInputSerializer):
        pass

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.required_permission = cls.ops_action.permission
        cls.action_name = cls.ops_action.log_name

    def validated(self, request: Request) -> tuple[str, dict[str, Any], Caller]:
        bubble_id = self.bubble_id()
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        caller = Caller(actor=actor_for_bubble(data["operator"]), user=request.user, payload=dict(request.data))
        return bubble_id, data, caller


def _order_body(order: Order) -> dict[str, Any]:
    return OrderOutputSerializer(order).data


class OrderCancelNfApi(OrderActionApi):
    ops_action = ops.CANCEL_NF

    @extend_schema_serializer(component_name="OrderCancelNfInput")
    class InputSerializer(OperatorInputSerializer):
        reason_code = serializers.IntegerField()
        justification = serializers.CharField(allow_blank=True, trim_whitespace=False)

    @extend_schema(request=InputSerializer, responses={202: OrderOutputSerializer})
    def post(self, request: Request, bubble_id: str) -> Response:
        bubble_id, data, caller = self.validated(request)
        order = actions.invoice_cancel_request(order_bubble_id=bubble_id, caller=caller, reason_code=data["reason_code"],
                                               justification=data["justification"])
        return Response(_order_body(order), status=status.HTTP_202_ACCEPTED)


class OrderMarkNfManualApi(OrderActionApi):
    ops_action = ops.MARK_NF_MANUAL

    @extend_schema_serializer(component_name="OrderMarkNfManualInput")
    class InputSerializer(OperatorInputSerializer):
        nf_number = serializers.CharField(max_length=40)
        issued_at = serializers.DateField()
        nf_url = serializers.URLField(required=False, allow_blank=True, max_length=500)
        note = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    @extend_schema(request=InputSerializer, responses={200: OrderOutputSerializer})
    def post(self, request: Request, bubble_id: str) -> Response:
        bubble_id, data, caller = self.validated(request)
        order = actions.invoice_manual_record(order_bubble_id=bubble_id, caller=caller, nf_number=data["nf_number"],
                                              issued_on=data["issued_at"], nf_url=data.get("nf_url", ""), note=data.get("note", ""))
        return Response(_order_body(order))


class OrderApproveBillingHoldApi(OrderActionApi):
    ops_action = ops.APPROVE_BILLING_HOLD

    @extend_schema_serializer(component_name="OrderApproveBillingHoldInput")
    class InputSerializer(OperatorInputSerializer):
        note = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    @extend_schema(request=InputSerializer, responses={200: OrderOutputSerializer})
    def post(self, request: Request, bubble_id: str) -> Response:
        bubble_id, data, caller = self.validated(request)
        order = actions.billing_hold_approve(order_bubble_id=bubble_id, caller=caller, note=data.get("note", ""))
        return Response(_order_body(order))


class OrderOverrideDay25Api(OrderActionApi):
    ops_action = ops.OVERRIDE_DAY25

    @extend_schema_serializer(component_name="OrderOverrideDay25Input")
    class InputSerializer(OperatorInputSerializer):
        reason = serializers.CharField(max_length=2000)

    @extend_schema(request=InputSerializer, responses={202: OrderOutputSerializer})
    def post(self, request: Request, bubble_id: str) -> Response:
        bubble_id, data, caller = self.validated(request)
        order = actions.billing_day25_override(order_bubble_id=bubble_id, caller=caller, reason=data["reason"])
        return Response(_order_body(order), status=status.HTTP_202_ACCEPTED)


class EntryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    balance_after = serializers.DecimalField(max_digits=14, decimal_places=2)
    order_id = serializers.CharField(source="order.bubble_id", allow_null=True, default=None)
    actor = serializers.CharField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class OrderTransferCcApi(OrderActionApi):
    ops_action = ops.TRANSFER_CC

    @extend_schema_serializer(component_name="OrderTransferCcInput")
    class InputSerializer(OperatorInputSerializer):
        reason = serializers.CharField(max_length=2000)
        amount = serializers.CharField(required=False, allow_blank=True, max_length=20)

    @extend_schema_serializer(component_name="OrderTransferCcOutput")
    class OutputSerializer(serializers.Serializer):
        entry = EntryOutput()
        balance = serializers.DecimalField(max_digits=14, decimal_places=2)

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request: Request, bubble_id: str) -> Response:
        bubble_id, data, caller = self.validated(request)
        result = actions.account_transfer_from_order(order_bubble_id=bubble_id, caller=caller, reason=data["reason"],
                                                     amount=data.get("amount"))
        return Response({**self.OutputSerializer(result).data, "order": _order_body(result.order)})


class OrderUseCcApi(OrderActionApi):
    ops_action = ops.USE_CC

    @extend_schema_serializer(component_name="OrderUseCcInput")
    class InputSerializer(OperatorInputSerializer):
        amount = serializers.CharField(required=False, allow_blank=True, max_length=20)

    @extend_schema_serializer(component_name="OrderUseCcOutput")
    class OutputSerializer(serializers.Serializer):
        applied = serializers.DecimalField(max_digits=14, decimal_places=2)
        balance = serializers.DecimalField(max_digits=14, decimal_places=2)
        amount_due = serializers.DecimalField(max_digits=14, decimal_places=2)

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request: Request, bubble_id: str) -> Response:
        bubble_id, data, caller = self.validated(request)
        result = actions.account_use_on_order(order_bubble_id=bubble_id, caller=caller, amount=data.get("amount"))
        return Response({**self.OutputSerializer(result).data, "order": _order_body(result.order)})


class CustomerAccountApi(APIView):
    permission_classes = [IsAuthenticated, RequiredPermission]
    required_permission = "billing.view_customeraccount"

    @extend_schema_serializer(component_name="CustomerAccountOutput")
    class OutputSerializer(serializers.Serializer):
        customer_id = serializers.CharField(source="customer_bubble_id")
        balance = serializers.DecimalField(max_digits=14, decimal_places=2)
        entries = EntryOutput(many=True)

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request: Request, customer_id: str) -> Response:
        # Like order ids: a Bubble unique id or 400 (a NUL byte reached PostgreSQL and answered 500).
        if not bubble_id_is_valid(customer_id):
            raise ApplicationError(
                "ID de cliente inválido: esperado o ID único do Bubble (ex.: 1671702337369x488321592367327900).",
                details={"customer_id": customer_id[:100].replace("\x00", "\ufffd")},
            )
        account = customer_account_get(customer_bubble_id=customer_id)
        if account is None:
            raise NotFound("Cliente sem conta corrente e sem pedidos.")
        return Response(self.OutputSerializer(account).data)
