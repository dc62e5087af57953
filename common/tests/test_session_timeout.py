"""Admin sessions: 8 h absolute, 1 h idle (before: 14 days, no idle limit)."""

from __future__ import annotations

import pytest
from django.conf import settings

from common.session_timeout import SEEN, STARTED

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, user_factory):
    client.force_login(user_factory("chefe", is_staff=True, is_superuser=True))
    assert client.get("/admin/").status_code == 200
    return client


def _shift(client, **seconds_ago: float) -> None:
    session = client.session
    for key, ago in seconds_ago.items():
        session[key] = session[key] - ago
    session.save()


def test_the_defaults_are_8_hours_absolute_and_1_hour_idle():
    assert (settings.SESSION_ABSOLUTE_SECONDS, settings.SESSION_IDLE_SECONDS, settings.SESSION_COOKIE_AGE) == (28800, 3600, 28800)


def test_an_idle_session_is_logged_out(staff_client):
    _shift(staff_client, **{SEEN: 3601, STARTED: 3601})
    response = staff_client.get("/admin/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_an_active_session_still_ends_after_the_absolute_limit(staff_client):
    _shift(staff_client, **{STARTED: 8 * 3600 + 1})  # seen a moment ago
    response = staff_client.get("/admin/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_session_used_within_the_limits_stays(staff_client):
    _shift(staff_client, **{STARTED: 7 * 3600, SEEN: 3000})
    assert staff_client.get("/admin/").status_code == 200
    assert staff_client.get("/admin/").status_code == 200  # the request above renewed the idle clock


def test_the_limits_are_configurable(staff_client, settings):
    settings.SESSION_IDLE_SECONDS = 60
    _shift(staff_client, **{SEEN: 61, STARTED: 61})
    assert staff_client.get("/admin/").status_code == 302
