"""Applies migrations, then writes the periodic tasks (``setup_periodic_tasks``); run by start-web.

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


def main() -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    with connection.cursor() as cursor:
        print("[migrate] waiting for the migration lock", file=sys.stderr, flush=True)
        cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK_KEY])
    try:
        call_command("migrate", interactive=False, verbosity=1)
        call_command("setup_periodic_tasks")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK_KEY])
    return 0


if __name__ == "__main__":
    sys.exit(main())
