from django.apps import AppConfig


class BrasilapiConfig(AppConfig):
    name = "integrations.brasilapi"
    label = "brasilapi"
    verbose_name = "BrasilAPI"
