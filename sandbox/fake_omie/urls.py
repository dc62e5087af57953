from django.urls import path

from sandbox.fake_omie import documents, views

urlpatterns = [
    path("api/v1/<str:module>/<str:service>/", views.omie_api, name="fake-omie-api"),
    path("docs/nfse/<int:nf_id>.<str:ext>", documents.nfse_document, name="fake-omie-nfse-document"),
    path("_control/config", views.control_config, name="fake-omie-config"),
    path("_control/reset", views.control_reset, name="fake-omie-reset"),
    path("_control/calls", views.control_calls, name="fake-omie-calls"),
    path("_control/inject", views.control_inject, name="fake-omie-inject"),
    path("_control/ban", views.control_ban, name="fake-omie-ban"),
    path("_control/customers", views.control_customer, name="fake-omie-customer"),
]
