"""Billing's routes under /v1/ (mounted by config/urls.py's api_v1)."""

from django.urls import path

from billing import apis

urlpatterns = [
    path("orders/<str:bubble_id>/cancel-nf", apis.OrderCancelNfApi.as_view(), name="order-cancel-nf"),
    path("orders/<str:bubble_id>/mark-nf-manual", apis.OrderMarkNfManualApi.as_view(), name="order-mark-nf-manual"),
    path("orders/<str:bubble_id>/approve-billing-hold", apis.OrderApproveBillingHoldApi.as_view(), name="order-approve-billing-hold"),
    path("orders/<str:bubble_id>/override-day25", apis.OrderOverrideDay25Api.as_view(), name="order-override-day25"),
    path("orders/<str:bubble_id>/transfer-cc", apis.OrderTransferCcApi.as_view(), name="order-transfer-cc"),
    path("orders/<str:bubble_id>/use-cc", apis.OrderUseCcApi.as_view(), name="order-use-cc"),
    path("customers/<str:customer_id>/account", apis.CustomerAccountApi.as_view(), name="customer-account"),
]
