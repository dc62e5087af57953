from django.db import migrations

# The ledger is append-only: the balance must always equal the sum of the entries.
# (TRUNCATE, used only by test teardown, is a statement-level operation and is not blocked.)
FORBID = """
CREATE OR REPLACE FUNCTION billing_accountentry_forbid_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'billing_accountentry is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER billing_accountentry_append_only
BEFORE UPDATE OR DELETE ON billing_accountentry
FOR EACH ROW EXECUTE FUNCTION billing_accountentry_forbid_change();
"""

ALLOW = """
DROP TRIGGER IF EXISTS billing_accountentry_append_only ON billing_accountentry;
DROP FUNCTION IF EXISTS billing_accountentry_forbid_change();
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunSQL(FORBID, ALLOW)]
