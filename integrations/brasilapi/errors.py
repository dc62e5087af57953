"""BrasilAPI CNPJ errors. Each says whether retrying can help (``permanent``)."""

from integrations.http import IntegrationError, NotNow


class BrasilApiError(IntegrationError):
    system = "brasilapi"
    permanent = True


class BrasilApiTransientError(BrasilApiError):
    """429, 5xx, timeouts, broken bodies: retry later."""

    permanent = False


class BrasilApiNotNow(NotNow, BrasilApiError):
    """The central rate limit (or a 429 pause) says: not before ``retry_after`` seconds."""

    permanent = False


class CnpjNotFoundYet(BrasilApiTransientError):
    """A 404, which BrasilAPI also gives for existing CNPJs: look again after ``retry_after``.

    An expected retry, with its own counter in the message ("tentativa 1 de 4"): the sync neither
    counts it as a failed attempt nor logs it as an error."""

    expected_retry = True


class CnpjNotFound(BrasilApiError):
    """404 on every try (BRASILAPI_NOT_FOUND_RETRIES): the CNPJ is not in the Receita's data."""

    permanent = True


class InvalidCnpj(BrasilApiError):
    """Not a valid CNPJ (our check, or BrasilAPI's 400): fix the document in Bubble."""

    permanent = True
