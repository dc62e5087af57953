"""Waits for PostgreSQL, Redis and the broker (and, with --migrations, for the schema) before a start.

Uses the same settings as the process about to start, so it checks exactly the database and Redis
that process will use. Exits 1 naming what never answered (host and port, never a password).
Usage: python docker/wait_for_services.py [--migrations] [--timeout SECONDS]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.django.production")


def _database() -> None:
    from django.db import connection

    connection.ensure_connection()
    connection.close()


def _redis(url: str) -> Callable[[], None]:
    def check() -> None:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
        try:
            client.ping()
        finally:
            client.close()

    return check


def _migrations() -> None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    connection.close()
    if pending:
        raise RuntimeError(f"{len(pending)} migrations not applied yet")


def _where(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or ''}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--migrations", action="store_true", help="also wait until every migration is applied")
    parser.add_argument("--timeout", type=float, default=float(os.environ.get("WAIT_FOR_SERVICES_TIMEOUT", "60")))
    args = parser.parse_args(argv)

    import django

    django.setup()  # a missing required variable stops here, with the message naming it
    from django.conf import settings

    db = settings.DATABASES["default"]
    checks: dict[str, Callable[[], None]] = {
        f"PostgreSQL ({db.get('HOST') or 'socket'}:{db.get('PORT') or 5432})": _database,
        f"Redis ({_where(settings.REDIS_URL)})": _redis(settings.REDIS_URL),
        f"broker ({_where(settings.CELERY_BROKER_URL)})": _redis(settings.CELERY_BROKER_URL),
    }
    if args.migrations:
        checks["migrations"] = _migrations

    deadline = time.monotonic() + args.timeout
    for name, check in checks.items():
        last_error = ""
        while True:
            try:
                check()
                break
            except Exception as exc:  # noqa: BLE001 - any failure means "not yet"; reported by type
                error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                if error != last_error:
                    print(f"[wait] {name} not ready yet ({error})", file=sys.stderr, flush=True)
                    last_error = error
            if time.monotonic() >= deadline:
                print(f"[wait] gave up: {name} did not answer within {args.timeout:.0f} s", file=sys.stderr, flush=True)
                return 1
            time.sleep(1)
    print("[wait] " + ", ".join(checks) + ": ok", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
