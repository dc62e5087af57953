from django.apps import AppConfig
from django.db.models.signals import post_migrate

from integrations.webhooks import webhook_billing_register


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Faturamento"

    def ready(self) -> None:
        # Models are loaded only now: the hand-off's functions import them (docs/architecture.md#which-way-imports-go).
        from billing.handoff import billing_handoff
        from billing.permissions import groups_sync_after_migrate
        from billing.services.admin_ops import WEBHOOK_BILLING
        from orders.handoff import register_billing

        register_billing(billing_handoff())

        # Django creates permissions after migrating; the groups pick up new models' view permission.
        post_migrate.connect(groups_sync_after_migrate, sender=self, dispatch_uid="billing_groups_sync")
        # The webhook lists of integrations reprocess and name orders through billing (integrations/webhooks.py).
        webhook_billing_register(WEBHOOK_BILLING)
