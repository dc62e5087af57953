"""The sandbox demo's timings (`make run`): Omie's real windows, shortened so the demo orders reach
every state within a minute (every wait on the way is here, the first poll with webhooks on too).
Read by scripts/devstack.py (the processes' environment), by the demo
itself (sandbox/demo.py sets the fake Omie's REDUNDANT window to match) and by its test.

Never used outside sandbox mode: production keeps the defaults in config/settings/integrations.py.
"""

DEMO_OMIE_REDUNDANT_SECONDS = 5

DEMO_ENV = {
    # Omie's 60 s REDUNDANT window for the same OS (the fake enforces the same value in the demo).
    "OMIE_REDUNDANT_DEFAULT_SECONDS": str(DEMO_OMIE_REDUNDANT_SECONDS),
    # The fake city hall answers in 5 s (the fake Omie's nfse_delay_seconds): the first poll after that.
    "BILLING_FIRST_POLL_SECONDS": "7",
    # Once any Omie webhook has arrived, the first poll normally waits 5 minutes for NFSe.NotaAutorizada.
    # A rejection brings no event (Omie documents no topic for it; the fake invents none), so the
    # demo's "Falha na emissão" comes from this poll: as short as the one above.
    "BILLING_FIRST_POLL_WITH_WEBHOOKS_SECONDS": "7",
    # An event whose processing message was lost is enqueued again after 10 s instead of 2 minutes.
    "OMIE_WEBHOOK_REQUEUE_AFTER_SECONDS": "10",
    "BILLING_RETRY_BASE_SECONDS": "5",
    # BrasilAPI's false 404s are retried after 2, 4, 8 s instead of 1, 2, 4 minutes.
    "BRASILAPI_NOT_FOUND_RETRY_SECONDS": "2",
}
