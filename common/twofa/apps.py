from django.apps import AppConfig


class TwoFactorConfig(AppConfig):
    name = "common.twofa"
    label = "twofa"
    verbose_name = "Verificação em duas etapas"
    default_auto_field = "django.db.models.BigAutoField"
