from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "common"
    verbose_name = "Comum"

    def ready(self) -> None:
        from common import session_timeout  # noqa: F401 - connects the login signal that starts the session clock
