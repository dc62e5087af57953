from django.urls import path

from sandbox.fake_brasilapi import views

app_name = "fake_brasilapi"

urlpatterns = [
    path("api/cnpj/v1/<str:cnpj>", views.cnpj_lookup, name="cnpj"),
    path("_control/", views.control, name="control"),
    path("_control/companies", views.control_company, name="control-company"),
    path("_control/lookups", views.control_lookups, name="control-lookups"),
]
