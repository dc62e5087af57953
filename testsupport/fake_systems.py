"""Pytest fixtures for code that talks to Bubble, BrasilAPI or any misbehaving HTTP server.

The clients are pointed at the fakes served by pytest-django's ``live_server`` over real HTTP (no
mocks of ``requests``). Registered for the whole suite by ``pytest_plugins`` in the root conftest:

    def test_x(fake_bubble):
        fake_bubble.put_order("1x1", cliente="1x2", valor_total=Decimal("10.00"))
        ...
        assert fake_bubble.thing("order", "1x1")["status_pedido"] == "Sincronizado"
"""

from __future__ import annotations

import gc
import http.server
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

BUBBLE_TEST_TOKEN = "test-bubble-token-0123456789abcdef"


@dataclass
class FakeBubble:
    base_url: str

    @property
    def env(self) -> dict[str, str]:
        """For a real worker process (``celery_worker_process(**fake_bubble.env)``)."""
        return {"BUBBLE_BASE_URL": self.base_url, "BUBBLE_API_TOKEN": BUBBLE_TEST_TOKEN}

    def put(self, thing: str, bubble_id: str, **canonical: Any) -> None:
        from integrations.bubble.fields import field_key, type_name
        from sandbox.fake_bubble.services import thing_put

        fields = {field_key(thing, key): value for key, value in canonical.items()}  # type: ignore[arg-type]
        thing_put(type_name=type_name(thing), bubble_id=bubble_id, fields=fields)  # type: ignore[arg-type]

    def put_order(self, bubble_id: str, **canonical: Any) -> None:
        self.put("order", bubble_id, **canonical)

    def put_customer(self, bubble_id: str, **canonical: Any) -> None:
        self.put("customer", bubble_id, **canonical)

    def thing(self, thing: str, bubble_id: str) -> dict[str, Any] | None:
        """The thing's stored fields (app keys), or None."""
        from integrations.bubble.fields import type_name
        from sandbox.fake_bubble.services import thing_get

        found = thing_get(type_name=type_name(thing), bubble_id=bubble_id)  # type: ignore[arg-type]
        return found.data if found else None

    def patches(self, thing: str | None = None, bubble_id: str | None = None, *, ok_only: bool = True) -> list[Any]:
        from integrations.bubble.fields import type_name
        from sandbox.fake_bubble.services import patches_for

        return patches_for(type_name=type_name(thing) if thing else None, bubble_id=bubble_id, ok_only=ok_only)  # type: ignore[arg-type]

    def control(self, **values: Any) -> None:
        """``outage_status`` (429/5xx), ``outage_calls_left`` (None = every call), ``latency_ms``, ``missing_status``
        (404/400), ``token`` (the one accepted; default: the client's)."""
        from sandbox.fake_bubble.services import control_set

        control_set(**values)

    def calls(self) -> int:
        from sandbox.fake_bubble.services import control_get

        return control_get().calls


@dataclass
class FakeBrasilApi:
    base_url: str

    @property
    def env(self) -> dict[str, str]:
        return {"BRASILAPI_BASE_URL": self.base_url}

    def put_company(self, cnpj: str, razao_social: str = "EMPRESA DE TESTE LTDA", **fields: Any) -> None:
        from stdnum.br import cnpj as stdnum_cnpj

        from sandbox.fake_brasilapi.services import company_put

        company_put(cnpj=stdnum_cnpj.compact(cnpj), razao_social=razao_social, **fields)

    def lookups(self, cnpj: str | None = None) -> list[Any]:
        from sandbox.fake_brasilapi.services import lookups_for

        return lookups_for(cnpj=cnpj)

    def control(self, **values: Any) -> None:
        """``fail_status`` (429/5xx), ``fail_calls_left`` (None = every call), ``latency_ms``."""
        from sandbox.fake_brasilapi.services import control_set

        control_set(**values)


PAGARME_TEST_SECRET_KEY = "sk_test_0123456789abcdef"


@dataclass
class FakePagarme:
    base_url: str
    key_dir: str

    @property
    def env(self) -> dict[str, str]:
        """For a real worker or web process."""
        return {"PAGARME_API_BASE_URL": f"{self.base_url}/core/v5", "PAGARME_JWKS_URL": f"{self.base_url}/.well-known/jwks.json",
                "PAGARME_SECRET_KEY": PAGARME_TEST_SECRET_KEY, "SANDBOX_PAGARME_KEY_DIR": self.key_dir,
                "PAGARME_WEBHOOK_AUTH": "rs256", "PAGARME_CONFIRM_WITH_API": "true"}

    def sign(self, body: bytes, **kwargs: Any) -> str:
        """``X-Webhook-Asymmetric-Signature`` with the fake's current key (``key=``/``kid=`` to forge)."""
        from sandbox.fake_pagarme.keys import sign

        return sign(body, **kwargs)

    def register(self, event: dict[str, Any], *, api_status: str | None = None) -> None:
        from sandbox.fake_pagarme.services import event_register

        event_register(event, api_status=api_status)

    def charge_status_set(self, charge_id: str, status: str) -> None:
        from sandbox.fake_pagarme.services import charge_status_set

        charge_status_set(charge_id, status)

    def charge_update(self, charge_id: str, **fields: Any) -> dict[str, Any]:
        """What the API answers for the charge from now on (``paid_amount``/``canceled_amount`` in cents)."""
        from sandbox.fake_pagarme.services import charge_update

        return charge_update(charge_id, **fields)

    def rotate(self) -> str:
        from sandbox.fake_pagarme.keys import key_rotate

        return key_rotate()

    def control(self, **values: Any) -> None:
        """``api_status`` / ``jwks_status`` (e.g. 503 for every call; None: back to normal), ``latency_ms``."""
        from sandbox.fake_pagarme.services import control_set

        control_set(**values)

    def count(self, name: str) -> int:
        """How many times "jwks" or "api" was called."""
        from sandbox.fake_pagarme.services import count

        return count(name)


