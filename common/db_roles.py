"""Database role separation: the application runs as a role that does not own the tables.

Migrations run as the owner (DATABASE_OWNER_URL, docker/migrate.py); the web, worker and beat
processes connect with DATABASE_URL as the *app role*, which may read and write rows but cannot
TRUNCATE, ALTER (so cannot ``DISABLE TRIGGER``), create triggers, or UPDATE/DELETE the append-only
tables: the action log's and the account ledger's triggers cannot be switched off by the
application's own credentials, and their rows cannot be changed through them at all.

``app_role_grant`` runs after every ``migrate`` (new tables get their grants); it is idempotent.
"""

from __future__ import annotations

from typing import Any

from psycopg import sql

# Rows are only ever inserted (the database triggers say the same; privileges make it hold even
# for someone with the app role's password).
APPEND_ONLY_TABLES = ("orders_actionlog", "billing_accountentry")


def app_role_ensure(cursor: Any, *, role: str, password: str | None) -> bool:
    """Creates the app role (LOGIN) if it is missing, or sets its password to ``password``.

    Needs CREATEROLE (the postgres image's POSTGRES_USER has it). Returns False when the owner may
    not manage roles: then the role must have been created by the DBA (docs/deploying.md).
    """
    cursor.execute("SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user")
    if not cursor.fetchone()[0]:
        return False
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
    exists = cursor.fetchone() is not None
    # Attributes only at creation: changing NOSUPERUSER & co. of an existing role needs a superuser.
    attributes = " LOGIN" if exists else " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT"
    statement = sql.SQL(("ALTER" if exists else "CREATE") + " ROLE {}" + attributes).format(sql.Identifier(role))
    if password:
        statement = statement + sql.SQL(" PASSWORD {}").format(sql.Literal(password))
    cursor.execute(statement)
    return True


def app_role_grant(cursor: Any, *, role: str, schema: str = "public") -> None:
    """Row privileges on every table and sequence of ``schema``; nothing else; append-only tables insert/select only."""
    ident, schema_ident = sql.Identifier(role), sql.Identifier(schema)
    cursor.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(cursor.connection.info.dbname), ident))
    cursor.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema_ident, ident))
    cursor.execute(sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}").format(schema_ident, ident))
    cursor.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(schema_ident, ident))
    cursor.execute(sql.SQL("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {} TO {}").format(schema_ident, ident))
    for table in APPEND_ONLY_TABLES:
        cursor.execute(sql.SQL("REVOKE UPDATE, DELETE ON {} FROM {}").format(sql.Identifier(schema, table), ident))
