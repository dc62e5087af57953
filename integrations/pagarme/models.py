from integrations.pagarme.webhooks.models import EventStatus, PagarmeEvent, PagarmeWebhookRefusal  # noqa: F401  (the webhook events)
