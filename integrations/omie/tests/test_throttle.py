"""The throttle's rules in one process against the real Redis (the multi-process proofs are in
test_throttle_processes.py)."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

from integrations.omie.errors import OmieNotNow
from integrations.omie.throttle import OmieThrottle, ThrottleLimits, get_redis
from integrations.omie.types import CallClass, Outcome


@pytest.fixture
def limits() -> ThrottleLimits:
    return replace(ThrottleLimits.from_settings(), rate_per_method_per_minute=600, burst_per_method=3,
                   rate_per_key_per_minute=60_000, burst_per_key=100, redundant_seconds=60)


def _throttle(limits: ThrottleLimits, app_key: str = "key-a") -> OmieThrottle:
    return OmieThrottle(client=get_redis(), app_key=app_key, limits=limits)


def _ok() -> Outcome:
    return Outcome(CallClass.OK, http_status=200)


def test_the_bucket_grants_the_burst_then_one_call_per_interval(limits):
    throttle = _throttle(limits)
    for _ in range(3):
        throttle.finish(throttle.acquire("ListarOS"), _ok())
    with pytest.raises(OmieNotNow) as exc:
        throttle.acquire("ListarOS")
    assert exc.value.reason == "rate" and 0.05 <= exc.value.retry_after <= 0.3  # next token within 0.1 s, + spread of 2 intervals
    time.sleep(exc.value.retry_after)
    throttle.finish(throttle.acquire("ListarOS"), _ok())


def test_methods_and_app_keys_have_separate_buckets(limits):
    throttle = _throttle(limits)
    for _ in range(3):
        throttle.finish(throttle.acquire("ListarOS"), _ok())
    throttle.finish(throttle.acquire("ListarNFSEs"), _ok())
    throttle.finish(_throttle(limits, "key-b").acquire("ListarOS"), _ok())


def test_the_app_key_bucket_spans_methods(limits):
    throttle = _throttle(replace(limits, rate_per_key_per_minute=60, burst_per_key=2))
    throttle.finish(throttle.acquire("ListarOS"), _ok())
    throttle.finish(throttle.acquire("ListarNFSEs"), _ok())
    with pytest.raises(OmieNotNow) as exc:
        throttle.acquire("ConsultarOS")
    assert exc.value.reason == "rate" and exc.value.retry_after >= 0.9


def test_a_refused_call_spends_no_token(limits):
    throttle = _throttle(replace(limits, burst_per_method=1, write_concurrency=1))
    lease = throttle.acquire("IncluirOS")
    for _ in range(5):
        with pytest.raises(OmieNotNow):
            throttle.acquire("IncluirOS")  # lease taken: refused before the bucket
    throttle.finish(lease, _ok())
    time.sleep(0.11)
    throttle.acquire("IncluirOS")


def test_writes_get_one_lease_and_reads_three(limits):
    throttle = _throttle(replace(limits, burst_per_method=10))
    throttle.acquire("FaturarOS")
    with pytest.raises(OmieNotNow) as exc:
        throttle.acquire("FaturarOS")
    assert exc.value.reason == "concurrency" and exc.value.retry_after <= 0.75
    [throttle.acquire("StatusOS") for _ in range(3)]
    with pytest.raises(OmieNotNow):
        throttle.acquire("StatusOS")


def test_errors_past_the_budget_pause_the_method_and_only_it(limits):
    throttle = _throttle(replace(limits, error_budget=3, error_pause_seconds=120, error_window_seconds=60, burst_per_method=10))
    not_found = Outcome(CallClass.NOT_FOUND, http_status=500)
    for _ in range(3):
        throttle.finish(throttle.acquire("ConsultarOS"), not_found)
    with pytest.raises(OmieNotNow) as exc:
        throttle.acquire("ConsultarOS")
    assert exc.value.reason == "error_budget" and 119 <= exc.value.retry_after <= 126
    throttle.acquire("ConsultarCliente")
    state = {s.call: s for s in throttle.state()}["ConsultarOS"]
    assert (state.pause_reason, state.errors_in_window, state.error_budget) == ("error_budget", 3, 3)


def test_successes_and_unsent_calls_do_not_spend_the_budget(limits):
    throttle = _throttle(replace(limits, error_budget=2, burst_per_method=10))
    for _ in range(4):
        throttle.finish(throttle.acquire("ListarOS"), _ok())
        throttle.finish(throttle.acquire("ListarOS"), Outcome(CallClass.TRANSIENT, transport="connection"))
    throttle.acquire("ListarOS")
    assert {s.call: s for s in throttle.state()}["ListarOS"].errors_in_window == 0


def test_a_pause_is_never_shortened_and_resume_lifts_it(limits):
    throttle = _throttle(limits)
    long_end = throttle.pause("IncluirOS", seconds=600, reason="banned")
    assert throttle.pause("IncluirOS", seconds=5, reason="manual") == long_end
    with pytest.raises(OmieNotNow) as exc:
        throttle.acquire("IncluirOS")
    assert exc.value.reason == "banned" and exc.value.retry_after >= 599
    throttle.resume("IncluirOS")
    throttle.acquire("IncluirOS")


def test_the_redundant_guard_is_per_method_and_id_and_lasts_the_window(limits):
    throttle = _throttle(replace(limits, redundant_seconds=0.3, burst_per_method=10))
    throttle.finish(throttle.acquire("StatusOS", guard_id="os-1"), _ok())
    with pytest.raises(OmieNotNow) as exc:
        throttle.acquire("StatusOS", guard_id="os-1")
    assert exc.value.reason == "redundant"
    throttle.finish(throttle.acquire("StatusOS", guard_id="os-2"), _ok())
    throttle.finish(throttle.acquire("ConsultarOS", guard_id="os-1"), _ok())
    time.sleep(0.35)
    throttle.acquire("StatusOS", guard_id="os-1")


def test_the_same_id_is_not_sent_twice_at_the_same_time(limits):
    throttle = _throttle(replace(limits, burst_per_method=10))
    throttle.acquire("ConsultarOS", guard_id="os-1")  # in flight
    with pytest.raises(OmieNotNow) as exc:
        throttle.acquire("ConsultarOS", guard_id="os-1")
    assert exc.value.reason == "redundant"


def test_nothing_in_redis_names_the_app_key(limits, redis_client):
    throttle = _throttle(limits, app_key="super-secret-app-key")
    throttle.finish(throttle.acquire("ListarOS", guard_id="x"), Outcome(CallClass.NOT_FOUND, http_status=500))
    keys = [k.decode() for k in redis_client.keys("*")]
    assert keys and not any("super-secret-app-key" in k for k in keys)


def test_the_budget_pause_lasts_until_the_window_holds_fewer_errors_than_the_budget(limits):
    throttle = _throttle(replace(limits, error_budget=2, error_pause_seconds=1, error_window_seconds=300, burst_per_method=10))
    for _ in range(2):
        throttle.finish(throttle.acquire("ConsultarOS"), Outcome(CallClass.NOT_FOUND, http_status=500))
    with pytest.raises(OmieNotNow) as exc:
        throttle.acquire("ConsultarOS")
    assert 299 <= exc.value.retry_after <= 316  # a short pause would let errors pile up inside Omie's window


def test_the_next_in_line_takes_a_busy_lease_the_moment_it_is_given_back(limits):
    throttle = _throttle(replace(limits, burst_per_method=10, turn_wait_seconds=3.0, turn_waiters=1))
    lease = throttle.acquire("IncluirOS")
    releaser = threading.Timer(0.4, throttle.finish, args=(lease, _ok()))
    started = time.monotonic()
    releaser.start()
    second = throttle.acquire_in_turn("IncluirOS")
    waited = time.monotonic() - started
    assert second.call == "IncluirOS"
    assert 0.35 <= waited < 2.5  # blocked until the release, not until the end of its wait
    assert get_redis().zcard(throttle._k("IncluirOS", "waiters")) == 0  # left the line
    with pytest.raises(OmieNotNow):
        throttle.acquire("IncluirOS")  # the waiter holds the one lease now


def test_only_turn_waiters_callers_wait_the_others_are_told_at_once(limits):
    throttle = _throttle(replace(limits, burst_per_method=10, turn_wait_seconds=3.0, turn_waiters=1))
    lease = throttle.acquire("UpsertCliente")
    results: list[object] = []
    waiter = threading.Thread(target=lambda: results.append(throttle.acquire_in_turn("UpsertCliente")))
    waiter.start()
    time.sleep(0.2)  # the waiter is in line now
    started = time.monotonic()
    with pytest.raises(OmieNotNow) as exc:
        throttle.acquire_in_turn("UpsertCliente")
    assert exc.value.reason == "concurrency" and time.monotonic() - started < 0.3
    throttle.finish(lease, _ok())
    waiter.join(timeout=5)
    assert len(results) == 1 and results[0].call == "UpsertCliente"


def test_a_lease_never_given_back_ends_the_wait_with_not_now(limits):
    throttle = _throttle(replace(limits, burst_per_method=10, turn_wait_seconds=0.5, turn_waiters=1))
    throttle.acquire("FaturarOS")
    started = time.monotonic()
    with pytest.raises(OmieNotNow) as exc:
        throttle.acquire_in_turn("FaturarOS")
    assert exc.value.reason == "concurrency" and 0.45 <= time.monotonic() - started < 1.5
    assert get_redis().zcard(throttle._k("FaturarOS", "waiters")) == 0


def test_only_a_busy_lease_is_waited_for_not_a_pause(limits):
    throttle = _throttle(replace(limits, turn_wait_seconds=3.0))
    throttle.pause("IncluirOS", seconds=30)
    started = time.monotonic()
    with pytest.raises(OmieNotNow) as exc:
        throttle.acquire_in_turn("IncluirOS")
    assert exc.value.reason == "manual" and time.monotonic() - started < 0.3


def test_a_release_with_nobody_waiting_leaves_no_turn_behind(limits):
    throttle = _throttle(replace(limits, burst_per_method=10, turn_wait_seconds=3.0))
    throttle.finish(throttle.acquire("IncluirOS"), _ok())
    assert get_redis().llen(throttle._k("IncluirOS", "turns")) == 0
