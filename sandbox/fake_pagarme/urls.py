from django.urls import path

from sandbox.fake_pagarme import views

app_name = "fake_pagarme"

urlpatterns = [
    path(".well-known/jwks.json", views.jwks, name="jwks"),
    path("core/v5/charges/<str:charge_id>", views.charge, name="charge"),
    path("core/v5/orders/<str:order_id>", views.order, name="order"),
    path("core/v5/customers", views.customers, name="customers"),
]
