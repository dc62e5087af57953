"""The central BrasilAPI rate limit across processes, against the real Redis."""

import itertools
import multiprocessing
import time

import pytest
import redis

from integrations.brasilapi.ratelimit import RateLimiter

KEY = "blu:test:brasilapi-rate"


def _hammer(url: str, rate: float, seconds: float, results) -> None:
    """Runs in a separate process: tries to call as often as it can, records the granted times."""
    limiter = RateLimiter(redis.Redis.from_url(url), KEY, rate)
    granted, refused = [], 0
    deadline = time.time() + seconds
    while time.time() < deadline:
        decision = limiter.acquire()
        if decision.allowed:
            granted.append(decision.at)
        else:
            refused += 1
            assert 0 < decision.retry_after <= 1 / rate
            time.sleep(min(decision.retry_after, 0.01))  # the test's own pacing, not the limiter's
    results.put((granted, refused))


@pytest.mark.slow
@pytest.mark.parametrize("rate", [1.0, 5.0])
def test_processes_sharing_the_limit_never_exceed_it_in_any_second(settings, rate):
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    seconds = 3.5
    workers = [context.Process(target=_hammer, args=(settings.REDIS_URL, rate, seconds, results)) for _ in range(4)]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0

    granted = sorted(t for times, _ in outcomes for t in times)
    refused = sum(r for _, r in outcomes)
    assert refused > 0, "the processes never competed"
    assert sum(1 for times, _ in outcomes if times) >= 2, "only one process ever got a slot"
    # GCRA without burst: consecutive grants (Redis clock) are at least 1/rate apart, so any
    # one-second window holds at most `rate` calls.
    gaps = [b - a for a, b in itertools.pairwise(granted)]
    assert min(gaps) >= 1 / rate - 1e-6
    for i, start in enumerate(granted):
        assert sum(1 for t in granted[i:] if t < start + 1.0) <= rate
    # and the limit is used, not starved: about seconds × rate grants
    assert len(granted) >= int(seconds * rate) - 1


def test_pause_holds_every_caller_off(redis_client):
    limiter = RateLimiter(redis_client, KEY, 100.0)
    assert limiter.acquire().allowed
    limiter.pause(2.0)
    decision = limiter.acquire()
    assert not decision.allowed and 1.9 < decision.retry_after <= 2.0
    # a shorter pause never shortens a longer one
    limiter.pause(0.1)
    assert limiter.acquire().retry_after > 1.5


def test_the_key_expires_so_an_idle_limiter_leaves_nothing_behind(redis_client):
    limiter = RateLimiter(redis_client, KEY, 1.0)
    limiter.acquire()
    assert 0 < redis_client.pttl(KEY) <= 2000


def test_a_rate_must_be_positive(redis_client):
    with pytest.raises(ValueError):
        RateLimiter(redis_client, KEY, 0)
