"""Omie's push events ("Omie Connect 2.0" webhooks): received, stored raw, read in one place.

``views`` answers Omie (token in the path, 200 for anything authentic), ``models`` keeps every event,
``fields`` maps both payload formats to one shape. Applying an event to an invoice is billing's job
(``billing.services.omie_webhooks``); this package never imports the orders or billing apps.
"""
