"""The application runs as a database role that does not own the tables (docker/migrate.py, common/db_roles.py).

Before: the app's own role owned every table, so the action log's append-only trigger could be
disabled (``ALTER TABLE … DISABLE TRIGGER``) and the log truncated with the application's credentials.
Here a fresh database is migrated by docker/migrate.py exactly as the web start runs it (owner URL +
app URL), then the app role is shown unable to UPDATE, DELETE, TRUNCATE or disable the trigger.
"""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import urlsplit

import psycopg
import pytest
from django.conf import settings
from psycopg import errors

from tests.deploy.files import ROOT
from testsupport.processes import subprocess_env

INSERT_ROW = (
    "INSERT INTO orders_actionlog (created_at, actor, action, order_bubble_id, payload, outcome, message, "
    "auth_username, auth_method, auth_token_id) VALUES (now(), 'system:test', 'retry', '', '{}', 'ok', '', '', '', '') RETURNING id"
)


def _server_url() -> str:
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/postgres"


def _with_user(url: str, user: str, password: str, db: str) -> str:
    parts = urlsplit(url)
    return f"postgres://{user}:{password}@{parts.hostname}:{parts.port or 5432}/{db}"


@pytest.fixture
def migrated_with_roles():
    name = f"{settings.DATABASES['default']['NAME']}_roles"[:50]
    owner, app = f"{name}_owner", f"{name}_app"
    admin_url = _server_url()

    def cleanup(conn: psycopg.Connection) -> None:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'DROP ROLE IF EXISTS "{app}"')
        conn.execute(f'DROP ROLE IF EXISTS "{owner}"')

    with psycopg.connect(admin_url, autocommit=True) as conn:
        cleanup(conn)
        conn.execute(f"CREATE ROLE \"{owner}\" LOGIN CREATEROLE PASSWORD 'owner-pw-0123456789'")
        conn.execute(f'CREATE DATABASE "{name}" OWNER "{owner}"')
    owner_url = _with_user(admin_url, owner, "owner-pw-0123456789", name)
    app_url = _with_user(admin_url, app, "app-pw-0123456789abc", name)
    env = subprocess_env(DJANGO_SETTINGS_MODULE="config.django.test", DATABASE_URL=app_url, DATABASE_OWNER_URL=owner_url)
    result = subprocess.run([sys.executable, "docker/migrate.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"granted row privileges to {app}" in result.stderr
    yield {"owner": owner_url, "app": app_url, "app_role": app}
    with psycopg.connect(admin_url, autocommit=True) as conn:
        cleanup(conn)


def test_the_app_role_cannot_change_truncate_or_unprotect_the_action_log(migrated_with_roles):
    with psycopg.connect(migrated_with_roles["app"], autocommit=True) as app:
        # What the application needs: insert and read the log, change ordinary tables.
        row_id = app.execute(INSERT_ROW).fetchone()[0]
        assert app.execute("SELECT count(*) FROM orders_actionlog").fetchone()[0] == 1
        app.execute("UPDATE orders_order SET updated_at = now() WHERE false")
        assert app.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'orders_actionlog'").fetchone()[0] != \
            migrated_with_roles["app_role"]

        for statement in (
            f"UPDATE orders_actionlog SET message = 'x' WHERE id = {row_id}",
            f"DELETE FROM orders_actionlog WHERE id = {row_id}",
            "TRUNCATE orders_actionlog",
            "ALTER TABLE orders_actionlog DISABLE TRIGGER orders_actionlog_append_only",
            "ALTER TABLE orders_actionlog DISABLE TRIGGER ALL",
            "DROP TRIGGER orders_actionlog_append_only ON orders_actionlog",
            "TRUNCATE billing_accountentry",
            "UPDATE billing_accountentry SET amount = 0 WHERE false",
            "CREATE TABLE intruder (id int)",
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                app.execute(statement)
        assert app.execute("SELECT count(*) FROM orders_actionlog").fetchone()[0] == 1


def test_the_owner_still_could_which_is_why_the_app_must_not_be_it(migrated_with_roles):
    """The original behaviour, for the record: the owning role disables the trigger at will."""
    with psycopg.connect(migrated_with_roles["owner"]) as owner:
        owner.execute("ALTER TABLE orders_actionlog DISABLE TRIGGER orders_actionlog_append_only")
        owner.rollback()


def test_migrating_again_keeps_the_grants_and_the_role_password_follows_the_url(migrated_with_roles):
    app_url, owner_url = migrated_with_roles["app"], migrated_with_roles["owner"]
    def verifier() -> str:
        with psycopg.connect(_server_url(), autocommit=True) as admin:
            return admin.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", [migrated_with_roles["app_role"]]).fetchone()[0]

    before = verifier()
    new_app_url = app_url.replace("app-pw-0123456789abc", "rotated-pw-9876543210")
    env = subprocess_env(DJANGO_SETTINGS_MODULE="config.django.test", DATABASE_URL=new_app_url, DATABASE_OWNER_URL=owner_url)
    result = subprocess.run([sys.executable, "docker/migrate.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    with psycopg.connect(new_app_url, autocommit=True) as app:  # (trust on this host: the role must exist and log in)
        assert app.execute("SELECT has_table_privilege('orders_actionlog', 'INSERT'), "
                           "has_table_privilege('orders_actionlog', 'UPDATE'), has_table_privilege('orders_order', 'UPDATE')"
                           ).fetchone() == (True, False, True)
    assert before.startswith("SCRAM-SHA-256$") and verifier() != before  # the password follows DATABASE_URL (rotation)
