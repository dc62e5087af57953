"""Omie's errors, each saying whether retrying can help (``permanent``).

Callers branch on the class, never on Omie's text: business → surface ``message`` to ops and Bubble,
no retry; not now → retry after ``retry_after`` seconds (Celery ``self.retry(countdown=…)``);
transient → retry with backoff, bounded. Messages are in Portuguese and never carry a CPF/CNPJ.
"""

from __future__ import annotations

from typing import Any

from integrations.http import IntegrationError, NotNow
from integrations.omie.types import ExistingCustomer


class OmieError(IntegrationError):
    system = "omie"

    def __init__(
        self,
        message: str,
        *,
        call: str = "",
        fault_code: str = "",
        outcome: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.call = call
        self.fault_code = fault_code
        self.outcome = outcome


class OmieBusinessError(OmieError):
    """Omie refused the request for its content (``cCodStatus`` ≠ "0", validation fault). Permanent."""

    permanent = True


class OmieNotFound(OmieBusinessError):
    """Client-103/105/5113 where the caller needed the record (e.g. FaturarOS of an unknown OS)."""


class OmieDuplicate(OmieBusinessError):
    """Client-102 "já cadastrado": the record exists; ``existing_id`` is Omie's id when the text has it."""

    def __init__(self, message: str, *, existing_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.existing_id = existing_id


class OmieCustomerExists(OmieDuplicate):
    """UpsertCliente refused: a customer with this CPF/CNPJ is already in Omie (registered by hand,
    or by another Bubble customer of the same document). ``existing`` is what the text told; the
    sync links to that customer instead of failing (docs/orders.md#customers-already-in-omie)."""

    def __init__(self, message: str, *, existing: ExistingCustomer, **kwargs: Any) -> None:
        super().__init__(message, existing_id=existing.omie_id, **kwargs)
        self.existing = existing


class OmieTransientError(OmieError):
    """Timeout, connection failure, 5xx "Broken response", 8020, a body that is not Omie's JSON."""

    permanent = False


class OmieNotNow(NotNow, OmieError):
    """Do not call before ``retry_after`` seconds; no call was wasted by waiting.

    ``reason`` is one of: ``rate`` (token bucket), ``concurrency`` (every lease of the method is
    held), ``paused`` / ``rate_limited`` / ``banned`` / ``error_budget`` (the method is paused for
    every worker), ``concurrent`` (Omie answered Client-1880/1100), ``redundant`` (the same id was
    called within Omie's 60 s window). ``outcome_unknown`` is True when a write may have happened
    (REDUNDANT after a write that the client could not confirm by consulting).
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float,
        reason: str,
        outcome_unknown: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, retry_after=retry_after, **kwargs)
        self.reason = reason
        self.outcome_unknown = outcome_unknown
