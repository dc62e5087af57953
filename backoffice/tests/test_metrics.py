"""/metrics against the real PostgreSQL and Redis: protection, the business numbers, the live Redis readings
and the rule that no label carries personal data, a token or an order id (docs/observability.md)."""

from __future__ import annotations

import base64
import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from backoffice.metrics.snapshot import domain_snapshot_write, rejection_code
from billing.models import Invoice
from billing.tests.factories import OrderFactory, order_in_state
from common.metrics.counters import counter_add
from common.metrics.periodic_runs import on_task_end, on_task_start
from common.worker_liveness import record_consumption
from integrations.bubble.models import BubbleWriteback
from orders.statuses import BillingStatus

pytestmark = pytest.mark.django_db

TOKEN = "metrics-test-token-0123456789abcdef"


@pytest.fixture(autouse=True)
def _metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_BASIC_AUTH = "prometheus:s3nha-das-metricas"


def scrape(client) -> dict[str, list[tuple[dict[str, str], float]]]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content[:300]
    series: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            series.setdefault(sample.name, []).append((sample.labels, sample.value))
    return series


def value(series, name: str, **labels: str) -> float:
    matches = [v for lab, v in series.get(name, []) if all(lab.get(k) == x for k, x in labels.items())]
    assert matches, f"{name}{labels} not exported; has {series.get(name)}"
    return sum(matches)


def test_without_credentials_it_is_401_and_with_the_wrong_token_too(client):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"prometheus:errada").decode()).status_code == 401


def test_the_token_and_basic_auth_both_open_it(client):
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    basic = base64.b64encode(b"prometheus:s3nha-das-metricas").decode()
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {basic}")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")


def test_with_no_credentials_configured_it_does_not_exist(client, settings):
    settings.METRICS_TOKEN = settings.METRICS_BASIC_AUTH = ""
    settings.DEBUG = False
    assert client.get("/metrics").status_code == 404


def test_the_business_gauges_count_what_is_in_the_database(client, redis_client):
    now = timezone.now()
    OrderFactory.create_batch(3)  # synced, scheduled for today
    OrderFactory(unsynced=True)
    order_in_state(BillingStatus.ON_HOLD)
    stuck = order_in_state(BillingStatus.ISSUING)
    Invoice.objects.filter(order=stuck).update(faturar_accepted_at=now - timedelta(minutes=45), created_at=now - timedelta(minutes=50),
                                                faturar_requested_at=now - timedelta(minutes=46))
    order_in_state(BillingStatus.ISSUING)  # billed just now: not stuck yet
    order_in_state(BillingStatus.FAILED)  # E0314 from the city hall
    order_in_state(BillingStatus.ISSUED)
    BubbleWriteback.objects.create(thing="order", bubble_id="1x1", status="DEAD", give_up_at=now)
    BubbleWriteback.objects.create(thing="order", bubble_id="1x2", status="PENDING", give_up_at=now, created_at=now - timedelta(minutes=20))

    domain_snapshot_write(client=redis_client)
    series = scrape(client)

    assert value(series, "blu_orders", sync_status="SYNCED") == 8
    assert value(series, "blu_orders", sync_status="PENDING") == 1
    assert value(series, "blu_invoices", status="ISSUING") == 2
    assert value(series, "blu_invoices_billed_without_nfse") == 1
    assert 2700 < value(series, "blu_invoice_issuing_oldest_age_seconds") < 2820  # since its last emission request, 46 min ago
    assert value(series, "blu_invoice_rejections_24h", code="E0314") == 1
    assert value(series, "blu_invoices_issued_1h") == 1
    assert value(series, "blu_holds_awaiting_approval", reason="AMOUNT") == 1
    assert value(series, "blu_bubble_outbox", status="DEAD") == 1
    assert 1150 < value(series, "blu_bubble_outbox_oldest_age_seconds") < 1300
    assert value(series, "blu_billing_orders_due_today") == 8  # every synced order of the factory is due today
    assert value(series, "blu_billing_nfse_issued_today") == 1
    assert time.time() - value(series, "blu_domain_snapshot_timestamp_seconds") < 60


def test_an_omie_ban_shows_as_paused_with_its_reason_and_time_left(client):
    from integrations.omie.throttle import get_throttle

    get_throttle().pause("FaturarOS", seconds=900, reason="banned")
    series = scrape(client)
    assert value(series, "blu_omie_throttle_paused", method="FaturarOS", reason="banned") == 1
    assert value(series, "blu_omie_throttle_paused", method="StatusOS") == 0
    assert 880 < value(series, "blu_omie_throttle_pause_remaining_seconds", method="FaturarOS") <= 900


