from integrations.pagarme.webhooks import admin  # noqa: F401  (registers the webhook events' admin)
