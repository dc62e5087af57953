"""Omie webhooks end to end: the fake Omie pushes events over real HTTP to /webhooks/omie/<token>
(served by the live server), they are stored, applied, and polling remains the backstop."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from billing.models import Invoice, InvoiceStep, ReconciliationDrift
from billing.services.omie_webhooks import EventNotNow, first_poll_seconds, omie_webhook_event_process
from billing.services.run import orders_due_claim
from billing.tests.conftest import due_order, processed, status_of, steps_run_due
from integrations.http import IntegrationError
from integrations.omie.webhooks.models import OmieWebhookEvent
from orders.models import ActionLog, Order
from orders.statuses import BillingStatus
from sandbox.fake_omie.models import FakeOmieWebhook
from sandbox.fake_omie.webhooks import deliver_due

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "t" * 40


@pytest.fixture
def hooks(fake_omie, live_server, settings):
    """Webhooks on: the fake Omie sends them to this live server."""
    settings.OMIE_WEBHOOKS = True
    settings.OMIE_WEBHOOK_TOKEN = TOKEN
    settings.OMIE_WEBHOOK_TOKEN_PREVIOUS = ""
    fake_omie.configure(webhook_url=f"{live_server.url}/webhooks/omie/{TOKEN}")
    return fake_omie


def process_received() -> None:
    """The processing task, in process: an event that cannot be applied yet stays RECEIVED (the task would retry)."""
    for pk in OmieWebhookEvent.objects.filter(status=OmieWebhookEvent.Status.RECEIVED).values_list("id", flat=True):
        try:
            omie_webhook_event_process(event_pk=pk)
        except (EventNotNow, IntegrationError):
            pass


def post_event(live_server, body: dict) -> None:
    import requests
    from django.conf import settings

    body = {"appKey": settings.OMIE_APP_KEY, **body}
    assert requests.post(f"{live_server.url}/webhooks/omie/{TOKEN}", json=body, timeout=5).status_code == 200


def run_until(predicate: Callable[[], Any], *, timeout: float = 30.0, steps: bool = True) -> None:
    """In-process stand-in for the sender, the worker and the dispatcher, until ``predicate()``."""

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        deliver_due()
        process_received()
        if predicate():
            return
        if steps:
            steps_run_due()
        time.sleep(0.05)
    raise AssertionError(f"condition not met within {timeout}s")


def issued_logs(order: Order) -> int:
    return ActionLog.objects.filter(order=order, action="billing_issued").count()


def test_nota_autorizada_brings_one_statusos_forward_and_omies_answer_issues(hooks, settings):
    settings.BILLING_FIRST_POLL_SECONDS = 30  # the poll would come far too late: only the event brings it forward
    orders = [due_order() for _ in range(2)]
    orders_due_claim(actor="system:test")
    run_until(lambda: all(status_of(o) == BillingStatus.ISSUED for o in orders))

    for order in orders:
        invoice = Invoice.objects.get(order=order)
        assert invoice.nfse_number.isdigit() and invoice.verification_code and invoice.nfse_url.startswith("https://")
        assert (invoice.rps_status, invoice.lot_status) == ("004", "004")
        assert invoice.next_step == InvoiceStep.NONE and invoice.lease_token is None and invoice.faturar_accepted_at
        assert issued_logs(order) == 1
    # One StatusOS per invoice, asked when the event came: the number is Omie's answer, never the event's.
    assert processed(hooks, "FaturarOS") == 2 and processed(hooks, "StatusOS") == 2
    events = OmieWebhookEvent.objects.filter(topic="NFSe.NotaAutorizada")
    assert all(e.status == "APPLIED" and {"codigo_os", "id_nf", "nfse_xml"} <= set(e.fields_seen) for e in events)
    assert {e.payload_format for e in events} == {"legado"}
    assert set(OmieWebhookEvent.objects.filter(topic="OrdemServico.Faturada").values_list("status", flat=True)) == {"NO_CHANGE"}


def test_when_every_webhook_is_lost_polling_still_issues(hooks):
    hooks.configure(webhook_loss_rate=1.0)
    orders = [due_order() for _ in range(3)]
    orders_due_claim(actor="system:test")
    run_until(lambda: all(status_of(o) == BillingStatus.ISSUED for o in orders))
    assert not OmieWebhookEvent.objects.exists()
    assert FakeOmieWebhook.objects.filter(state="lost").count() >= 6  # Faturada + NotaAutorizada per OS
    assert processed(hooks, "StatusOS") >= 3


def test_a_duplicated_event_is_stored_and_processed_once(hooks, settings):
    settings.BILLING_FIRST_POLL_SECONDS = 30
    hooks.configure(webhook_duplicate_rate=1.0)
    order = due_order()
    orders_due_claim(actor="system:test")
    run_until(lambda: status_of(order) == BillingStatus.ISSUED)
    run_until(lambda: not FakeOmieWebhook.objects.filter(state="queued").exists(), steps=False)

    assert FakeOmieWebhook.objects.filter(state="delivered").count() == 4  # 2 events × 2 deliveries, all answered 200
    events = OmieWebhookEvent.objects.all()
    assert events.count() == 2 and {e.deliveries for e in events} == {2}
    assert issued_logs(order) == 1


def test_an_event_for_an_os_that_is_not_ours_is_kept_and_changes_nothing(hooks, live_server):
    order = due_order()
    body = {"messageId": "m-unknown-1", "topic": "NFSe.NotaAutorizada", "event": {"codigo_os": 1, "id_nf": 77}}
    post_event(live_server, body)
    process_received()
    event = OmieWebhookEvent.objects.get(message_id="m-unknown-1")
    assert event.status == "UNMATCHED" and event.order_id is None and event.payload["event"] == body["event"]
    assert status_of(order) == BillingStatus.SCHEDULED and not Invoice.objects.exists()


def test_an_event_of_another_omie_app_is_kept_as_invalid(hooks, live_server):
    order = due_order()
    post_event(live_server, {"messageId": "m-app-1", "appKey": "1234567890", "topic": "OrdemServico.Faturada",
                             "event": {"idOrdemServico": order.omie_os_code, "faturada": "S"}})
    process_received()
    event = OmieWebhookEvent.objects.get(message_id="m-app-1")
    assert event.status == "INVALID" and "appKey" in event.message and not hooks.calls("StatusOS")


def test_forged_nfse_events_change_no_invoice_and_write_nothing_to_bubble(hooks, live_server):
    """The hostile review's case: the right token, a made-up number and link. Omie's own StatusOS disagrees: nothing moves."""
    from integrations.bubble.models import BubbleWriteback

    order = due_order()
    orders_due_claim(actor="system:test")
    run_until(lambda: status_of(order) == BillingStatus.ISSUED)
    invoice = Invoice.objects.get(order=order)
    real_number, outbox_before = invoice.nfse_number, BubbleWriteback.objects.count()
    forged_xml = '<NFSe xmlns="http://www.sped.fazenda.gov.br/nfse"><infNFSe Id="NFS1"><nNFSe>666</nNFSe></infNFSe></NFSe>'
    time.sleep(1)  # past the fake's same-OS window: the confirmation read is allowed
    post_event(live_server, {"messageId": "forged-1", "topic": "NFSe.NotaAutorizada", "event": {
        "codigo_os": order.omie_os_code, "id_nf": 1, "nfse_xml": forged_xml, "link_nfse": "https://evil.example/nf.pdf"}})
    post_event(live_server, {"messageId": "forged-2", "topic": "NFSe.NotaCancelada", "event": {"codigo_os": order.omie_os_code}})
    run_until(lambda: not OmieWebhookEvent.objects.filter(status="RECEIVED").exists(), steps=False, timeout=10)

    invoice.refresh_from_db()
    assert invoice.status == BillingStatus.ISSUED and invoice.nfse_number == real_number and "evil" not in invoice.nfse_url
    assert BubbleWriteback.objects.count() == outbox_before
    assert set(OmieWebhookEvent.objects.filter(message_id__startswith="forged").values_list("status", flat=True)) == {"NO_CHANGE"}
    assert not ReconciliationDrift.objects.filter(order=order).exists()
    assert "não confirma" in OmieWebhookEvent.objects.get(message_id="forged-2").message


def test_events_arriving_before_the_faturar_answer_is_stored_issue_once_and_faturar_is_never_resent(hooks, settings):
    settings.BILLING_FIRST_POLL_SECONDS = 30
    # Omie bills the OS at once but answers FaturarOS 3 s later: its webhooks get here first, and wait for the step.
    hooks.inject("slow_answer", call="FaturarOS", seconds=3)
    order = due_order()
    orders_due_claim(actor="system:test")
    invoice = Invoice.objects.get(order=order)

    from billing.services.emission import invoice_step_run
    from billing.services.work import invoices_dispatch

    invoices_dispatch()
    token = Invoice.objects.values_list("lease_token", flat=True).get(pk=invoice.pk)
    worker = threading.Thread(target=lambda: invoice_step_run(invoice_id=invoice.pk, token=str(token)))
    worker.start()
    try:
        run_until(lambda: OmieWebhookEvent.objects.filter(topic="NFSe.NotaAutorizada").exists(), steps=False, timeout=10)
        assert worker.is_alive(), "the FaturarOS answer came before the webhook: the test proved nothing"
        assert OmieWebhookEvent.objects.get(topic="NFSe.NotaAutorizada").status == "RECEIVED"  # waits for the running step
    finally:
        worker.join(30)
    run_until(lambda: status_of(order) == BillingStatus.ISSUED, timeout=10)

    invoice.refresh_from_db()
    assert invoice.status == BillingStatus.ISSUED and invoice.next_step == InvoiceStep.NONE and invoice.faturar_attempts == 1
    assert processed(hooks, "FaturarOS") == 1 and len(hooks.calls("FaturarOS")) == 1
    assert processed(hooks, "StatusOS") == 1 and issued_logs(order) == 1


def test_an_nf_cancelled_directly_in_omie_becomes_a_drift_and_the_order_is_left_alone(hooks, settings):
    from sandbox.fake_omie.services import fake_omie_cancel_nfse_directly

    order = due_order()
    orders_due_claim(actor="system:test")
    run_until(lambda: status_of(order) == BillingStatus.ISSUED)

    fake_omie_cancel_nfse_directly(c_cod_int_os=order.bubble_id)
    run_until(lambda: ReconciliationDrift.objects.filter(order=order).exists(), steps=False, timeout=5)

    drift = ReconciliationDrift.objects.get(order=order)
    assert drift.kind == "CANCELLED_IN_OMIE" and drift.source == "WEBHOOK" and drift.run is None
    assert status_of(order) == BillingStatus.ISSUED
    assert ActionLog.objects.filter(order=order, action="omie_drift", outcome="error").exists()


def test_cancel_nf_asked_here_is_confirmed_by_statusos_005_and_its_own_events_are_no_drift(hooks, settings, auth_client):
    order = due_order()
    orders_due_claim(actor="system:test")
    run_until(lambda: status_of(order) == BillingStatus.ISSUED)
    statusos_before = processed(hooks, "StatusOS")

    body = {"operator": "ana@blu.example.com", "reason_code": 2, "justification": "Serviço não foi prestado ao cliente."}
    assert auth_client.post(f"/v1/orders/{order.bubble_id}/cancel-nf", body, format="json").status_code == 202
    run_until(lambda: status_of(order) == BillingStatus.CANCELLED, timeout=15)
    run_until(lambda: not OmieWebhookEvent.objects.filter(status="RECEIVED").exists(), steps=False, timeout=10)
    assert processed(hooks, "CancelarOS") == 1 and processed(hooks, "StatusOS") > statusos_before
    assert not ReconciliationDrift.objects.filter(order=order).exists()  # NotaCancelada / OS.Cancelada were our own cancel


def test_os_faturada_brings_the_consult_of_an_unknown_faturar_forward_and_omie_decides(hooks, settings, live_server):
    """A forged OrdemServico.Faturada cannot make a billing be skipped: ConsultarOS says not billed, FaturarOS is sent."""
    order = due_order()
    orders_due_claim(actor="system:test")
    now = timezone.now()
    Invoice.objects.filter(order=order).update(faturar_requested_at=now, next_poll_at=now + timezone.timedelta(seconds=300))
    post_event(live_server, {"messageId": "m-fat-1", "topic": "OrdemServico.Faturada",
                             "event": {"idOrdemServico": order.omie_os_code, "codigoIntegracao": order.bubble_id, "faturada": "S"}})
    process_received()
    invoice = Invoice.objects.get(order=order)
    assert invoice.next_step == InvoiceStep.FATURAR and invoice.next_poll_at <= timezone.now()
    assert invoice.faturar_accepted_at is None  # nothing settled by the event
    assert OmieWebhookEvent.objects.get(message_id="m-fat-1").status == "APPLIED"
    assert not hooks.calls("ConsultarOS") and not hooks.calls("FaturarOS")
    run_until(lambda: status_of(order) == BillingStatus.ISSUED)
    assert processed(hooks, "ConsultarOS") == 1 and processed(hooks, "FaturarOS") == 1


def test_os_excluida_is_a_drift_only_when_omie_no_longer_has_the_os(hooks, live_server):
    from sandbox.fake_omie.services import fake_omie_delete_os_directly

    order = due_order()
    for i, topic in enumerate(["OrdemServico.Excluida", "NFSe.NotaSubstituida"]):
        post_event(live_server, {"messageId": f"m-d-{i}", "topic": topic, "event": {"codigo_os": order.omie_os_code}})
    run_until(lambda: not OmieWebhookEvent.objects.filter(status="RECEIVED").exists(), steps=False, timeout=10)
    assert set(OmieWebhookEvent.objects.values_list("status", flat=True)) == {"NO_CHANGE"}  # Omie still has it, no new NFS-e
    assert not ReconciliationDrift.objects.filter(order=order).exists()

    fake_omie_delete_os_directly(c_cod_int_os=order.bubble_id)
    time.sleep(1)  # past the fake's same-OS window
    run_until(lambda: ReconciliationDrift.objects.filter(order=order).exists(), steps=False, timeout=10)
    assert list(ReconciliationDrift.objects.filter(order=order).values_list("kind", flat=True)) == ["OS_DELETED_IN_OMIE"]
    assert status_of(order) == BillingStatus.SCHEDULED


def test_first_poll_waits_longer_only_while_webhooks_are_healthy(settings, db):
    settings.OMIE_WEBHOOKS = True
    settings.BILLING_FIRST_POLL_SECONDS = 60
    settings.BILLING_FIRST_POLL_WITH_WEBHOOKS_SECONDS = 300
    settings.OMIE_WEBHOOK_HEALTHY_SECONDS = 600
    assert first_poll_seconds() == 60  # no event yet
    event = OmieWebhookEvent.objects.create(message_id="h1", topic="x", payload={})
    assert first_poll_seconds() == 300
    OmieWebhookEvent.objects.filter(pk=event.pk).update(received_at=timezone.now() - timezone.timedelta(seconds=601))
    assert first_poll_seconds() == 60  # gone quiet: back to the normal cadence
    settings.OMIE_WEBHOOKS = False
    OmieWebhookEvent.objects.create(message_id="h2", topic="x", payload={})
    assert first_poll_seconds() == 60


def test_the_fake_delivers_fifo_and_a_failing_head_blocks_the_queue(hooks, live_server):
    from sandbox.fake_omie.webhooks import webhook_emit

    config = hooks_config()
    config.webhook_url = f"{live_server.url}/webhooks/omie/{'x' * 40}"  # wrong token: 404
    config.save()
    for i in range(3):
        webhook_emit(config, "OrdemServico.Alterada", {"idOrdemServico": i})
    deliver_due()
    rows = list(FakeOmieWebhook.objects.order_by("id"))
    assert rows[0].attempts == 1 and rows[0].last_status == 404 and rows[1].attempts == rows[2].attempts == 0
    for _ in range(2):  # the main queue's other two tries (1–4 s apart × the fake's time scale)
        FakeOmieWebhook.objects.filter(pk=rows[0].pk).update(next_try_at=timezone.now())
        deliver_due()
    head = FakeOmieWebhook.objects.get(pk=rows[0].pk)
    assert head.attempts == 3 and head.dead_letter and head.state == "queued"
    assert not OmieWebhookEvent.objects.exists()

    config.webhook_url = f"{live_server.url}/webhooks/omie/{TOKEN}"
    config.save()
    FakeOmieWebhook.objects.filter(pk=head.pk).update(next_try_at=timezone.now())
    deliver_due()
    assert list(FakeOmieWebhook.objects.order_by("id").values_list("state", flat=True)) == ["delivered"] * 3
    stored = list(OmieWebhookEvent.objects.order_by("id").values_list("payload__event__idOrdemServico", flat=True))
    assert stored == [0, 1, 2]


def hooks_config():
    from sandbox.fake_omie.services import fake_omie_config

    return fake_omie_config()


@pytest.mark.slow
def test_with_a_real_worker_a_direct_cancel_in_omie_shows_in_the_admin_within_5_s(hooks, live_server, celery_worker_process,
                                                                                   admin_client):
    """The real path: the fake's sender thread → gunicorn-less live server → a real Celery worker; the admin shows the drift."""
    from billing.tests.test_worker_runs import WORKER_QUEUES, worker_env
    from sandbox.fake_omie.services import fake_omie_cancel_nfse_directly
    from sandbox.fake_omie.webhooks import WebhookSender

    env = worker_env(hooks, live_server, OMIE_WEBHOOKS="true", OMIE_WEBHOOK_TOKEN=TOKEN, BILLING_FIRST_POLL_SECONDS="30")
    celery_worker_process(queues=WORKER_QUEUES, concurrency=2, **env)
    sender = WebhookSender(interval=0.05).start()
    try:
        order = due_order()
        orders_due_claim(actor="system:test")
        deadline = time.monotonic() + 30
        while status_of(order) != BillingStatus.ISSUED:
            assert time.monotonic() < deadline, "not ISSUED through the webhook"
            time.sleep(0.1)
        assert processed(hooks, "StatusOS") == 1  # the one the NotaAutorizada event brought forward

        drifts_url = "/admin/billing/reconciliationdrift/?resolved_at__isempty=1&kind__exact=CANCELLED_IN_OMIE"
        assert f">{order.bubble_id}</a>" not in admin_client.get(drifts_url).content.decode()
        fake_omie_cancel_nfse_directly(c_cod_int_os=order.bubble_id)
        sent_at = time.monotonic()
        while True:
            # The drift's row links to the order by its Bubble id (the kind's label is also in the filter sidebar).
            page = admin_client.get(drifts_url)
            if f">{order.bubble_id}</a>" in page.content.decode():
                break
            assert time.monotonic() - sent_at < 5, "the drift was not in the admin within 5 s"
            time.sleep(0.1)
        dashboard = admin_client.get("/admin/").content.decode()
        assert "webhooks do Omie: último evento há" in dashboard and "Omie: webhooks e divergências" in dashboard
        order_page = admin_client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
        assert "Divergência: NF cancelada diretamente no Omie" in order_page
        assert status_of(order) == BillingStatus.ISSUED
    finally:
        sender.stop()


