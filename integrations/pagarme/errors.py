"""Pagar.me API and JWKS errors. Each says whether retrying can help (``permanent``)."""

from integrations.http import IntegrationError


class PagarmeError(IntegrationError):
    system = "pagarme"
    permanent = True


class PagarmeTransientError(PagarmeError):
    """429, 5xx, timeouts, broken bodies: try again later."""

    permanent = False


class PagarmeAuthError(PagarmeError):
    """401/403: PAGARME_SECRET_KEY is wrong or lacks permission. Fixing the key fixes it."""

    permanent = True


class PagarmeNotFound(PagarmeError):
    """404: no such charge/order at this account (a forged or foreign event)."""

    permanent = True


class PagarmeInvalidId(PagarmeError):
    """A charge/order id that is not ``ch_…``/``or_…`` with letters and digits: refused before any request."""

    permanent = True


class JwksUnavailable(PagarmeTransientError):
    """The JWKS could not be read (down, not JSON, no usable RSA signing key)."""
