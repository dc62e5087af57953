#!/usr/bin/env python
"""Omie throttle bench: N worker processes hammer one Omie method through the central Redis
throttle against the fake Omie served by gunicorn; prints the achieved call rate against the
configured limit and how many 429/425 answers the fake gave (target: ≥ 90 % of the limit, zero).

Omie's windows are scaled by --scale (0.1 = a "minute" lasts 6 s), on both sides: the fake allows
240 calls per method and 960 per key per scaled minute, the client is configured at 200 and 800
(its production defaults), so the ratio under test is the production one.

    python bench/omie_throttle.py --workers 4 --seconds 30 --scale 0.1

Needs PostgreSQL and Redis: DATABASE_URL (the bench creates and migrates database ``blu_omie_bench``
on it) and REDIS_URL, else the local services on 127.0.0.1. Each run uses a fresh app key, so it
never touches another run's throttle state.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _database_url(base: str, name: str) -> str:
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def _ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit((parts.scheme.replace("postgres", "postgresql"), parts.netloc, "/postgres", parts.query, ""))
    name = parts.path.lstrip("/")
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _max_in_window(stamps: list[float], window: float) -> int:
    best, left = 0, 0
    for right, t in enumerate(stamps):
        while t - stamps[left] > window:
            left += 1
        best = max(best, right - left + 1)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=4, help="worker processes calling Omie")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--scale", type=float, default=0.1, help="Omie's minute lasts 60 × scale seconds")
    parser.add_argument("--call", default="ListarOS", choices=["ListarOS", "ListarNFSEs", "UpsertCliente"])
    # Omie answers in ~200–300 ms; scaled like the windows, that is 20–30 ms.
    parser.add_argument("--latency-ms", type=int, default=20, help="the fake Omie's answer time (scaled)")
    parser.add_argument("--gunicorn-workers", type=int, default=3)
    parser.add_argument("--gunicorn-threads", type=int, default=2)
    args = parser.parse_args()

    base_db = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/blu_omie")
    db_url = _database_url(base_db, urlsplit(base_db).path.lstrip("/") + "_bench")  # blu_omie → blu_omie_bench
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    _ensure_database(db_url)
    app_key = f"bench-{uuid.uuid4().hex[:12]}"
    per_minute = 1 / args.scale  # configured limits are per real minute
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.django.base", DATABASE_URL=db_url, REDIS_URL=redis_url, CELERY_BROKER_URL=redis_url,
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="local-bench-only-key-not-a-deployment-secret-0123456789",
        SANDBOX="true", SANDBOX_FORCE="true", OMIE_APP_KEY=app_key, OMIE_APP_SECRET="bench-secret",
        OMIE_RATE_PER_METHOD_PER_MINUTE=str(int(200 * per_minute)), OMIE_RATE_PER_KEY_PER_MINUTE=str(int(800 * per_minute)),
        PYTHONUNBUFFERED="1",
    )
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)

    import django

    django.setup()
    from sandbox.fake_omie.models import FakeCustomer, FakeOmieCall, FakeServiceOrder
    from sandbox.fake_omie.services import fake_omie_reset
    from testsupport.fake_omie import Gunicorn

    fake_omie_reset(time_scale=args.scale, latency_ms=args.latency_ms)
    customer = FakeCustomer.objects.create(codigo_cliente_integracao="bench", cnpj_cpf="11222333000181", razao_social="Bench")
    FakeServiceOrder.objects.create(c_cod_int_os="bench-os", customer=customer, amount="10.00")  # ListarOS answers 200

    log = ROOT / "var" / "bench-gunicorn.log"
    log.parent.mkdir(exist_ok=True)
    server = Gunicorn(env, workers=args.gunicorn_workers, threads=args.gunicorn_threads, log_path=str(log)).start()
    env["OMIE_BASE_URL"] = f"{server.url}/sandbox/omie/api/v1/"
    load_before = os.getloadavg()[0]
    try:
        start_at = time.time() + 5
        procs = [
            subprocess.Popen([sys.executable, "-m", "integrations.omie.tests.throttle_proc", "hammer", "--call", args.call,
                              "--seconds", str(args.seconds), "--start-at", str(start_at), "--prefix", f"b{i}"],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for i in range(args.workers)
        ]
        stats: dict[str, int] = {}
        for proc in procs:
            out, err = proc.communicate(timeout=args.seconds + 120)
            if proc.returncode != 0:
                print(err[-3000:], file=sys.stderr)
                return 1
            for name, value in json.loads(out.strip().splitlines()[-1]).items():
                stats[name] = stats.get(name, 0) + value
    finally:
        server.stop()

    rows = list(FakeOmieCall.objects.filter(call=args.call).order_by("received_at").values_list("received_at", "http_status"))
    stamps = [r[0].timestamp() for r in rows]
    statuses = [r[1] for r in rows]
    limit_per_s = 200 * per_minute / 60
    achieved = statuses.count(200) / args.seconds
    minute = 60 * args.scale
    result = {
        "call": args.call, "workers": args.workers, "seconds": args.seconds, "scale": args.scale,
        "configured_per_s": round(limit_per_s, 2), "achieved_ok_per_s": round(achieved, 2),
        "ratio": round(achieved / limit_per_s, 3), "calls_received": len(rows), "http_429": statuses.count(429),
        "http_425": statuses.count(425), "client_1880": statuses.count(500),
        "max_in_any_scaled_minute": _max_in_window(stamps, minute), "omie_limit_per_scaled_minute": 240,
        "worker_outcomes": stats,
        "cpus": os.cpu_count(), "load_avg_1m_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    print(json.dumps(result, indent=2))
    print(f"\n{args.call}: {achieved:.2f} calls/s achieved vs {limit_per_s:.2f}/s configured ({achieved / limit_per_s:.1%}); "
          f"429: {result['http_429']}, 425: {result['http_425']}; busiest scaled minute: "
          f"{result['max_in_any_scaled_minute']} calls (Omie allows 240)")
    if result["http_429"] or result["http_425"]:
        return 1  # Omie refused calls: the throttle is wrong, whatever the machine's load
    return 0 if result["ratio"] >= 0.9 else 2  # 2: measured, the rate target missed


if __name__ == "__main__":
    sys.exit(main())
