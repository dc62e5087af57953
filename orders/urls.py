from django.urls import path

from orders import apis
from orders.services import retry

# Mounted under /v1/ (config/urls.py). Ids are matched loosely and checked by the view, so a
# malformed id gets 400 in the error envelope, not a bare 404.
urlpatterns = [
    path("orders/<str:bubble_id>", apis.OrderDetailApi.as_view(), name="order-detail"),
    path("orders/<str:bubble_id>/sync-omie", apis.OrderSyncOmieApi.as_view(), name="order-sync-omie"),
    path(f"orders/<str:bubble_id>/{retry.ACTION}", apis.OrderRetryApi.as_view(), name="order-retry"),
]
