"""The admin registrations of the ops interface: orders (with the ops actions) and billing."""

from backoffice.admin import billing, exports, orders  # noqa: F401  (registers the ModelAdmins)
