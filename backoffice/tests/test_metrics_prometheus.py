"""Acceptance of the metrics with a real Prometheus (Debian's package) scraping a running web (the live
server) and Flower, with a real Celery worker doing a sync and a billing against the fake Omie and Bubble.

Prometheus runs the repository's deploy/prometheus/prometheus.yml and alerts.yml; only the targets, the
token file's path, the intervals (1 s) and the rules' ``for`` (minutes read as seconds) are changed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
import yaml
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from billing.models import Invoice
from billing.tests.conftest import FAST_BILLING
from billing.tests.factories import order_in_state
from common.api.auth import service_group_add
from orders.models import Order
from orders.statuses import BillingStatus, SyncStatus
from testsupport.processes import ROOT, free_port, subprocess_env, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

TOKEN = "prometheus-acceptance-token-0123456789"
PROM = ROOT / "deploy" / "prometheus"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: `apt-get install -y prometheus` (`make test` does it when run as root)")
    return path


class Prometheus:
    def __init__(self, directory: Path, *, web: str, flower: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "token").write_text(TOKEN)
        # The repository's rules, with their `for` in seconds instead of minutes (fast motion).
        rules = re.sub(r"for: (\d+)([mh])", lambda m: f"for: {int(m.group(1)) * (60 if m.group(2) == 'h' else 1)}s",
                       (PROM / "alerts.yml").read_text())
        (directory / "alerts.yml").write_text(rules)
        config = yaml.safe_load((PROM / "prometheus.yml").read_text())
        config["global"].update(scrape_interval="1s", evaluation_interval="1s")
        config["rule_files"] = [str(directory / "alerts.yml")]
        jobs = {job["job_name"]: job for job in config["scrape_configs"]}
        jobs["blu-web"]["static_configs"] = [{"targets": [web]}]
        jobs["blu-web"]["authorization"]["credentials_file"] = str(directory / "token")
        jobs["blu-flower"]["static_configs"] = [{"targets": [flower]}]
        jobs["prometheus"]["static_configs"] = [{"targets": [f"127.0.0.1:{self.port}"]}]
        # The same target without the token: proves the scrape needs it.
        anonymous = {k: v for k, v in jobs["blu-web"].items() if k != "authorization"}
        config["scrape_configs"].append({**anonymous, "job_name": "blu-web-anonymous"})
        (directory / "prometheus.yml").write_text(yaml.safe_dump(config))
        self.log = open(directory / "prometheus.log", "wb")
        self.proc = subprocess.Popen(
            [_tool("prometheus"), f"--config.file={directory / 'prometheus.yml'}", f"--storage.tsdb.path={directory / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_for(self._ready, timeout=30, interval=0.2, message="prometheus did not start")

    def _ready(self) -> bool:
        try:
            return requests.get(f"{self.url}/-/ready", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def query(self, expr: str) -> list[dict]:
        body = requests.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=5).json()
        assert body["status"] == "success", body
        return body["data"]["result"]

    def value(self, expr: str) -> float | None:
        result = self.query(expr)
        return float(result[0]["value"][1]) if result else None

    def alert_state(self, name: str) -> str | None:
        states = {r["metric"]["alertstate"] for r in self.query(f'ALERTS{{alertname="{name}"}}')}
        return "firing" if "firing" in states else ("pending" if states else None)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(20)
        self.log.close()


class Flower:
    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.log = open(directory / "flower.log", "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "flower", f"--port={self.port}", "--address=127.0.0.1",
             "--url_prefix=flower"],
            cwd=ROOT, env=subprocess_env(), stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_for(self._ready, timeout=60, interval=0.3, message="flower did not start")

    def _ready(self) -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{self.port}/flower/metrics", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def stop(self) -> None:
        import os
        import signal

        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(20)
        self.log.close()


@pytest.fixture
def stack(sandbox, live_server, celery_worker_process, settings, tmp_path, user_factory):
    settings.METRICS_TOKEN = TOKEN
    for name, value in FAST_BILLING.items():
        setattr(settings, name, value)
    sandbox.omie.reset(redundant_on=False, time_scale=0.01)
    celery_worker_process(queues="default,omie,bubble", concurrency=2,
                          **sandbox.worker_env(METRICS_TOKEN=TOKEN, **FAST_BILLING))
    flower = Flower(tmp_path)
    prometheus = Prometheus(tmp_path, web=live_server.url.removeprefix("http://"), flower=f"127.0.0.1:{flower.port}")
    user = service_group_add(user_factory("bubble", is_superuser=True, is_staff=True))
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {AccessToken.for_user(user)}"
    yield sandbox, prometheus, api, live_server.url
    api.close()
    prometheus.stop()
    flower.stop()


def _snapshot_now(prometheus: Prometheus) -> None:
    """Has the worker recompute the business gauges, and waits until Prometheus scraped the new ones."""
    from backoffice.tasks import metrics_snapshot

    before = prometheus.value("blu_domain_snapshot_timestamp_seconds") or 0
    metrics_snapshot.delay()
    wait_for(lambda: (prometheus.value("blu_domain_snapshot_timestamp_seconds") or 0) > before, timeout=30, interval=0.3,
             message="the new snapshot never reached Prometheus")


def test_prometheus_scrapes_the_counters_the_business_gauges_and_the_alerts(stack):
    sandbox, prometheus, api, url = stack
    wait_for(lambda: prometheus.value('up{job="blu-web"}') == 1, timeout=20, message="Prometheus never scraped /metrics")

    # The scrape is authenticated: the same target without the token is refused.
    wait_for(lambda: prometheus.value('up{job="blu-web-anonymous"}') == 0, timeout=20)
    anonymous = [t for t in requests.get(f"{prometheus.url}/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
                 if t["labels"]["job"] == "blu-web-anonymous"]
    assert "401" in anonymous[0]["lastError"]

    # A sync, then the same order billed on its day.
    order_id = sandbox.seed(kind="PJ")
    assert api.post(f"{url}/v1/orders/{order_id}/sync-omie", json={}, timeout=30).status_code == 202
    wait_for(lambda: Order.objects.get(bubble_id=order_id).sync_status == SyncStatus.SYNCED, timeout=60, message="sync did not finish")
    Order.objects.filter(bubble_id=order_id).update(billing_scheduled_for=timezone.localdate())
    from billing.tasks import billing_day_run

    billing_day_run.delay()
    wait_for(lambda: Order.objects.get(bubble_id=order_id).billing_status == BillingStatus.ISSUED, timeout=90, interval=0.5,
             message="billing did not issue the NFS-e")

    # The counters moved: our Omie calls and Flower's task events.
    wait_for(lambda: (prometheus.value('sum(blu_omie_calls_total{method="IncluirOS",outcome="ok"})') or 0) >= 1, timeout=20)
    wait_for(lambda: (prometheus.value('sum(blu_omie_calls_total{method="FaturarOS",outcome="ok"})') or 0) >= 1, timeout=20)
    wait_for(lambda: (prometheus.value('sum(flower_events_total{type="task-succeeded",task="billing.tasks.billing_day_run"})') or 0) >= 1,
             timeout=30, message="Flower's task counters never reached Prometheus")
    assert (prometheus.value("sum(django_http_responses_total_by_status_total)") or 0) > 0
    assert prometheus.value("blu_celery_workers_consuming") == 1
    # The worker's signal handlers wrote the periodic task's heartbeat.
    ran_at = prometheus.value('blu_periodic_task_last_success_timestamp_seconds{task="billing.tasks.billing_day_run"}')
    assert ran_at is not None and time.time() - ran_at < 300

    # The business gauges show what the database holds.
    _snapshot_now(prometheus)
    assert prometheus.value('blu_orders{sync_status="SYNCED"}') == Order.objects.filter(sync_status=SyncStatus.SYNCED).count() == 1
    assert prometheus.value('blu_invoices{status="ISSUED"}') == 1
    assert prometheus.value("blu_billing_nfse_issued_today") == 1
    assert prometheus.value("blu_billing_os_billed_today") == 1
    assert prometheus.value("blu_invoices_billed_without_nfse") == 0

    # An invoice billed 40 min ago still without its NFS-e number: "invoice stuck" pending, then firing after its `for`.
    stuck = order_in_state(BillingStatus.ISSUING, customer_bubble_id="1671702337369x100000000000000099")
    Invoice.objects.filter(order=stuck).update(faturar_accepted_at=timezone.now() - timedelta(minutes=40), next_step="", next_poll_at=None)
    assert prometheus.alert_state("InvoiceStuck") is None
    _snapshot_now(prometheus)
    assert prometheus.value("blu_invoices_billed_without_nfse") == 1
    became_true = time.monotonic()
    wait_for(lambda: prometheus.alert_state("InvoiceStuck") == "pending", timeout=5)
    wait_for(lambda: prometheus.alert_state("InvoiceStuck") == "firing", timeout=15, interval=0.2)
    assert time.monotonic() - became_true >= 4  # its `for` (5 min, here 5 s) was waited

    # Omie bans a method: the throttle pauses it and the "Omie banned" expression is true within 2 scrapes.
    sandbox.omie.ban("UpsertCliente", seconds=600)
    second = sandbox.seed(kind="PJ")
    assert api.post(f"{url}/v1/orders/{second}/sync-omie", json={}, timeout=30).status_code == 202
    from integrations.omie.throttle import get_throttle

    wait_for(lambda: any(s.pause_reason == "banned" for s in get_throttle().state(("UpsertCliente",))), timeout=30, interval=0.05,
             message="the 425 never paused the throttle")
    paused_at = time.monotonic()
    banned = 'max by (method) (blu_omie_throttle_paused{reason="banned"}) == 1'
    wait_for(lambda: prometheus.query(banned), timeout=10, interval=0.1)
    assert time.monotonic() - paused_at <= 2 * 1.0 + 1.0  # two 1 s scrapes, plus the query's own staleness
    assert prometheus.query(banned)[0]["metric"]["method"] == "UpsertCliente"
    wait_for(lambda: prometheus.alert_state("OmieBanned") == "firing", timeout=10)
    assert (prometheus.value('sum(blu_omie_calls_total{method="UpsertCliente",outcome="banned"})') or 0) >= 1
