from django.apps import AppConfig


class BubbleConfig(AppConfig):
    name = "integrations.bubble"
    label = "bubble"
    verbose_name = "Bubble"
