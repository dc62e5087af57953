from django.apps import AppConfig


class FakeBubbleConfig(AppConfig):
    name = "sandbox.fake_bubble"
    label = "fake_bubble"
    verbose_name = "Sandbox: bubble"
