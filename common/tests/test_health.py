import pytest

from common.health import record_beat_heartbeat

pytestmark = pytest.mark.django_db


def test_live_is_200(client):
    response = client.get("/health/live")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_ready_is_200_when_every_dependency_answers(client):
    record_beat_heartbeat()
    response = client.get("/health/ready")
    assert response.status_code == 200, response.json()
    checks = response.json()["checks"]
    assert {name: c["status"] for name, c in checks.items()} == {"database": "ok", "redis": "ok", "broker": "ok", "beat": "ok"}


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