def test_an_unmatched_event_is_reprocessed_from_the_admin_once_its_order_exists(hooks, live_server, admin_client):
    from sandbox.fake_omie.services import fake_omie_delete_os_directly

    body = {"messageId": "m-late-1", "topic": "OrdemServico.Excluida", "event": {"codigoIntegracao": "1700000000000x100000000000000999"}}
    post_event(live_server, body)
    process_received()
    event = OmieWebhookEvent.objects.get(message_id="m-late-1")
    assert event.status == "UNMATCHED"

    order = due_order(bubble_id="1700000000000x100000000000000999")
    fake_omie_delete_os_directly(c_cod_int_os=order.bubble_id)
    page = admin_client.get("/admin/omie/omiewebhookevent/?status__exact=UNMATCHED&topic=OrdemServico.Excluida")
    assert page.status_code == 200 and "m-late-1" in page.content.decode()
    assert admin_client.get(f"/admin/omie/omiewebhookevent/{event.pk}/change/").status_code == 200
    answer = admin_client.post("/admin/omie/omiewebhookevent/", {"action": "reprocess", "_selected_action": [event.pk]})
    assert answer.status_code == 302
    assert OmieWebhookEvent.objects.get(pk=event.pk).status == "RECEIVED"
    process_received()
    event.refresh_from_db()
    assert event.status == "DRIFT" and event.order_id == order.pk
    assert ReconciliationDrift.objects.filter(order=order, kind="OS_DELETED_IN_OMIE").count() == 1


def test_events_whose_task_was_lost_are_published_again_by_the_sweep(hooks, settings):
    import redis

    from integrations.omie.webhooks.services import omie_webhooks_requeue

    settings.OMIE_WEBHOOK_REQUEUE_AFTER_SECONDS = 60
    old = OmieWebhookEvent.objects.create(message_id="lost-1", topic="NFSe.NotaAutorizada", payload={})
    OmieWebhookEvent.objects.create(message_id="fresh-1", topic="NFSe.NotaAutorizada", payload={})
    OmieWebhookEvent.objects.filter(pk=old.pk).update(received_at=timezone.now() - timezone.timedelta(seconds=120))
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("webhooks")  # webhook events have their own queue (common/queues.py)
    assert omie_webhooks_requeue() == 1
    messages = broker.lrange("webhooks", 0, -1)
    assert len(messages) == 1 and b"omie_webhook_process" in messages[0]