def test_queues_workers_beat_and_periodic_runs_come_from_redis(client, redis_client, settings):
    for _ in range(4):
        redis_client.lpush("omie", b"{}")
    record_consumption(redis_client, "worker@a", time.time() - 5)
    record_consumption(redis_client, "worker@b", time.time() - 500)
    on_task_start("billing.tasks.billing_day_run", "t1")
    on_task_end("billing.tasks.billing_day_run", "t1", ok=True)
    on_task_start("billing.tasks.billing_due_sweep", "t2")
    on_task_end("billing.tasks.billing_due_sweep", "t2", ok=False)
    on_task_start("common.tasks.ping", "t3")  # not periodic: no series

    series = scrape(client)
    assert value(series, "blu_celery_queue_length", queue="omie") == 4
    assert value(series, "blu_celery_queue_length", queue="bubble") == 0
    assert value(series, "blu_celery_workers_consuming") == 1
    assert value(series, "blu_celery_worker_consumption_age_seconds", worker="worker@b") > 400
    assert time.time() - value(series, "blu_periodic_task_last_success_timestamp_seconds", task="billing.tasks.billing_day_run") < 60
    assert "billing.tasks.billing_due_sweep" in {lab["task"] for lab, _ in series["blu_periodic_task_last_failure_timestamp_seconds"]}
    assert "common.tasks.ping" not in {lab["task"] for lab, _ in series["blu_periodic_task_last_start_timestamp_seconds"]}
    assert value(series, "blu_periodic_task_interval_seconds", task="billing.tasks.invoices_dispatch") == 30


def test_counters_from_every_process_add_up(client):
    for _ in range(3):
        counter_add("blu_omie_calls", {"method": "FaturarOS", "outcome": "banned"})
    counter_add("blu_webhook_auth_failures", {"source": "pagarme"})
    series = scrape(client)
    assert value(series, "blu_omie_calls_total", method="FaturarOS", outcome="banned") == 3
    assert value(series, "blu_webhook_auth_failures_total", source="pagarme") == 1


def test_a_refused_pagarme_webhook_is_counted(client, settings):
    settings.PAGARME_WEBHOOK_SECRET = "s3gredo-do-pagarme-para-teste"
    response = client.post("/webhooks/pagarme", data=b'{"id": "hook_1"}', content_type="application/json")
    assert response.status_code == 401
    assert value(scrape(client), "blu_webhook_auth_failures_total", source="pagarme") == 1


def test_a_broken_source_is_reported_not_fatal(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    series = scrape(client)
    assert value(series, "blu_metrics_collector_up", collector="CeleryCollector") == 0
    assert value(series, "blu_metrics_collector_up", collector="OmieThrottleCollector") == 1


_DOCUMENT = re.compile(r"\d{11}|\d{14}|\d{3}\.\d{3}\.\d{3}-\d{2}|\d{2}\.\d{3}\.\d{3}/\d{4}-\d{2}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}")


def test_no_label_carries_a_document_email_token_or_order_id(client, redis_client, settings):
    # Ids no version number or count could be confused with.
    states = (BillingStatus.ON_HOLD, BillingStatus.ISSUING, BillingStatus.FAILED, BillingStatus.ISSUED)
    orders = [order_in_state(s, id=987_654_321 + i) for i, s in enumerate(states)]
    OrderFactory(pf_unpaid=True)
    Invoice.objects.filter(status=BillingStatus.FAILED).update(city_hall_message="11222333000181 documento inválido")
    domain_snapshot_write(client=redis_client)
    counter_add("blu_omie_calls", {"method": "IncluirOS", "outcome": "ok"})
    body = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
    forbidden = {TOKEN, settings.OMIE_APP_KEY, *(o.bubble_id for o in orders), *(str(o.pk) for o in orders)}
    labels_seen = 0
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            for name, label in sample.labels.items():
                labels_seen += 1
                assert not _DOCUMENT.search(label), (sample.name, name, label)
                assert not _EMAIL.search(label), (sample.name, name, label)
                assert label not in forbidden, (sample.name, name, label)
    assert labels_seen > 50


@pytest.mark.parametrize(("message", "code"), [("E0314 CNAE inválido", "E0314"), ("Código 160: alíquota", "160"),
                                               ("documento 11222333000181 inválido", "sem_codigo"), ("", "sem_codigo")])
def test_only_a_short_leading_code_becomes_a_label(message, code):
    assert rejection_code(message) == code


def test_the_admin_dashboard_links_to_grafana_only_when_configured(client, user_factory, settings):
    client.force_login(user_factory("chefe", is_staff=True, is_superuser=True))
    settings.GRAFANA_URL = ""
    assert "Abrir o Grafana" not in client.get("/admin/").content.decode()
    settings.GRAFANA_URL = "https://grafana.example.com/d/blu-omie"
    assert 'href="https://grafana.example.com/d/blu-omie"' in client.get("/admin/").content.decode()
