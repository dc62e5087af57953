"""Pagar.me's webhook events: authenticated, stored raw, listed in the admin — built like Omie's
(``integrations/omie/webhooks/``).

``views`` answers Pagar.me (the schemes of ``webhook_auth``, 200 for anything authentic), ``models``
keeps every event and every refused post, ``services`` stores and hands over, ``admin`` lists them.
Applying an event to an order is billing's job (``billing.services.webhooks``), reached through
``integrations.webhooks``; this package never imports the orders or billing apps.
"""
