from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken


def run_in_threads(count: int, target: Callable[[int], Any]) -> list[Any]:
    """Runs ``target(i)`` in ``count`` threads released at the same instant; each has its own DB connection."""
    from django.db import connection

    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def body(i: int) -> None:
        try:
            barrier.wait()
            results[i] = target(i)
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


@pytest.fixture
def client_in_group(user_factory) -> Callable[[str | None], APIClient]:
    """An API client for a staff user in the given group (``None``: no group, no permission)."""

    def make(group: str | None) -> APIClient:
        user = user_factory(f"user-{group or 'none'}".lower(), is_staff=True)
        if group:
            user.groups.add(Group.objects.get(name=group))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
        client.user = user
        return client

    return make
