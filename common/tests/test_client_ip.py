"""X-Forwarded-For is believed only from TRUSTED_PROXIES (second security review: straight to gunicorn,
a rotating X-Forwarded-For bypassed the login lockout and the DRF throttle)."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from common.client_ip import client_address, client_ip

PASSWORD = "s3nha-forte-123"
PROXIES = ["10.0.0.0/8", "192.0.2.10"]


def _request(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@pytest.mark.parametrize(
    ("remote", "forwarded", "client"),
    [
        ("203.0.113.7", "6.6.6.6", "203.0.113.7"),  # an untrusted peer's header is ignored
        ("10.1.2.3", "198.51.100.4", "198.51.100.4"),  # nginx (in a trusted CIDR) says who it saw
        ("10.1.2.3", "6.6.6.6, 198.51.100.4", "198.51.100.4"),  # what the client wrote, left of it, is ignored
        ("10.1.2.3", "6.6.6.6, 198.51.100.4, 192.0.2.10", "198.51.100.4"),  # two trusted hops (balancer, nginx)
        ("10.1.2.3", "not-an-ip, 10.9.9.9", "10.9.9.9"),  # garbage behind trusted hops: the last trusted hop
        ("10.1.2.3", None, "10.1.2.3"),  # a trusted peer without the header is itself the client
        ("::ffff:203.0.113.7", "6.6.6.6", "203.0.113.7"),  # IPv4 through an IPv6 socket
    ],
)
def test_the_client_is_the_rightmost_address_not_written_by_a_trusted_proxy(settings, remote, forwarded, client):
    settings.TRUSTED_PROXIES = PROXIES
    assert client_ip(_request(remote, forwarded)) == client


def test_without_trusted_proxies_the_header_is_never_believed(settings):
    settings.TRUSTED_PROXIES = []
    assert client_ip(_request("127.0.0.1", "6.6.6.6")) == "127.0.0.1"
    assert client_address(_request("garbage", "6.6.6.6")) is None


def _token_post(api_client, password: str, remote: str, forwarded: str):
    return api_client.post("/v1/auth/token/", {"username": "alice", "password": password}, format="json",
                           REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)


@pytest.mark.django_db
def test_straight_to_gunicorn_a_rotating_forwarded_for_buys_no_attempts(api_client, user_factory, settings):
    """Production's default trusts only private ranges: a public peer's header is ignored by axes and DRF."""
    settings.TRUSTED_PROXIES = PROXIES
    settings.AXES_FAILURE_LIMIT = 1000  # the throttle first
    user_factory("alice")
    statuses = [_token_post(api_client, f"errada-{n}", "203.0.113.7", f"198.51.100.{n}").status_code for n in range(12)]
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]


@pytest.mark.django_db
def test_straight_to_gunicorn_a_rotating_forwarded_for_does_not_escape_the_lockout(api_client, user_factory, settings):
    settings.TRUSTED_PROXIES = PROXIES
    user_factory("alice")
    for n in range(5):
        _token_post(api_client, "errada", "203.0.113.7", f"198.51.100.{n}")
    assert _token_post(api_client, PASSWORD, "203.0.113.7", "198.51.100.200").status_code != 200


@pytest.mark.django_db
def test_behind_a_trusted_proxy_each_client_has_its_own_lockout(api_client, user_factory, settings):
    """One shared proxy address must not lock everyone out: the lockout counts the client nginx saw."""
    from common.api.auth import service_group_add

    settings.TRUSTED_PROXIES = PROXIES
    service_group_add(user_factory("alice"))  # only the service group gets API tokens
    for _ in range(5):
        _token_post(api_client, "errada", "10.1.2.3", "198.51.100.66")
    assert _token_post(api_client, PASSWORD, "10.1.2.3", "198.51.100.66").status_code != 200  # the attacker is locked out
    assert _token_post(api_client, PASSWORD, "10.1.2.3", "198.51.100.77").status_code == 200  # another client is not