def pagarme_settings(settings: Any, base_url: str, key_dir: str) -> None:
    settings.SANDBOX_PAGARME_KEY_DIR = key_dir
    settings.PAGARME_JWKS_URL = f"{base_url}/.well-known/jwks.json"
    settings.PAGARME_API_BASE_URL = f"{base_url}/core/v5"
    settings.PAGARME_SECRET_KEY = PAGARME_TEST_SECRET_KEY
    settings.PAGARME_WEBHOOK_AUTH = ["rs256"]
    settings.PAGARME_CONFIRM_WITH_API = True


@pytest.fixture
def fake_pagarme(live_server: Any, settings: Any, tmp_path: Any) -> Iterator[FakePagarme]:
    """The fake Pagar.me on the live server (JWKS + API), a fresh key pair, an empty JWKS cache, rs256 only."""
    from integrations.pagarme.webhook_auth import jwks_cache_clear
    from sandbox.fake_pagarme.services import control_reset

    base_url = f"{live_server.url}/sandbox/pagarme"
    pagarme_settings(settings, base_url, str(tmp_path / "pagarme-keys"))
    control_reset()
    jwks_cache_clear()
    yield FakePagarme(base_url=base_url, key_dir=settings.SANDBOX_PAGARME_KEY_DIR)
    jwks_cache_clear()
    close_client_sessions()


def close_client_sessions() -> None:
    """Drops the clients' kept-alive connections: a live-server thread holds its database connection
    for as long as the client keeps the socket open, which would block the test database's teardown."""
    from integrations.brasilapi import client as brasilapi_client
    from integrations.bubble import client as bubble_client
    from integrations.pagarme import client as pagarme_client

    for module in (bubble_client, brasilapi_client, pagarme_client):
        if module._session is not None:
            module._session.close()
    gc.collect()  # sessions of clients a test built itself close their sockets when collected


@pytest.fixture
def fake_bubble(live_server: Any, settings: Any) -> Iterator[FakeBubble]:
    from sandbox.fake_bubble.services import control_reset

    base_url = f"{live_server.url}/sandbox/bubble/api/1.1"
    settings.BUBBLE_BASE_URL = base_url
    settings.BUBBLE_API_TOKEN = BUBBLE_TEST_TOKEN
    control_reset()
    yield FakeBubble(base_url=base_url)
    close_client_sessions()


@pytest.fixture
def fake_brasilapi(live_server: Any, settings: Any) -> Iterator[FakeBrasilApi]:
    from sandbox.fake_brasilapi.services import control_reset

    base_url = f"{live_server.url}/sandbox/brasilapi/api"
    settings.BRASILAPI_BASE_URL = base_url
    control_reset()
    yield FakeBrasilApi(base_url=base_url)
    close_client_sessions()


# A deliberately broken HTTP server --------------------------------------------------------------------


class _BrokenHandler(http.server.BaseHTTPRequestHandler):
    """The first path segment picks the misbehaviour: /html, /nonjson, /truncated, /cut, /empty, /slow,
    /json-array, /status-<code>, /retry-<seconds|date|text> (429 with Retry-After)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        mode = self.path.strip("/").split("/")[0]
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if mode == "slow":
            time.sleep(3)
            self._send(200, b'{"response": {}}')
        elif mode == "html":
            self._send(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")
        elif mode == "html200":
            self._send(200, b"<!DOCTYPE html><html><body>Bubble app page</body></html>", "text/html")
        elif mode == "nonjson":
            self._send(200, b"definitely not json", "text/plain")
        elif mode == "truncated":
            self._send(200, b'{"response": {"valor_total": 12')
        elif mode == "cut":
            # Promises more bytes than it sends, then closes: a broken stream.
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "500")
            self.end_headers()
            self.wfile.write(b'{"response": {')
            self.wfile.flush()
            self.close_connection = True
        elif mode == "empty":
            self._send(200, b"")
        elif mode == "json-array":
            self._send(200, b"[1, 2, 3]")
        elif mode.startswith("status-"):
            self._send(int(mode.split("-", 1)[1]), b"")
        elif mode.startswith("retry-"):
            value = mode.split("-", 1)[1]
            self.send_response(429)
            self.send_header("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT" if value == "date" else value)
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._send(404, b"unknown mode", "text/plain")

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PATCH = do_POST = _answer


@pytest.fixture
def broken_server() -> Iterator[str]:
    """Base URL of a local server that answers garbage; append the mode: f"{broken_server}/html"."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _BrokenHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
