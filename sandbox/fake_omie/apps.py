from django.apps import AppConfig


class FakeOmieConfig(AppConfig):
    name = "sandbox.fake_omie"
    label = "fake_omie"
    verbose_name = "Sandbox: omie"
