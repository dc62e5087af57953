import time

import pytest

from common.health import record_beat_heartbeat
from common.worker_liveness import record_consumption

pytestmark = pytest.mark.django_db


def test_live_is_200(client):
    response = client.get("/health/live")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_ready_is_200_when_every_dependency_answers(client, redis_client):
    record_beat_heartbeat()
    record_consumption(redis_client, "worker@a", time.time() - 5)
    response = client.get("/health/ready")
    assert response.status_code == 200, response.json()
    checks = response.json()["checks"]
    assert {name: c["status"] for name, c in checks.items()} == {
        "database": "ok", "redis": "ok", "broker": "ok", "beat": "ok", "workers": "ok"}
    assert checks["workers"]["consuming"] == 1


def test_ready_is_503_naming_workers_when_none_proved_consumption(client):
    record_beat_heartbeat()
    response = client.get("/health/ready")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["workers"]["status"] == "error" and "nenhum worker" in checks["workers"]["message"]
    assert checks["beat"]["status"] == "ok" and checks["redis"]["status"] == "ok"


def test_ready_is_503_when_the_last_consumption_proof_is_too_old(client, redis_client, settings):
    settings.WORKER_CONSUMING_MAX_AGE_SECONDS = 60
    record_beat_heartbeat()
    record_consumption(redis_client, "worker@a", time.time() - 61)
    record_consumption(redis_client, "worker@b", time.time() - 300)
    response = client.get("/health/ready")
    assert response.status_code == 503
    workers = response.json()["checks"]["workers"]
    assert workers["status"] == "error" and workers["age_seconds"] >= 61
    record_consumption(redis_client, "worker@b", time.time())  # one fresh worker is enough
    assert client.get("/health/ready").status_code == 200


def test_ready_is_503_naming_beat_when_it_never_beat(client):
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["beat"]["status"] == "error"
    assert response.json()["checks"]["database"]["status"] == "ok"


def test_ready_is_503_naming_redis_when_redis_is_unreachable(client, settings):
    record_beat_heartbeat()
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/health/ready")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["redis"]["status"] == "error"
    assert checks["broker"]["status"] == "error"
    assert checks["database"]["status"] == "ok"
