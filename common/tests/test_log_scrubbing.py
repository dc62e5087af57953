"""Second security review: the Omie webhook token, credentials by key, JWTs, Basic credentials and
customer names never reach a log line or a Sentry event.

Log lines go through the handler built from the production LOGGING dict (its JSON formatter and its
filters, by the same factories); Sentry events through the real SDK with a transport that keeps
the envelopes it would have sent.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import logging.config
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sentry_sdk
from django.test import Client
from sentry_sdk.integrations.logging import LoggingIntegration
from sentry_sdk.transport import Transport

from common.logging import redact, scrub_sentry_event

TOKEN = "omie-webhook-token-" + "t" * 30
APP_SECRET = "real-omie-app-secret-" + secrets.token_hex(8)  # made here: a literal would be a shipped key
APP_KEY = "4401234567890"
BASIC = "Basic " + base64.b64encode(b"pagarme:s3nha-do-webhook").decode()
JWT = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NSIsImV4cCI6MTk5OTk5OTk5OX0.c2lnbmF0dXJlLWJ5dGVz"
NAME, CPF, EMAIL = "Maria Aparecida Souza", "390.533.447-05", "maria.souza@cliente.com.br"
SECRETS = (TOKEN, APP_SECRET, APP_KEY, BASIC.split()[1], JWT, NAME, CPF, "39053344705", EMAIL, "s3nha-do-webhook")


def _production_handler(stream: io.StringIO) -> logging.Handler:
    """The ``console`` handler exactly as config/settings/logging.py builds it (JSON format), writing to ``stream``."""
    from config.settings.logging import LOGGING

    configurator = logging.config.DictConfigurator({})
    handler_config = LOGGING["handlers"]["console"]
    handler = logging.StreamHandler(stream)
    handler.setFormatter(configurator.configure_formatter(dict(LOGGING["formatters"]["json"])))
    for name in handler_config["filters"]:
        handler.addFilter(configurator.configure_filter(dict(LOGGING["filters"][name])))
    return handler


@pytest.fixture
def log_lines() -> Iterator[Callable[[str], list[dict[str, Any]]]]:
    """Attach the production handler to a logger; return the JSON lines it wrote."""
    stream = io.StringIO()
    handler = _production_handler(stream)
    attached: list[logging.Logger] = []

    def attach(name: str) -> list[dict[str, Any]]:
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        attached.append(logger)
        return []

    def lines(name: str = "") -> list[dict[str, Any]]:
        if name:
            attach(name)
            return []
        return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]

    yield lines
    for logger in attached:
        logger.removeHandler(handler)


@pytest.mark.django_db
def test_the_django_request_line_of_a_webhook_call_has_neither_the_token_nor_the_query(settings, log_lines):
    """Before: ``"request": "<WSGIRequest: GET '/webhooks/omie/<token>?email=…&cpf=…'>"`` in the JSON line."""
    settings.OMIE_WEBHOOKS, settings.OMIE_WEBHOOK_TOKEN, settings.OMIE_WEBHOOK_TOKEN_PREVIOUS = True, TOKEN, ""
    log_lines("django.request")
    response = Client().get(f"/webhooks/omie/{TOKEN}", {"email": EMAIL, "cpf": "39053344705"})
    assert response.status_code == 405
    lines = log_lines()
    assert lines, "django.request wrote nothing"
    sent = json.dumps(lines)
    for value in (TOKEN, EMAIL, "39053344705", "WSGIRequest"):
        assert value not in sent, value
    assert lines[-1]["request"] == "GET /webhooks/omie/[redacted]"
    assert lines[-1]["status_code"] == 405 and "/webhooks/omie/[redacted]" in lines[-1]["message"]


@pytest.mark.parametrize("path", [f"/webhooks/omie/{TOKEN}", f"/webhooks/omie/{TOKEN}/extra", f"/webhooks/omie//{TOKEN}",
                                  f"https://api.example.com/webhooks/omie/{TOKEN}?x=1"])
def test_every_path_segment_after_webhooks_omie_is_redacted(path):
    assert TOKEN not in redact(f"Not Found: {path}")


def test_extras_are_scrubbed_by_key_at_any_depth_in_the_log_line(log_lines):
    """Before: ``extra={"body": {"app_secret": …}}`` went out as it was (no pattern matched the bare value)."""
    log_lines("test.scrub.extra")
    body = {"call": "IncluirOS", "app_key": APP_KEY, "app_secret": APP_SECRET,
            "param": [{"cliente": {"nome": NAME, "razao_social": NAME, "cnpj_cpf": "39053344705", "email": EMAIL}}]}
    logging.getLogger("test.scrub.extra").error(
        "Omie recusou; Authorization: %s; token %s", BASIC, JWT,
        extra={"body": body, "headers": {"Authorization": BASIC, "X-Api-Token": "abc123def456"}},
    )
    line = log_lines()[-1]
    sent = json.dumps(line)
    for value in (*SECRETS, "abc123def456"):
        assert value not in sent, value
    assert line["body"]["app_secret"] == line["body"]["app_key"] == "[redacted]"
    assert line["body"]["param"][0]["cliente"] == {"nome": "[redacted]", "razao_social": "[redacted]", "cnpj_cpf": "[doc]",
                                                    "email": "[email]"}
    assert line["body"]["call"] == "IncluirOS"  # what was called stays readable
    assert line["message"] == "Omie recusou; Authorization: Basic [redacted]; token [jwt]"


def test_text_patterns_keep_ordinary_prose():
    for kept in ("autenticação basic recusada", "Token de serviço revogado ou desconhecido.", "PAGARME_WEBHOOK_AUTH=basic,hmac"):
        assert redact(kept) == kept
    assert redact("client_secret=abc123 e otp_token: 123456") == "client_secret=[redacted] e otp_token: [redacted]"


@pytest.fixture
def sentry_events() -> Iterator[list[dict[str, Any]]]:
    """The real SDK, configured like config/settings/sentry.py, sending to a list instead of the network."""
    events: list[dict[str, Any]] = []

    class Capture(Transport):
        def capture_envelope(self, envelope: Any) -> None:
            events.extend(item.payload.json for item in envelope.items if item.payload.json)

    sentry_sdk.init(dsn="https://public@sentry.example.com/1", transport=Capture, before_send=scrub_sentry_event,
                    before_send_transaction=scrub_sentry_event, include_local_variables=True,
                    default_integrations=False, integrations=[LoggingIntegration(level=None, event_level=logging.ERROR)])
    try:
        yield events
    finally:
        sentry_sdk.flush()
        sentry_sdk.init(dsn=None)


def _omie_call_that_fails() -> None:
    body = {"call": "IncluirOS", "app_key": APP_KEY, "app_secret": APP_SECRET}  # a frame variable Sentry sends
    headers = {"Authorization": BASIC}
    customer = {"nome": NAME, "documento": CPF}
    raise RuntimeError(f"Omie respondeu 500 para {body['call']} ({len(headers)} cabeçalhos, {len(customer)} campos)")


def test_frame_variables_holding_the_omie_secret_are_scrubbed_in_sentry(sentry_events):
    """Before: the frame variable ``body.app_secret`` carried the real OMIE_APP_SECRET to Sentry."""
    try:
        _omie_call_that_fails()
    except RuntimeError as exc:
        sentry_sdk.capture_exception(exc)
    sentry_sdk.flush()
    assert sentry_events, "no event captured"
    frames = sentry_events[0]["exception"]["values"][0]["stacktrace"]["frames"]
    variables = next(frame["vars"] for frame in frames if frame["function"] == "_omie_call_that_fails")
    assert variables["body"]["app_secret"] == variables["body"]["app_key"] == "[redacted]"
    assert variables["headers"]["Authorization"] == "[redacted]" and variables["customer"]["nome"] == "[redacted]"
    sent = json.dumps(sentry_events)
    for value in SECRETS:
        assert value not in sent, value


def test_a_logged_error_with_an_order_payload_reaches_sentry_scrubbed(sentry_events):
    """Before: ``extra={"body": {...}}`` with customer names, a Basic header and a bare JWT went to Sentry as they were."""
    logging.getLogger("test.scrub.sentry").error(
        "Bubble recusou o pedido; resposta %s", JWT,
        extra={"body": {"cliente": {"nome": NAME, "documento": CPF, "email": EMAIL}, "customer_name": NAME,
                        "auth": {"authorization": BASIC, "password": "s3nha-do-webhook"}}},
    )
    sentry_sdk.flush()
    assert sentry_events, "no event captured"
    sent = json.dumps(sentry_events)
    for value in SECRETS:
        assert value not in sent, value
    assert "[jwt]" in sent


def test_secrets_and_tags_set_on_the_scope_are_scrubbed(sentry_events):
    with sentry_sdk.new_scope() as scope:
        scope.set_extra("request_headers", {"HTTP_AUTHORIZATION": BASIC, "Cookie": "sessionid=abc"})
        scope.set_context("omie", {"app_secret": APP_SECRET, "nested": [{"token": TOKEN}]})
        sentry_sdk.capture_message(f"falha com Authorization {BASIC} e Bearer {JWT}")
    sentry_sdk.flush()
    sent = json.dumps(sentry_events)
    for value in (*SECRETS, "sessionid=abc"):
        assert value not in sent, value
