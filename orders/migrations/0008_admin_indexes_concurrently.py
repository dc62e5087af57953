"""Indexes for the admin on a million orders (the search, the dashboard's counts, the held and the waiting orders), built without locking the table.

``CREATE INDEX CONCURRENTLY`` lets Bubble's triggers and the workers keep writing orders while the
index is built (a plain CREATE INDEX blocks every INSERT/UPDATE for as long as it takes — minutes on a
million rows). It cannot run inside a transaction, hence ``atomic = False``. If it is interrupted,
PostgreSQL leaves an INVALID index behind: drop it (``DROP INDEX CONCURRENTLY order_name_trgm_idx``)
and run the migration again.

pg_trgm is a trusted extension (PostgreSQL 13+): the database owner that runs the migrations can
create it without being a superuser.
"""

import django.contrib.postgres.indexes
import django.db.models.functions.text
from django.contrib.postgres.operations import AddIndexConcurrently, TrigramExtension
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('orders', '0007_payment_underpaid_and_amount_refunded'),
    ]

    operations = [
        TrigramExtension(),
        AddIndexConcurrently(
            model_name='order',
            index=django.contrib.postgres.indexes.GinIndex(django.contrib.postgres.indexes.OpClass(django.db.models.functions.text.Upper('customer_name'), name='gin_trgm_ops'), name='order_name_trgm_idx'),
        ),
        AddIndexConcurrently(
            model_name='order',
            index=models.Index(django.db.models.functions.text.Upper('customer_email'), name='order_email_upper_idx'),
        ),
        AddIndexConcurrently(
            model_name='order',
            index=models.Index(fields=['billing_status', 'sync_status'], include=('billing_scheduled_for', 'amount'), name='order_status_counts_idx'),
        ),
        AddIndexConcurrently(
            model_name='order',
            index=models.Index(condition=models.Q(('hold_reason', ''), _negated=True), fields=['-created_at'], name='order_held_recent_idx'),
        ),
        AddIndexConcurrently(
            model_name='order',
            index=models.Index(condition=models.Q(('billing_status__in', ['SCHEDULED', 'ON_HOLD'])), fields=['billing_scheduled_for', 'id'], include=('customer_kind', 'amount'), name='order_waiting_due_idx'),
        ),
    ]
