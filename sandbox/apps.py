from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """The sandbox itself (no models): its management commands — the seed, the demo flow, the fake
    Omie's webhook sender, the Pagar.me event sender. Installed with the fakes, only in sandbox mode."""

    name = "sandbox"
    label = "sandbox"
    verbose_name = "Sandbox"
