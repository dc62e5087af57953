"""Applies migrations, then writes the periodic tasks (``setup_periodic_tasks``); run by start-web.

With DATABASE_OWNER_URL set, migrations run as that (owner) role, and the role of DATABASE_URL (the
*app role* every process runs as) is created if missing (its password kept equal to the URL's) and
granted row privileges only: it does not own the tables, cannot TRUNCATE or ALTER them (so cannot
disable the action log's append-only trigger) and cannot UPDATE/DELETE the append-only tables
(common/db_roles.py). Without it, everything runs as DATABASE_URL's role, as before.

Several web containers may start at once (``--scale web=3``, a rolling deploy): a PostgreSQL
advisory lock makes them migrate one after the other, so the later ones find nothing to do instead
of racing on the same DDL. The lock is tied to the session, so a crashed migrator releases it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.django.production")

# Any constant shared by every migrator of this project; "blumigr" in ASCII.
MIGRATION_LOCK_KEY = 0x626C756D696772


def _swap_to_owner() -> tuple[str, str | None] | None:
    """Points this process at the owner role; returns the app role's name and password (None: no separation)."""
    from urllib.parse import unquote, urlsplit

    owner_url = os.environ.get("DATABASE_OWNER_URL", "").strip()
    app_url = os.environ.get("DATABASE_URL", "").strip()
    if not owner_url or not app_url:
        return None
    app, owner = urlsplit(app_url), urlsplit(owner_url)
    if not app.username or app.username == owner.username:
        return None
    os.environ["DATABASE_URL"] = owner_url  # read by the settings below
    return unquote(app.username), unquote(app.password) if app.password else None


def main() -> int:
    app_role = _swap_to_owner()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from common.db_roles import app_role_ensure, app_role_grant

    with connection.cursor() as cursor:
        print("[migrate] waiting for the migration lock", file=sys.stderr, flush=True)
        cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK_KEY])
    try:
        if app_role:
            with connection.cursor() as cursor:
                if not app_role_ensure(cursor, role=app_role[0], password=app_role[1]):
                    print(f"[migrate] the owner may not manage roles: {app_role[0]} must exist already", file=sys.stderr, flush=True)
        else:
            print("[migrate] DATABASE_OWNER_URL not set: the app runs as the table owner (docs/deploying.md)", file=sys.stderr, flush=True)
        call_command("migrate", interactive=False, verbosity=1)
        if app_role:
            with connection.cursor() as cursor:
                app_role_grant(cursor, role=app_role[0])
            print(f"[migrate] granted row privileges to {app_role[0]}", file=sys.stderr, flush=True)
        call_command("setup_periodic_tasks")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK_KEY])
    return 0


if __name__ == "__main__":
    sys.exit(main())
