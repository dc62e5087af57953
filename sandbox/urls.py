"""The fake external systems (docs/contract.md#sandbox), mounted under /sandbox/ only when SANDBOX is on."""

from django.urls import include, path

urlpatterns = [
    path("omie/", include("sandbox.fake_omie.urls")),
    path("bubble/", include("sandbox.fake_bubble.urls")),
    path("brasilapi/", include("sandbox.fake_brasilapi.urls")),
    path("pagarme/", include("sandbox.fake_pagarme.urls")),
]
