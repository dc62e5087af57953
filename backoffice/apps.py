from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    """The ops interface: the Django admin's pages, actions, dashboard and templates for orders and billing.

    It imports the domain apps (orders, billing, integrations); none of them imports it.
    """

    name = "backoffice"
    verbose_name = "Backoffice"
