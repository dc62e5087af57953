"""The shared HTTP layer for every external system.

One ``requests.Session`` per client, connect/read timeouts always set, and one rule for what a
transport failure means: a timeout, a refused connection or a broken stream is a *transient*
``IntegrationError``; it never escapes as a raw ``requests`` exception. Whether a *response* is
transient or permanent is each client's call (Omie's 500s are not Bubble's 500s), made with the
error classes below. URLs and bodies are never logged here: they can carry credentials.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlsplit

import requests

logger = logging.getLogger(__name__)


class IntegrationError(Exception):
    """A failure talking to an external system. ``permanent`` tells callers whether to retry."""

    permanent: bool = False
    system: str = "external"

    def __init__(
        self,
        message: str,
        *,
        permanent: bool | None = None,
        retry_after: float | None = None,
        status: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if permanent is not None:
            self.permanent = permanent
        self.retry_after = retry_after
        self.status = status
        self.details = details or {}


class TransientError(IntegrationError):
    permanent = False


class NotNow(TransientError):
    """Not an error of the call: the caller must not call before ``retry_after`` seconds.

    Raised by throttles (rate, concurrency, pause, ban). Tasks turn it into a Celery retry with
    that countdown; nobody sleeps holding a slot.
    """

    def __init__(self, message: str, *, retry_after: float, **kwargs: Any) -> None:
        super().__init__(message, retry_after=max(0.0, retry_after), **kwargs)


def build_session(name: str) -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = f"blu-omie-backoffice/{name}"
    session.headers["Accept"] = "application/json"
    # No urllib3 retries: every retry decision belongs to the client (and its throttle).
    adapter = requests.adapters.HTTPAdapter(max_retries=0, pool_connections=4, pool_maxsize=16)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    timeout: tuple[float, float],
    error_class: type[IntegrationError] = TransientError,
    **kwargs: Any,
) -> requests.Response:
    """Sends one request; transport failures become ``error_class`` (transient by default)."""
    try:
        return session.request(method, url, timeout=timeout, **kwargs)
    except requests.Timeout as exc:
        raise error_class(f"Tempo esgotado ao chamar {_host(url)}", permanent=False, details={"kind": "timeout"}) from exc
    except requests.ConnectionError as exc:
        raise error_class(f"Falha de conexão com {_host(url)}", permanent=False, details={"kind": "connection"}) from exc
    except requests.RequestException as exc:
        raise error_class(f"Erro de transporte com {_host(url)}: {type(exc).__name__}", permanent=False) from exc


def json_or_none(response: requests.Response) -> Any:
    """The decoded JSON body, or None when the body is not JSON (HTML error pages, truncation)."""
    try:
        return response.json()
    except (ValueError, json.JSONDecodeError, requests.exceptions.JSONDecodeError):
        return None


def _host(url: str) -> str:
    return urlsplit(url).netloc or "serviço externo"
