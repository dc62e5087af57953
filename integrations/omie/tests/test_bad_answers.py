"""Answers no well-behaved Omie gives: garbage, truncation, HTML pages, silence, a closed port. A
tiny local HTTP server plays the broken Omie; every case must end in a typed error, never in an
unhandled exception, and never keep the lease."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from integrations.omie.errors import OmieError, OmieNotNow, OmieTransientError
from integrations.omie.models import OmieCall

pytestmark = pytest.mark.django_db


class _Script:
    status = 200
    body = b""
    content_type = "application/json"
    delay = 0.0
    headers: dict[str, str] = {}


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(_Script.delay)
        try:
            self.send_response(_Script.status)
            self.send_header("Content-Type", _Script.content_type)
            for name, value in _Script.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(_Script.body)))
            self.end_headers()
            self.wfile.write(_Script.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def broken_omie(settings) -> Iterator[type[_Script]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.OMIE_BASE_URL = f"http://127.0.0.1:{server.server_address[1]}/api/v1/"
    settings.OMIE_APP_KEY, settings.OMIE_APP_SECRET = "k", "s"
    settings.OMIE_READ_TIMEOUT = 0.5
    _Script.status, _Script.body, _Script.content_type, _Script.delay, _Script.headers = 200, b"", "application/json", 0.0, {}
    yield _Script
    server.shutdown()
    server.server_close()
    from integrations.omie.client import close_clients

    close_clients()


def _client():
    from integrations.omie.client import get_omie_client

    return get_omie_client()


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (200, b"Hello, I am not JSON", "text/plain"),
        (200, b'{"codigo_cliente_omie": 2400000001, "codigo_sta', "application/json"),
        (200, b"", "application/json"),
        (200, b"\x1f\x8b\x08\x00\xff\xfe binary", "application/octet-stream"),
        (200, b'["a", "list"]', "application/json"),
        (500, b"<html><body><h1>500 Internal Server Error</h1></body></html>", "text/html"),
        (502, b"<html><body>Bad Gateway</body></html>", "text/html"),
        (503, b"Service Unavailable", "text/plain"),
    ],
)
def test_garbage_truncated_and_html_answers_are_transient(broken_omie, status, body, content_type):
    broken_omie.status, broken_omie.body, broken_omie.content_type = status, body, content_type
    client = _client()
    with pytest.raises(OmieTransientError) as exc:
        client.upsert_cliente(codigo_cliente_integracao="cli-1", cliente={"razao_social": "X"})
    assert not exc.value.permanent
    row = OmieCall.objects.get()
    assert (row.outcome, row.http_status) == ("transient", status)
    assert client.throttle.state(("UpsertCliente",))[0].leases_held == 0


def test_a_silent_omie_is_a_timeout_and_the_same_id_waits_out_the_redundant_window(broken_omie):
    broken_omie.delay = 2.0
    client = _client()
    started = time.monotonic()
    with pytest.raises(OmieTransientError) as exc:
        client.consultar_os(c_cod_int_os="os-1")
    assert time.monotonic() - started < 1.9 and "Tempo esgotado" in exc.value.message
    row = OmieCall.objects.get()
    assert (row.outcome, row.http_status) == ("transient", None)
    # Omie may have processed it: asking again within 60 s would be REDUNDANT (and an error).
    with pytest.raises(OmieNotNow) as again:
        client.consultar_os(c_cod_int_os="os-1")
    assert again.value.reason == "redundant"


def test_a_closed_port_is_transient_and_the_same_id_may_be_sent_again_at_once(settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    settings.OMIE_BASE_URL = f"http://127.0.0.1:{port}/api/v1/"
    client = _client()
    for _ in range(2):
        with pytest.raises(OmieTransientError):
            client.consultar_os(c_cod_int_os="os-1")
    assert OmieCall.objects.count() == 2
    assert client.throttle.state(("ConsultarOS",))[0].errors_in_window == 0  # Omie never saw them


def test_a_425_without_seconds_pauses_the_method_for_the_default_ban(broken_omie, settings):
    settings.OMIE_BAN_DEFAULT_SECONDS = 1234
    broken_omie.status, broken_omie.body, broken_omie.content_type = 425, b"<html>Too Early</html>", "text/html"
    client = _client()
    with pytest.raises(OmieNotNow) as exc:
        client.listar_os(pagina=1, registros_por_pagina=10)
    assert exc.value.reason == "banned" and 1234 <= exc.value.retry_after <= 1240
    state = client.throttle.state(("ListarOS",))[0]
    assert state.pause_reason == "banned"


def test_a_429_honours_a_longer_retry_after_header(broken_omie, settings):
    settings.OMIE_RATE_LIMITED_PAUSE_SECONDS = 60
    broken_omie.status, broken_omie.body, broken_omie.headers = 429, b"", {"Retry-After": "120"}
    with pytest.raises(OmieNotNow) as exc:
        _client().listar_nfses(pagina=1, registros_por_pagina=10)
    assert exc.value.reason == "rate_limited" and exc.value.retry_after >= 120


def test_a_404_from_a_wrong_base_url_is_permanent(broken_omie):
    broken_omie.status, broken_omie.body, broken_omie.content_type = 404, b"<html>Not Found</html>", "text/html"
    with pytest.raises(OmieError) as exc:
        _client().consultar_cliente(codigo_cliente_integracao="cli-1")
    assert exc.value.permanent


def test_without_redis_nothing_is_sent_and_the_error_is_transient(broken_omie, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    with pytest.raises(OmieTransientError) as exc:
        _client().consultar_os(c_cod_int_os="os-1")
    assert "Redis" in exc.value.message
    assert not OmieCall.objects.exists()  # the throttle could not vouch for the call: it was not made
