"""Shared fixtures. Everything runs against the real PostgreSQL and Redis (see scripts/devstack.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import redis
from django.conf import settings

from testsupport.processes import WorkerProcess

# Fixtures for the fake external systems (fake_bubble, fake_brasilapi, broken_server).
pytest_plugins = ["testsupport.fake_systems", "testsupport.fake_omie_fixtures"]


@pytest.fixture(autouse=True)
def _clean_redis() -> Iterator[None]:
    """Each test starts with an empty test Redis database (throttle state, queues, caches)."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    yield
    client.close()


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(settings.REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def user_factory(db: None) -> Callable[..., object]:
    from django.contrib.auth import get_user_model

    def make(username: str = "ops", password: str = "s3nha-forte-123", **extra: object) -> object:
        email = f"{username}@example.com"
        return get_user_model().objects.create_user(username=username, password=password, email=email, **extra)

    return make


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def auth_client(api_client, user_factory):
    """An API client authenticated as Bubble's service user, set up as docs/deploying.md says: a plain
    user (no staff, no superuser) in the service group, with the group's permissions only. A superuser
    here once hid that the group lacked ``orders.add_order`` (403 on sync-omie)."""
    from rest_framework_simplejwt.tokens import AccessToken

    from common.api.auth import service_group_add

    user = service_group_add(user_factory("bubble"))
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    api_client.user = user
    return api_client


@pytest.fixture
def celery_worker_process(transactional_db: None) -> Iterator[Callable[..., WorkerProcess]]:
    """Starts real workers on demand; every one is stopped at the end of the test."""
    started: list[WorkerProcess] = []

    def start(**kwargs: object) -> WorkerProcess:
        worker = WorkerProcess(**kwargs).start()  # type: ignore[arg-type]
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
