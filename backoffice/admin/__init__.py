"""The admin registrations of the ops interface: orders (with the ops actions), billing, and the Celery
admins as ops read them."""

from backoffice.admin import (  # noqa: F401  (registers the ModelAdmins)
    billing,
    celery,
    exports,
    nfse_documents,
    orders,
    users,
)
from backoffice.admin.nfse_documents import NfseArchiveInline

# The invoice page shows its documents ("Baixar PDF" / "Baixar XML") and what the XML says.
billing.InvoiceAdmin.inlines = [*billing.InvoiceAdmin.inlines, NfseArchiveInline]
