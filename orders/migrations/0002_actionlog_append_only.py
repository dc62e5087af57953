from django.db import migrations

# The action log is the audit trail: no UPDATE or DELETE, from any code path, the admin included.
# (TRUNCATE, used only by test teardown, is a statement-level operation and is not blocked.)
FORBID = """
CREATE OR REPLACE FUNCTION orders_actionlog_forbid_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'orders_actionlog is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER orders_actionlog_append_only
BEFORE UPDATE OR DELETE ON orders_actionlog
FOR EACH ROW EXECUTE FUNCTION orders_actionlog_forbid_change();
"""

ALLOW = """
DROP TRIGGER IF EXISTS orders_actionlog_append_only ON orders_actionlog;
DROP FUNCTION IF EXISTS orders_actionlog_forbid_change();
"""


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]

    operations = [migrations.RunSQL(FORBID, ALLOW)]
