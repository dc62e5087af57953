from django.apps import AppConfig


class PagarmeConfig(AppConfig):
    name = "integrations.pagarme"
    label = "pagarme"
    verbose_name = "Pagar.me"
