"""The admin registrations of the ops interface: orders (with the ops actions), billing, and the Celery
admins as ops read them."""

from backoffice.admin import billing, celery, exports, omie_webhooks, orders, users  # noqa: F401  (registers the ModelAdmins)
