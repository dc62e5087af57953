"""sandbox_seed and sandbox_pagarme_send."""

import base64
import http.server
import io
import json
import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from stdnum.br import cnpj, cpf

from integrations.brasilapi.services import cnpj_lookup
from integrations.bubble.client import get_bubble_client
from integrations.documents import InvalidDocument, document_validate
from integrations.pagarme.events import event_parse
from integrations.pagarme.signature import signature_is_valid
from sandbox.fake_brasilapi.models import FakeCompany
from sandbox.fake_bubble.models import FakeThing
from sandbox.seed import customer_id, order_id


def _seed() -> str:
    out = io.StringIO()
    call_command("sandbox_seed", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_seed_is_idempotent_and_says_what_it_created():
    first = _seed()
    counts = (FakeThing.objects.count(), FakeCompany.objects.count())
    second = _seed()
    # the demo companies + the integration check's reference CNPJ
    assert counts == (FakeThing.objects.count(), FakeCompany.objects.count()) == (30, 8)
    assert first == second
    assert order_id(7) in first and "BILLING_HOLD_THRESHOLD" in first and "BAIXADA" in first
    assert "requer aprovação" in first


@pytest.mark.django_db
def test_seeded_documents_are_valid_except_the_deliberately_invalid_one():
    _seed()
    kinds = {"PF": 0, "PJ": 0}
    invalid = []
    for thing in FakeThing.objects.filter(type_name="cliente"):
        try:
            kinds[document_validate(thing.data["documento"])[1]] += 1
        except InvalidDocument:
            invalid.append(thing.data["nome"])
    assert invalid == ["Cliente Com CPF Inválido"]
    assert kinds == {"PF": 3, "PJ": 9}
    assert all(cnpj.is_valid(c.cnpj) for c in FakeCompany.objects.all())
    assert FakeCompany.objects.filter(cnpj="12ABC34501DE35").exists()  # an alphanumeric CNPJ
    assert not cpf.is_valid("12345678900")


@pytest.mark.django_db
def test_seed_refuses_without_sandbox_unless_forced(settings):
    settings.SANDBOX = False
    with pytest.raises(CommandError):
        call_command("sandbox_seed", stdout=io.StringIO())
    call_command("sandbox_seed", "--force", stdout=io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_the_seeded_data_is_readable_through_the_real_clients(fake_bubble, fake_brasilapi, settings):
    settings.BRASILAPI_RATE_PER_SECOND = 1000.0
    _seed()
    client = get_bubble_client()
    big = client.get_order(order_id(7))
    assert big.amount >= settings.BILLING_HOLD_THRESHOLD
    approval = client.get_customer(customer_id(4))
    assert approval.requires_approval is True
    baixada = client.get_customer(client.get_order(order_id(5)).customer_id)
    company = cnpj_lookup(cnpj=baixada.document)
    assert (company.situacao_cadastral, company.is_active) == ("BAIXADA", False)
    assert cnpj_lookup(cnpj=client.get_customer(customer_id(7)).document).is_active


class _Recorder(http.server.BaseHTTPRequestHandler):
    received: list = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        answer = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


@pytest.fixture
def receiver():
    _Recorder.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/webhooks/pagarme", _Recorder.received
    server.shutdown()
    server.server_close()


def _rs256_valid(body: bytes, header: str) -> bool:
    from jwt import PyJWKSet
    from jwt.algorithms import RSAAlgorithm

    from integrations.pagarme.webhook_auth import signature_header_parse
    from sandbox.fake_pagarme.keys import jwks

    parts = signature_header_parse(header)
    key = PyJWKSet.from_dict(jwks())[parts["kid"]]
    signature = base64.urlsafe_b64decode(parts["signature"] + "=" * (-len(parts["signature"]) % 4))
    return parts["alg"] == "RS256" and RSAAlgorithm(RSAAlgorithm.SHA256).verify(body, key.key, signature)


@pytest.mark.django_db
def test_pagarme_send_posts_an_rs256_signed_v5_event_registers_its_charge_and_prints_the_answer(receiver, settings, tmp_path):
    from sandbox.fake_pagarme.services import charge_get

    settings.SANDBOX_PAGARME_KEY_DIR = str(tmp_path)
    url, received = receiver
    _seed()
    out = io.StringIO()
    call_command("sandbox_pagarme_send", order_id(2), "--type", "charge.paid", "--url", url, "--event-id", "hook_demo",
                 "--occurred-at", "2026-11-20T10:00:00Z", "--times", "2", stdout=out)
    assert out.getvalue().count('HTTP 200 {"ok": true}') == 2
    (headers1, body1), (headers2, body2) = received
    signature = headers1["X-Webhook-Asymmetric-Signature"]
    assert body1 == body2 and signature == headers2["X-Webhook-Asymmetric-Signature"]  # a true duplicate
    assert signature.startswith("alg=RS256; kid=sbx_") and "X-Hub-Signature" not in headers1
    assert _rs256_valid(body1, signature)
    assert (tmp_path / "signing-key.pem").exists()  # generated at first use
    event = event_parse(json.loads(body1))
    assert (event.event_id, event.type, event.status, event.bubble_order_id) == ("hook_demo", "charge.paid", "paid", order_id(2))
    assert event.amount == Decimal("1200.00")  # the order's value in the fake Bubble
    assert event.occurred_at == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert charge_get(event.charge_id)["status"] == "paid"  # the fake API will confirm it


@pytest.mark.django_db
def test_pagarme_send_hmac_basic_and_bad_signature_options(receiver, settings, tmp_path):
    settings.SANDBOX_PAGARME_KEY_DIR = str(tmp_path)
    settings.PAGARME_WEBHOOK_SECRET = "whsec-test"
    settings.PAGARME_WEBHOOK_BASIC_AUTH = "pagarme:senha"
    url, received = receiver
    call_command("sandbox_pagarme_send", "1x1", "--type", "charge.refunded", "--scheme", "hmac", "--algorithm", "sha1",
                 "--amount", "10.00", "--url", url, stdout=io.StringIO())
    call_command("sandbox_pagarme_send", "1x1", "--scheme", "hmac", "--bad-signature", "--amount", "1", "--url", url, stdout=io.StringIO())
    call_command("sandbox_pagarme_send", "1x1", "--scheme", "basic", "--amount", "1", "--url", url, stdout=io.StringIO())
    call_command("sandbox_pagarme_send", "1x1", "--bad-signature", "--amount", "1", "--url", url, stdout=io.StringIO())
    (sha1_headers, sha1_body), (bad_headers, bad_body), (basic_headers, _), (rs_bad_headers, rs_bad_body) = received
    assert sha1_headers["X-Hub-Signature"].startswith("sha1=")
    assert signature_is_valid(raw_body=sha1_body, header=sha1_headers["X-Hub-Signature"], secret="whsec-test")
    assert event_parse(json.loads(sha1_body)).status == "canceled"  # Pagar.me v5 has no "refunded" charge status
    assert not signature_is_valid(raw_body=bad_body, header=bad_headers["X-Hub-Signature"], secret="whsec-test")
    assert basic_headers["Authorization"] == "Basic " + base64.b64encode(b"pagarme:senha").decode()
    assert not _rs256_valid(rs_bad_body, rs_bad_headers["X-Webhook-Asymmetric-Signature"])


def test_pagarme_send_posts_to_the_running_web_server_and_the_event_is_applied(fake_pagarme, settings, live_server):
    """No --url: SANDBOX_BASE_URL (make run sets it from WEB_PORT); rs256 + API confirmation end to end."""
    from billing.services.webhooks import pagarme_event_process
    from billing.tests.factories import OrderFactory
    from integrations.pagarme.webhooks.models import PagarmeEvent
    from orders.models import Order
    from orders.statuses import PaymentStatus

    settings.SANDBOX_BASE_URL = live_server.url
    order = OrderFactory(pf_unpaid=True)
    out = io.StringIO()
    call_command("sandbox_pagarme_send", order.bubble_id, "--amount", str(order.amount), stdout=out)
    assert "HTTP 200" in out.getvalue()
    event = PagarmeEvent.objects.get()
    assert pagarme_event_process(event_pk=event.pk) == PagarmeEvent.Status.APPLIED
    assert Order.objects.get(pk=order.pk).payment_status == PaymentStatus.PAID

    call_command("sandbox_pagarme_send", order.bubble_id, "--type", "charge.refunded", "--amount", str(order.amount),
                 "--api-status", "pending",
                 stdout=io.StringIO())
    refunded = PagarmeEvent.objects.exclude(pk=event.pk).get()
    assert pagarme_event_process(event_pk=refunded.pk) == PagarmeEvent.Status.NOT_CONFIRMED


def test_pagarme_send_reports_an_unreachable_url(settings):
    settings.PAGARME_WEBHOOK_SECRET = "x"
    with pytest.raises(CommandError, match="falha ao enviar"):
        call_command("sandbox_pagarme_send", "1x1", "--amount", "1", "--url", "http://127.0.0.1:9/webhooks/pagarme",
                     "--timeout", "1", stdout=io.StringIO())


@pytest.mark.django_db
def test_seed_puts_the_hand_registered_company_in_the_fake_omie_once():
    from sandbox.fake_omie.models import FakeCustomer

    first = _seed()
    _seed()
    [customer] = FakeCustomer.objects.filter(razao_social="DISTRIBUIDORA VALE VERDE LTDA")
    assert customer.codigo_cliente_integracao is None  # typed in Omie's screen: no integration code
    assert "já cadastrado à mão no Omie" in first
    # Two Bubble customers share its CNPJ.
    documents = [t.data["documento"] for t in FakeThing.objects.filter(type_name="cliente") if "Vale Verde" in t.data["nome"]]
    assert len(documents) == 2 and len(set(documents)) == 1
