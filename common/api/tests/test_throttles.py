"""The API throttle counts atomically in real Redis (second security review: 1,260 concurrent calls on a
1,200/min limit, 1,242 accepted, because DRF's throttle reads, appends and writes its history back)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
from rest_framework.throttling import SimpleRateThrottle

from common.api.throttles import AuthRateThrottle, TokenRateThrottle

CALLS, LIMIT, THREADS = 1260, 1200, 16


def _request(jti: str) -> SimpleNamespace:
    user = SimpleNamespace(is_authenticated=True, pk=1)
    return SimpleNamespace(user=user, auth={"jti": jti}, META={"REMOTE_ADDR": "203.0.113.7"})


def _concurrent_accepted(throttle_class: type[SimpleRateThrottle], calls: int = CALLS) -> int:
    """``calls`` requests of one token, from THREADS threads released together; how many were let through."""
    start = threading.Barrier(THREADS)
    request = _request("jti-concurrent")

    def worker(share: int) -> int:
        start.wait()
        return sum(throttle_class().allow_request(request, None) for _ in range(share))

    shares = [calls // THREADS + (1 if n < calls % THREADS else 0) for n in range(THREADS)]
    with ThreadPoolExecutor(THREADS) as pool:
        return sum(pool.map(worker, shares))


@pytest.fixture
def token_rate(monkeypatch):
    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {**TokenRateThrottle.THROTTLE_RATES, "token": f"{LIMIT}/min"})


def test_1260_concurrent_calls_on_a_1200_per_minute_limit_accept_exactly_1200(token_rate, redis_client):
    accepted = _concurrent_accepted(TokenRateThrottle)
    print(f"atomic throttle: {accepted} of {CALLS} concurrent calls accepted on {LIMIT}/min")
    assert accepted == LIMIT
    assert TokenRateThrottle().allow_request(_request("jti-concurrent"), None) is False
    assert TokenRateThrottle().allow_request(_request("another-token"), None) is True  # per token


def test_the_refusal_says_when_the_window_closes(token_rate):
    for _ in range(LIMIT):
        TokenRateThrottle().allow_request(_request("jti-wait"), None)
    throttle = TokenRateThrottle()
    assert throttle.allow_request(_request("jti-wait"), None) is False
    assert 0 < throttle.wait() <= 60


def test_the_window_ends_and_the_token_is_served_again(monkeypatch, redis_client):
    monkeypatch.setattr(AuthRateThrottle, "THROTTLE_RATES", {**AuthRateThrottle.THROTTLE_RATES, "auth": "2/s"})
    request = _request("unused")
    assert [AuthRateThrottle().allow_request(request, None) for _ in range(3)] == [True, True, False]
    keys = redis_client.keys("blu:throttle_auth_*")
    assert keys and 0 < redis_client.pttl(keys[0]) <= 1000  # the counter expires with its window
    threading.Event().wait(1.1)
    assert AuthRateThrottle().allow_request(request, None) is True


def test_drfs_own_throttle_lets_more_through_which_is_why_it_is_replaced(settings):
    """The baseline: DRF's read-append-write throttle, on the same Redis (through Django's cache), same load."""

    class DrfThrottle(SimpleRateThrottle):
        scope = "token"
        THROTTLE_RATES = {"token": f"{LIMIT}/min"}

        def get_cache_key(self, request: object, view: object) -> str:
            return "drf-baseline"

    accepted = _concurrent_accepted(DrfThrottle)
    print(f"DRF SimpleRateThrottle: {accepted} of {CALLS} concurrent calls accepted on {LIMIT}/min")
    assert accepted > LIMIT  # lost updates: concurrent requests read the same history and all pass
