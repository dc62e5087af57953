from django.apps import AppConfig


class FakeBrasilapiConfig(AppConfig):
    name = "sandbox.fake_brasilapi"
    label = "fake_brasilapi"
    verbose_name = "Sandbox: brasilapi"
