from django.apps import AppConfig


class OmieConfig(AppConfig):
    name = "integrations.omie"
    label = "omie"
    verbose_name = "Omie"
