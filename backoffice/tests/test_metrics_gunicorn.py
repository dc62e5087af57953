"""/metrics under gunicorn with several workers: the request counters are the sum over every worker
(prometheus-client's multiprocess mode, set up by config/gunicorn.py), whichever worker answers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from testsupport.processes import ROOT, free_port, subprocess_env, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TOKEN = "gunicorn-metrics-token-0123456789"


@pytest.fixture
def gunicorn(tmp_path):
    port = free_port()
    env = subprocess_env(METRICS_TOKEN=TOKEN, PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prom"))
    log = open(tmp_path / "gunicorn.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "python:config.gunicorn", "config.wsgi", "--bind",
                             f"127.0.0.1:{port}", "--workers", "3"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)

    def live() -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{port}/health/live", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    wait_for(live, timeout=60, interval=0.3, message="gunicorn did not start")
    yield f"http://127.0.0.1:{port}"
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(30)
    log.close()


def _ok_responses(base: str) -> float:
    body = requests.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10).text
    return sum(s.value for f in text_string_to_metric_families(body) for s in f.samples
               if s.name == "django_http_responses_total_by_status_total" and s.labels.get("status") == "200")


def test_every_worker_s_requests_are_counted_whichever_worker_answers(gunicorn):
    before = _ok_responses(gunicorn)
    session = requests.Session()
    for _ in range(60):
        requests.get(f"{gunicorn}/health/live", timeout=5)  # a new connection each time: spread over the workers
    session.close()
    # Each /metrics answer (from any of the 3 workers) sees all 60, plus the earlier /metrics answers themselves.
    for _ in range(5):
        assert _ok_responses(gunicorn) >= before + 60
    # And the system's metrics come along in the same answer.
    body = requests.get(f"{gunicorn}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10).text
    assert "blu_celery_queue_length" in body and "blu_omie_throttle_paused" in body
    assert requests.get(f"{gunicorn}/metrics", timeout=10).status_code == 401
