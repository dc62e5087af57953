"""The line of a write method (``acquire_in_turn(place=…)``): first come, first served by the place's
score, against the real Redis — threads, forked processes, and a SIGKILLed holder."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import threading
import time
from dataclasses import replace

import pytest

from integrations.omie.errors import OmieNotNow
from integrations.omie.throttle import LinePlace, OmieThrottle, ThrottleLimits, get_redis
from integrations.omie.types import CallClass, Outcome


@pytest.fixture
def limits() -> ThrottleLimits:
    # Buckets wide open: the line and the one write lease are what is under test.
    return replace(ThrottleLimits.from_settings(), rate_per_method_per_minute=60_000, burst_per_method=100,
                   rate_per_key_per_minute=60_000, burst_per_key=100, redundant_seconds=0,
                   turn_wait_seconds=2.0, line_waiters=2, line_grace_seconds=5.0)


def _throttle(limits: ThrottleLimits) -> OmieThrottle:
    return OmieThrottle(client=get_redis(), app_key="key-line", limits=limits)


def _ok() -> Outcome:
    return Outcome(CallClass.OK, http_status=200)


def _place(n: int) -> LinePlace:
    return LinePlace(ticket=f"order:{n:012d}", score=1_000_000 + n)


def _call_in_line(throttle: OmieThrottle, call: str, place: LinePlace, granted: list, hold: float) -> None:
    """What a sync task does: wait in line, or come back at the retry time with the same place."""
    while True:
        try:
            lease = throttle.acquire_in_turn(call, place=place)
        except OmieNotNow as exc:
            assert exc.reason == "turn"
            time.sleep(exc.retry_after)
            continue
        granted.append((place.ticket, time.monotonic()))
        time.sleep(hold)
        throttle.finish(lease, _ok())
        return


def _wait_for_line(throttle: OmieThrottle, call: str, size: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while len(throttle.line(call)) < size:
        assert time.monotonic() < deadline, throttle.line(call)
        time.sleep(0.02)


def test_threads_get_the_lease_in_the_order_of_their_places_not_of_their_arrival(limits):
    throttle = _throttle(limits)
    blocker = throttle.acquire("IncluirOS")  # the line forms behind a call in flight
    numbers = list(range(12))
    random.Random(27).shuffle(numbers)
    granted: list = []
    threads = [threading.Thread(target=_call_in_line, args=(throttle, "IncluirOS", _place(n), granted, 0.03)) for n in numbers]
    for thread in threads:
        thread.start()
        time.sleep(0.01)  # arrival order: the shuffled one
    _wait_for_line(throttle, "IncluirOS", len(numbers))
    throttle.finish(blocker, _ok())
    for thread in threads:
        thread.join(timeout=30)
    assert [ticket for ticket, _ in granted] == [_place(n).ticket for n in sorted(numbers)]
    assert throttle.line("IncluirOS") == []  # each ticket left the line when served


def test_the_lease_passes_from_one_place_to_the_next_without_idling(limits):
    throttle = _throttle(limits)
    blocker = throttle.acquire("UpsertCliente")
    granted: list = []
    threads = [threading.Thread(target=_call_in_line, args=(throttle, "UpsertCliente", _place(n), granted, 0.1)) for n in range(2)]
    for thread in threads:
        thread.start()
    _wait_for_line(throttle, "UpsertCliente", 2)
    throttle.finish(blocker, _ok())
    for thread in threads:
        thread.join(timeout=10)
    (_, first), (_, second) = granted
    assert 0.1 <= second - first < 0.2  # the second waiter was woken by the release, not by its own poll
    hold = float(get_redis().hget(throttle._k("UpsertCliente", "line:stats"), "hold"))
    assert 20 <= hold <= 150  # mean time a call holds the lease (the blocker's, then 2 × 0.1 s): what countdowns use


def test_only_the_first_places_wait_in_their_process_the_others_are_timed_by_place(limits):
    throttle = _throttle(limits)
    redis = get_redis()
    blocker = throttle.acquire("IncluirOS")
    stats = throttle._k("IncluirOS", "line:stats")
    redis.hset(stats, "hold", "400")  # a call holds the lease 0.4 s
    waiters = [threading.Thread(target=lambda n=n: _call_in_line(throttle, "IncluirOS", _place(n), [], 0)) for n in (1, 2)]
    for waiter in waiters:
        waiter.start()
    _wait_for_line(throttle, "IncluirOS", 2)
    started = time.monotonic()
    with pytest.raises(OmieNotNow) as exc:
        throttle.acquire_in_turn("IncluirOS", place=_place(9))  # fourth in line (a lease held, two waiting, then us)
    assert time.monotonic() - started < 0.3 and exc.value.reason == "turn"
    assert exc.value.retry_after == pytest.approx(1 * 0.4 * 0.75, abs=0.01)  # (place 3 − 2 waiting + 1) turns, a bit early
    assert throttle.line("IncluirOS")[-1] == _place(9).ticket  # the place is kept while away
    # Someone placed before the ones waiting comes first, even though it arrives last.
    with pytest.raises(OmieNotNow):
        throttle.acquire_in_turn("IncluirOS", place=_place(0), wait=0.2)
    assert throttle.line("IncluirOS")[0] == _place(0).ticket
    redis.zrem(throttle._k("IncluirOS", "line"), _place(0).ticket, _place(9).ticket)
    throttle.finish(blocker, _ok())
    for waiter in waiters:
        waiter.join(timeout=10)


def test_a_holder_that_never_comes_back_is_skipped_once_its_ticket_expires(limits):
    throttle = _throttle(replace(limits, line_grace_seconds=0.5))
    throttle._hold("IncluirOS", _place(1), 0.6)  # sent away for 0.1 s + grace, and never came back
    started = time.monotonic()
    lease = throttle.acquire_in_turn("IncluirOS", place=_place(2), wait=5)
    assert 0.5 <= time.monotonic() - started < 1.5  # not before the expiry, soon after it (one slice)
    assert throttle.line("IncluirOS") == []
    throttle.finish(lease, _ok())


def test_a_late_holder_comes_back_to_its_old_place(limits):
    throttle = _throttle(limits)
    blocker = throttle.acquire("IncluirOS")
    throttle._hold("IncluirOS", _place(5), 0.05)
    time.sleep(0.1)  # expired: a later place would have been served meanwhile
    throttle._hold("IncluirOS", _place(7), 10)
    with pytest.raises(OmieNotNow):
        throttle.acquire_in_turn("IncluirOS", place=_place(5), wait=0.1)
    assert throttle.line("IncluirOS") == [_place(5).ticket, _place(7).ticket]
    throttle.finish(blocker, _ok())


def test_the_line_never_lets_two_writes_run_and_reads_ignore_it(limits):
    throttle = _throttle(limits)
    blocker = throttle.acquire("IncluirOS")  # a caller without a place holds the one write lease
    with pytest.raises(OmieNotNow) as exc:
        throttle.acquire_in_turn("IncluirOS", place=_place(1), wait=0.3)  # head of the line, lease busy
    assert exc.value.reason == "turn"
    throttle.finish(blocker, _ok())
    lease = throttle.acquire_in_turn("IncluirOS", place=_place(1))
    with pytest.raises(OmieNotNow):
        throttle.acquire("IncluirOS")
    throttle.finish(lease, _ok())


def test_a_pause_sends_the_whole_line_away_with_the_pause_and_keeps_the_places(limits):
    throttle = _throttle(limits)
    throttle.pause("UpsertCliente", seconds=30)
    with pytest.raises(OmieNotNow) as exc:
        throttle.acquire_in_turn("UpsertCliente", place=_place(3))
    assert exc.value.reason == "manual" and exc.value.retry_after >= 29
    ttl = get_redis().zscore(throttle._k("UpsertCliente", "line:exp"), _place(3).ticket)
    seconds, micros = get_redis().time()
    assert ttl - (seconds * 1000 + micros // 1000) > 30_000  # the ticket outlives the pause


def test_a_wakeable_place_is_parked_and_named_by_the_grant_that_brings_it_to_the_waiting_places(limits):
    throttle = _throttle(replace(limits, line_waiters=2))
    redis = get_redis()
    blocker = throttle.acquire("IncluirOS")
    redis.hset(throttle._k("IncluirOS", "line:stats"), "hold", "400")
    waiters = [threading.Thread(target=lambda n=n: _call_in_line(throttle, "IncluirOS", _place(n), [], 0.05)) for n in (1, 2)]
    for waiter in waiters:
        waiter.start()
    _wait_for_line(throttle, "IncluirOS", 2)
    parked = replace(_place(3), wakeable=True)
    with pytest.raises(OmieNotNow) as exc:
        throttle.acquire_in_turn("IncluirOS", place=parked)
    # Its task will be called: the countdown is only the safety net, after twice the soonest turn.
    assert exc.value.reason == "turn" and exc.value.retry_after == pytest.approx(0.4 * 2 + limits.line_wait_seconds, abs=0.01)
    assert redis.smembers(throttle._k("IncluirOS", "line:parked")) == {parked.ticket.encode()}
    throttle.finish(blocker, _ok())
    for waiter in waiters:
        waiter.join(timeout=10)
    # Place 1's grant brought place 3 to the second waiting place: its task is called, once.
    assert redis.smembers(throttle._k("IncluirOS", "line:parked")) == set()
    lease = throttle.acquire_in_turn("IncluirOS", place=parked)
    assert lease.woken == ()
    throttle.finish(lease, _ok())


def test_the_grant_names_the_parked_places_it_brought_forward(limits):
    throttle = _throttle(replace(limits, line_waiters=2))
    for n in (2, 3, 4):
        throttle._hold("UpsertCliente", replace(_place(n), wakeable=True), 60, park=True)
    lease = throttle.acquire_in_turn("UpsertCliente", place=_place(1))
    assert lease.woken == (_place(2).ticket, _place(3).ticket)  # the two waiting places; place 4 stays parked
    expiry = get_redis().zscore(throttle._k("UpsertCliente", "line:exp"), _place(2).ticket)
    seconds, micros = get_redis().time()
    assert expiry - (seconds * 1000 + micros // 1000) <= limits.line_wait_seconds * 1000  # woken: short expiry
    throttle.finish(lease, _ok())


def test_a_called_place_whose_task_is_late_is_passed_after_the_patience_and_keeps_its_place(limits):
    throttle = _throttle(replace(limits, line_waiters=2, line_patience_seconds=0.3))
    throttle._hold("IncluirOS", replace(_place(1), wakeable=True), 60, park=True)
    first = throttle.acquire_in_turn("IncluirOS", place=_place(0))
    assert first.woken == (_place(1).ticket,)  # place 1's task is called; it has not arrived yet
    granted: list = []
    waiter = threading.Thread(target=lambda: granted.append((throttle.acquire_in_turn("IncluirOS", place=_place(2)),
                                                             time.monotonic())))
    waiter.start()
    _wait_for_line(throttle, "IncluirOS", 2)
    released = time.monotonic()
    throttle.finish(first, _ok())
    waiter.join(timeout=5)
    (lease, at), = granted
    assert 0.25 <= at - released < 0.8  # the free lease idled for the patience, not for the called task's expiry
    assert throttle.line("IncluirOS") == [_place(1).ticket]  # passed, not dropped: it is next when it comes
    throttle.finish(lease, _ok())
    lease = throttle.acquire_in_turn("IncluirOS", place=_place(1), wait=0.5)
    throttle.finish(lease, _ok())


def test_a_place_whose_holder_is_here_is_never_passed(limits):
    throttle = _throttle(replace(limits, line_waiters=3, line_patience_seconds=0.1))
    blocker = throttle.acquire("IncluirOS")
    granted: list = []
    threads = [threading.Thread(target=_call_in_line, args=(throttle, "IncluirOS", _place(n), granted, 0.2)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    _wait_for_line(throttle, "IncluirOS", 2)
    throttle.finish(blocker, _ok())
    for thread in threads:
        thread.join(timeout=10)
    assert [ticket for ticket, _ in granted] == [_place(1).ticket, _place(2).ticket]


# --- several processes ----------------------------------------------------------------------------

def _process_in_line(limits: ThrottleLimits, n: int, delay: float, out) -> None:
    time.sleep(delay)
    throttle = OmieThrottle(client=get_redis(), app_key="key-line", limits=limits)
    granted: list = []
    _call_in_line(throttle, "IncluirOS", _place(n), granted, 0.05)
    out.put((n, time.time()))


def _waiting_forever(limits: ThrottleLimits, n: int) -> None:
    throttle = OmieThrottle(client=get_redis(), app_key="key-line", limits=limits)
    throttle.acquire_in_turn("IncluirOS", place=_place(n), wait=60)


@pytest.fixture
def fork():
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("needs fork")
    get_redis().connection_pool.disconnect()  # children open their own connections
    return multiprocessing.get_context("fork")


def test_processes_get_the_lease_in_the_order_of_their_places(limits, fork):
    throttle = _throttle(limits)
    blocker = throttle.acquire("IncluirOS")
    numbers = list(range(6))
    random.Random(6).shuffle(numbers)
    out = fork.Queue()
    procs = [fork.Process(target=_process_in_line, args=(limits, n, i * 0.05, out)) for i, n in enumerate(numbers)]
    for proc in procs:
        proc.start()
    _wait_for_line(throttle, "IncluirOS", len(numbers), timeout=20)
    throttle.finish(blocker, _ok())
    served = sorted((out.get(timeout=30) for _ in numbers), key=lambda item: item[1])
    for proc in procs:
        proc.join(timeout=10)
    assert [n for n, _ in served] == sorted(numbers)


def test_a_sigkilled_head_of_the_line_blocks_it_only_until_its_ticket_expires(limits, fork):
    limits = replace(limits, line_grace_seconds=1.0)
    throttle = _throttle(limits)
    blocker = throttle.acquire("IncluirOS")
    victim = fork.Process(target=_waiting_forever, args=(limits, 1))
    victim.start()
    _wait_for_line(throttle, "IncluirOS", 1)
    os.kill(victim.pid, signal.SIGKILL)
    victim.join(timeout=5)
    throttle.finish(blocker, _ok())  # the dead process was the head: nobody takes the wake-up
    started = time.monotonic()
    lease = throttle.acquire_in_turn("IncluirOS", place=_place(2), wait=5)
    assert time.monotonic() - started < 1.5 + 0.5 + 0.5  # its heartbeat (slice + grace), then one slice
    assert throttle.line("IncluirOS") == []
    throttle.finish(lease, _ok())
