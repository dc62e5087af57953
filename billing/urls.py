"""Billing's routes under /v1/ (mounted by config/urls.py's api_v1): the ops actions at their catalog names."""

from django.urls import URLPattern, path

from billing import apis
from billing import ops_actions as ops


def _action(action: ops.OpsAction, view: type[apis.OrderActionApi]) -> URLPattern:
    return path(f"orders/<str:bubble_id>/{action.name}", view.as_view(), name=f"order-{action.name}")


urlpatterns = [
    _action(ops.CANCEL_NF, apis.OrderCancelNfApi),
    _action(ops.MARK_NF_MANUAL, apis.OrderMarkNfManualApi),
    _action(ops.APPROVE_BILLING_HOLD, apis.OrderApproveBillingHoldApi),
    _action(ops.OVERRIDE_DAY25, apis.OrderOverrideDay25Api),
    _action(ops.TRANSFER_CC, apis.OrderTransferCcApi),
    _action(ops.USE_CC, apis.OrderUseCcApi),
    path("customers/<str:customer_id>/account", apis.CustomerAccountApi.as_view(), name="customer-account"),
]
