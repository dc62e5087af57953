"""The month close's indexes on the invoices (issued / cancelled in a month), built without locking the table.

``CREATE INDEX CONCURRENTLY`` (``atomic = False``): invoices keep being written while it runs. If it is
interrupted, drop the INVALID index it leaves (``DROP INDEX CONCURRENTLY <name>``) and migrate again.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('billing', '0011_merge_statusos_refusals_service_group'),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='invoice',
            index=models.Index(condition=models.Q(('issued_at__isnull', False)), fields=['issued_at'], name='invoice_issued_at_idx'),
        ),
        AddIndexConcurrently(
            model_name='invoice',
            index=models.Index(condition=models.Q(('cancelled_at__isnull', False)), fields=['cancelled_at'], name='invoice_cancelled_at_idx'),
        ),
    ]
