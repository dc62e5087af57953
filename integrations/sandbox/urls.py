"""The fake external systems (docs/contract.md#sandbox), mounted under /sandbox/ only when SANDBOX is on."""

from django.urls import include, path

urlpatterns = [
    path("omie/", include("integrations.sandbox.fake_omie.urls")),
    path("bubble/", include("integrations.sandbox.fake_bubble.urls")),
    path("brasilapi/", include("integrations.sandbox.fake_brasilapi.urls")),
    path("pagarme/", include("integrations.sandbox.fake_pagarme.urls")),
]
