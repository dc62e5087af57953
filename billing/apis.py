"""The billing endpoints Bubble calls (SPEC §7): the ops buttons on an order and the customer account.

Thin views: validate the body, call one service (which checks the permission and the state and
writes the action log), serialize. Input refused here is logged as a refused attempt too.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.selectors import customer_account_get, order_billing_summary
from billing.services import actions
from billing.services.actions import Caller
from common.exceptions import NotFound
from orders.models import Order
from orders.services.action_log import actor_for_bubble


class EnumOutput(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()


class InvoiceOutput(serializers.Serializer):
    status = EnumOutput()
    nf_number = serializers.CharField(allow_null=True)
    verification_code = serializers.CharField(allow_null=True)
    nf_url = serializers.CharField(allow_null=True)
    issued_at = serializers.DateTimeField(allow_null=True)
    city_hall_message = serializers.CharField(allow_null=True)
    cancel_reason_code = serializers.IntegerField(allow_null=True)
    cancel_error = serializers.CharField(allow_null=True)


class HoldOutput(serializers.Serializer):
    reason = EnumOutput(allow_null=True)
    approved_by = serializers.CharField(allow_null=True)
    approved_at = serializers.DateTimeField(allow_null=True)


class PaymentOutput(serializers.Serializer):
    status = EnumOutput(allow_null=True)
    paid_via = serializers.CharField(allow_null=True)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    amount_paid = serializers.DecimalField(max_digits=14, decimal_places=2)
    flag = serializers.CharField(allow_null=True)


class OrderBillingOutput(serializers.Serializer):
    id = serializers.CharField()
    billing_status = EnumOutput(allow_null=True)
    billing_trigger = EnumOutput(allow_null=True)
    billing_scheduled_for = serializers.DateField(allow_null=True)
    hold = HoldOutput()
    payment = PaymentOutput()
    invoice = InvoiceOutput(allow_null=True)
    last_error = serializers.CharField(allow_null=True)
    version = serializers.IntegerField()


class OrderActionOutput(serializers.Serializer):
    order = OrderBillingOutput()


def _order_output(order: Order) -> dict[str, Any]:
    return OrderBillingOutput(order_billing_summary(order=order)).data


class OrderActionApi(APIView):
    """Shared plumbing of the ops buttons: operator → actor, refused input → action log."""

    action_name = ""

    @extend_schema_serializer(component_name="OrderActionInput")
    class InputSerializer(serializers.Serializer):
        operator = serializers.EmailField()

    def validated(self, request: Request, order_id: str) -> tuple[dict[str, Any], Caller]:
        payload = request.data if isinstance(request.data, dict) else {}
        caller = Caller(actor=actor_for_bubble(str(payload.get("operator") or "")[:150]), user=request.user, payload=dict(payload))
        serializer = self.InputSerializer(data=request.data)
        if not serializer.is_valid():
            fields = ", ".join(sorted(serializer.errors))
            actions.action_refusal_record(caller=caller, action=self.action_name, order_bubble_id=order_id,
                                          message=f"Dados inválidos: {fields}.")
            raise serializers.ValidationError(serializer.errors)
        return serializer.validated_data, caller


class OrderCancelNfApi(OrderActionApi):
    action_name = "nf_cancel"

    @extend_schema_serializer(component_name="OrderCancelNfInput")
    class InputSerializer(OrderActionApi.InputSerializer):
        reason_code = serializers.IntegerField()
        justification = serializers.CharField(allow_blank=True, trim_whitespace=False)

    @extend_schema(request=InputSerializer, responses={202: OrderActionOutput})
    def post(self, request: Request, order_id: str) -> Response:
        data, caller = self.validated(request, order_id)
        order = actions.invoice_cancel_request(order_bubble_id=order_id, caller=caller, reason_code=data["reason_code"],
                                               justification=data["justification"])
        return Response({"order": _order_output(order)}, status=status.HTTP_202_ACCEPTED)


class OrderMarkNfManualApi(OrderActionApi):
    action_name = "nf_mark_manual"

    @extend_schema_serializer(component_name="OrderMarkNfManualInput")
    class InputSerializer(OrderActionApi.InputSerializer):
        nf_number = serializers.CharField(max_length=40)
        issued_at = serializers.DateField()
        nf_url = serializers.URLField(required=False, allow_blank=True, max_length=500)
        note = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    @extend_schema(request=InputSerializer, responses={200: OrderActionOutput})
    def post(self, request: Request, order_id: str) -> Response:
        data, caller = self.validated(request, order_id)
        order = actions.invoice_manual_record(order_bubble_id=order_id, caller=caller, nf_number=data["nf_number"],
                                              issued_on=data["issued_at"], nf_url=data.get("nf_url", ""), note=data.get("note", ""))
        return Response({"order": _order_output(order)})


class OrderApproveBillingHoldApi(OrderActionApi):
    action_name = "billing_hold_approve"

    @extend_schema_serializer(component_name="OrderApproveBillingHoldInput")
    class InputSerializer(OrderActionApi.InputSerializer):
        note = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    @extend_schema(request=InputSerializer, responses={200: OrderActionOutput})
    def post(self, request: Request, order_id: str) -> Response:
        data, caller = self.validated(request, order_id)
        order = actions.billing_hold_approve(order_bubble_id=order_id, caller=caller, note=data.get("note", ""))
        return Response({"order": _order_output(order)})


class OrderOverrideDay25Api(OrderActionApi):
    action_name = "billing_override_day25"

    @extend_schema_serializer(component_name="OrderOverrideDay25Input")
    class InputSerializer(OrderActionApi.InputSerializer):
        reason = serializers.CharField(max_length=2000)

    @extend_schema(request=InputSerializer, responses={202: OrderActionOutput})
    def post(self, request: Request, order_id: str) -> Response:
        data, caller = self.validated(request, order_id)
        order = actions.billing_day25_override(order_bubble_id=order_id, caller=caller, reason=data["reason"])
        return Response({"order": _order_output(order)}, status=status.HTTP_202_ACCEPTED)


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
    action_name = "cc_transfer"

    @extend_schema_serializer(component_name="OrderTransferCcInput")
    class InputSerializer(OrderActionApi.InputSerializer):
        reason = serializers.CharField(max_length=2000)
        amount = serializers.CharField(required=False, allow_blank=True, max_length=20)

    @extend_schema_serializer(component_name="OrderTransferCcOutput")
    class OutputSerializer(serializers.Serializer):
        entry = EntryOutput()
        balance = serializers.DecimalField(max_digits=14, decimal_places=2)

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request: Request, order_id: str) -> Response:
        data, caller = self.validated(request, order_id)
        result = actions.account_transfer_from_order(order_bubble_id=order_id, caller=caller, reason=data["reason"],
                                                     amount=data.get("amount"))
        return Response({**self.OutputSerializer(result).data, "order": _order_output(result.order)})


class OrderUseCcApi(OrderActionApi):
    action_name = "cc_use"

    @extend_schema_serializer(component_name="OrderUseCcInput")
    class InputSerializer(OrderActionApi.InputSerializer):
        amount = serializers.CharField(required=False, allow_blank=True, max_length=20)

    @extend_schema_serializer(component_name="OrderUseCcOutput")
    class OutputSerializer(serializers.Serializer):
        applied = serializers.DecimalField(max_digits=14, decimal_places=2)
        balance = serializers.DecimalField(max_digits=14, decimal_places=2)
        amount_due = serializers.DecimalField(max_digits=14, decimal_places=2)

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request: Request, order_id: str) -> Response:
        data, caller = self.validated(request, order_id)
        result = actions.account_use_on_order(order_bubble_id=order_id, caller=caller, amount=data.get("amount"))
        return Response({**self.OutputSerializer(result).data, "order": _order_output(result.order)})


class CustomerAccountApi(APIView):
    @extend_schema_serializer(component_name="CustomerAccountOutput")
    class OutputSerializer(serializers.Serializer):
        customer_id = serializers.CharField(source="customer_bubble_id")
        balance = serializers.DecimalField(max_digits=14, decimal_places=2)
        entries = EntryOutput(many=True)

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request: Request, customer_id: str) -> Response:
        account = customer_account_get(customer_bubble_id=customer_id)
        if account is None:
            raise NotFound("Cliente sem conta corrente e sem pedidos.")
        return Response(self.OutputSerializer(account).data)
