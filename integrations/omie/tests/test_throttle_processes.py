"""The central throttle with several OS processes against the real Redis and the fake Omie over
HTTP. The fake's own record of what it received is the judge, not the processes' word."""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime

import pytest

from integrations.omie.errors import OmieNotNow
from testsupport.processes import ROOT

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PROCESSES = 4


def _spawn(fake, mode: str, call: str, *, seconds: float = 0, start_at: float = 0, prefix: str = "k", **env: object):
    args = [sys.executable, "-m", "integrations.omie.tests.throttle_proc", mode, "--call", call, "--seconds", str(seconds),
            "--start-at", str(start_at), "--prefix", prefix]
    return subprocess.Popen(args, cwd=ROOT, env=fake.env(**env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


def _hammer(fake, call: str, *, seconds: float, prefix: str = "k", processes: int = PROCESSES, **env: object) -> list[dict]:
    start_at = time.time() + 4  # after every child finished django.setup()
    procs = [_spawn(fake, "hammer", call, seconds=seconds, start_at=start_at, prefix=prefix, **env) for _ in range(processes)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=seconds + 60)
        assert proc.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def _max_in_window(times: list[datetime], window: float) -> int:
    stamps = sorted(t.timestamp() for t in times)
    best, left = 0, 0
    for right, t in enumerate(stamps):
        while t - stamps[left] > window:
            left += 1
        best = max(best, right - left + 1)
    return best


def one_issued_nfse() -> None:
    """A list with something in it: an empty ListarNFSEs is Omie's "no records" fault, which our own
    throttle counts as an error (and would pause the method for, hiding the rate under test)."""
    from django.utils import timezone

    from sandbox.fake_omie.models import FakeCustomer, FakeNfse, FakeServiceOrder

    customer = FakeCustomer.objects.create(codigo_cliente_integracao="c-1", cnpj_cpf="11222333000181", razao_social="X")
    order = FakeServiceOrder.objects.create(c_cod_int_os="os-1", customer=customer, amount=10, faturada=True)
    now = timezone.now()
    FakeNfse.objects.create(service_order=order, status=FakeNfse.Status.ISSUED, number=1001, ready_at=now, issued_at=now)


def test_the_rate_per_method_holds_over_every_window_across_processes(fake_omie):
    rate_per_s, burst = 10, 3
    fake_omie.configure(time_scale=0.1, rate_limit_per_method=1000)
    one_issued_nfse()
    results = _hammer(fake_omie, "ListarNFSEs", seconds=6, OMIE_RATE_PER_METHOD_PER_MINUTE=rate_per_s * 60,
                      OMIE_RATE_BURST_PER_METHOD=burst, OMIE_RATE_PER_KEY_PER_MINUTE=100_000, OMIE_RATE_BURST_PER_KEY=100)
    received = [c.received_at for c in fake_omie.calls("ListarNFSEs")]
    # Token bucket: at most burst + rate × W grants in any window W. The fake sees arrivals, which a
    # loaded machine can delay by up to ~0.2 s: allow rate × 0.2 + 1 for that.
    for window in (0.5, 1, 2, 6):
        assert _max_in_window(received, window) <= burst + rate_per_s * (window + 0.2) + 1, window
    assert len(received) >= 0.7 * rate_per_s * 6  # and the throttle does let the rate through
    assert 429 not in fake_omie.statuses()
    assert sum(r.get("ok", 0) for r in results) == len(received)


def test_the_rate_per_app_key_holds_across_methods_and_processes(fake_omie):
    rate_per_s, burst = 8, 2
    fake_omie.configure(rate_limit_per_method=1000, rate_limit_per_key=1000)
    one_issued_nfse()
    env = {"OMIE_RATE_PER_METHOD_PER_MINUTE": 60_000, "OMIE_RATE_BURST_PER_METHOD": 100,
           "OMIE_RATE_PER_KEY_PER_MINUTE": rate_per_s * 60, "OMIE_RATE_BURST_PER_KEY": burst}
    start_at = time.time() + 4
    procs = [_spawn(fake_omie, "hammer", call, seconds=5, start_at=start_at, **env)
             for call in ("ListarNFSEs", "ListarNFSEs", "ListarOS", "ListarOS")]
    for proc in procs:
        _out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err[-3000:]
    received = [c.received_at for c in fake_omie.calls()]
    assert {c.call for c in fake_omie.calls()} == {"ListarNFSEs", "ListarOS"}
    for window in (1, 5):
        assert _max_in_window(received, window) <= burst + rate_per_s * (window + 0.2) + 1


def test_at_most_one_write_of_a_method_is_in_flight_across_processes(fake_omie):
    fake_omie.configure(latency_ms=40, rate_limit_per_method=100_000, rate_limit_per_key=100_000)
    results = _hammer(fake_omie, "UpsertCliente", seconds=5, OMIE_RATE_PER_METHOD_PER_MINUTE=100_000,
                      OMIE_RATE_PER_KEY_PER_MINUTE=100_000, OMIE_LEASE_RETRY_SECONDS=0.05)
    calls = fake_omie.calls("UpsertCliente")
    assert len(calls) >= 30, results
    assert not [c for c in calls if "1880" in c.fault_code]  # the fake answers 1880 to a 2nd write in flight
    ordered = sorted(calls, key=lambda c: c.received_at)
    for before, after in itertools.pairwise(ordered):
        assert after.received_at >= before.finished_at  # no overlap at all
    assert all(c.http_status == 200 for c in calls)
    assert sum(r.get("notnow:concurrency", 0) for r in results) > 0  # they did contend


def test_a_lease_held_by_a_killed_process_is_freed_within_its_ttl(fake_omie, settings):
    lease_env = {"OMIE_LEASE_SECONDS": 2, "OMIE_CONNECT_TIMEOUT": 0.5, "OMIE_READ_TIMEOUT": 1}
    for name, value in lease_env.items():
        setattr(settings, name, value)
    holder = _spawn(fake_omie, "hold", "IncluirOS", **lease_env)
    try:
        held_at = json.loads(holder.stdout.readline())["held_at"]
        from integrations.omie.throttle import get_throttle

        throttle = get_throttle()
        with pytest.raises(OmieNotNow) as exc:
            throttle.acquire("IncluirOS")
        assert exc.value.reason == "concurrency"
    finally:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait(10)
    while True:
        try:
            throttle.acquire("IncluirOS")
            freed_at = time.time()
            break
        except OmieNotNow:
            assert time.time() - held_at < 2.75, "the dead holder's lease outlived its TTL"
            time.sleep(0.02)
    assert 1.8 <= freed_at - held_at <= 2.75


def test_after_a_425_no_process_calls_the_method_until_the_pause_ends(fake_omie, omie):
    fake_omie.seed_customer(key="c", document="11222333000181")
    from sandbox.fake_omie.models import FakeCustomer, FakeServiceOrder

    FakeServiceOrder.objects.create(c_cod_int_os="os-1", customer=FakeCustomer.objects.get(), amount="10.00")
    fake_omie.configure(ban_seconds=4, rate_limit_per_method=100_000)
    fake_omie.ban("ListarOS", seconds=6)  # the children start calling 4 s from now
    _hammer(fake_omie, "ListarOS", seconds=10, OMIE_RATE_PER_METHOD_PER_MINUTE=6000, OMIE_RATE_BURST_PER_METHOD=5)

    calls = fake_omie.calls("ListarOS")
    bans = [c for c in calls if c.http_status == 425]
    # The fake stays banned for as long as the client pauses (each 425 extends it), so any call made
    # during the pause would be one more 425: only the calls already in flight (3 read leases) saw it.
    assert 1 <= len(bans) <= 3
    pause_end = max(c.finished_at.timestamp() + int(re.search(r"em (\d+) segundos", c.fault_string).group(1)) for c in bans)
    first_ban_seen = min(c.finished_at.timestamp() for c in bans)
    # (in-flight calls granted before the pause may arrive a little late on a loaded machine)
    during = [c for c in calls if first_ban_seen + 1.0 < c.received_at.timestamp() < pause_end]
    assert during == []
    after = [c for c in calls if c.received_at.timestamp() >= pause_end]
    assert after and all(c.http_status == 200 for c in after)  # and then work resumed


def test_the_error_budget_stops_every_process_before_omie_would_ban(fake_omie):
    fake_omie.configure(ban_after_errors=10, rate_limit_per_method=100_000)
    results = _hammer(fake_omie, "ConsultarOS", seconds=4, OMIE_ERROR_BUDGET=6, OMIE_RATE_PER_METHOD_PER_MINUTE=6000,
                      OMIE_RATE_BURST_PER_METHOD=10)
    statuses = fake_omie.statuses("ConsultarOS")
    assert 425 not in statuses
    assert 6 <= statuses.count(500) <= 8  # budget + the calls already in flight (3 read leases)
    assert all(r.get("notnow:error_budget", 0) > 0 for r in results)  # every process was stopped
    from integrations.omie.selectors import throttle_state

    state = next(m for m in throttle_state()["methods"] if m["call"] == "ConsultarOS")
    assert state["pause_reason"] == "error_budget" and state["errors_in_window"] >= 6


def test_workers_on_several_hosts_share_one_budget_and_one_killed_mid_run_changes_nothing(fake_omie):
    """Three processes as three worker hosts (their own HOSTNAME, as containers on other machines); one
    is SIGKILLed mid-run. The budget is the app key's in Redis, not a host's: the fake never sees more
    than the rate in any window, and the survivors go on using the whole budget after the kill."""
    rate_per_s, burst, seconds = 10, 3, 8
    fake_omie.configure(time_scale=0.1, rate_limit_per_method=1000)
    one_issued_nfse()
    env = {"OMIE_RATE_PER_METHOD_PER_MINUTE": rate_per_s * 60, "OMIE_RATE_BURST_PER_METHOD": burst,
           "OMIE_RATE_PER_KEY_PER_MINUTE": 100_000, "OMIE_RATE_BURST_PER_KEY": 100}
    start_at = time.time() + 4
    procs = [_spawn(fake_omie, "hammer", "ListarNFSEs", seconds=seconds, start_at=start_at, prefix=f"host{i}",
                    HOSTNAME=f"worker-host-{i}", **env) for i in range(3)]
    time.sleep(max(0.0, start_at - time.time()) + seconds / 3)
    killed_at = time.time()
    os.killpg(procs[0].pid, signal.SIGKILL)
    procs[0].wait(30)
    for proc in procs[1:]:
        _out, err = proc.communicate(timeout=seconds + 60)
        assert proc.returncode == 0, err[-3000:]
    received = [c.received_at for c in fake_omie.calls("ListarNFSEs")]
    for window in (0.5, 1, 2, seconds):
        assert _max_in_window(received, window) <= burst + rate_per_s * (window + 0.2) + 1, window
    after_kill = [t for t in received if t.timestamp() > killed_at + 0.5]
    remaining = start_at + seconds - (killed_at + 0.5)
    assert len(after_kill) >= 0.7 * rate_per_s * remaining  # the two left take the whole budget
    assert 429 not in fake_omie.statuses()
