"""The order list's own order (created_at, id) as one index, built without locking the table.

Deep pages of the admin list read the ids they skip from it alone (backoffice/paginator.py).
``CREATE INDEX CONCURRENTLY`` (``atomic = False``): orders keep being written while it is built; if it
is interrupted, drop the INVALID index (``DROP INDEX CONCURRENTLY order_created_id_idx``) and migrate again.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("orders", "0008_admin_indexes_concurrently"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="order",
            index=models.Index(fields=["created_at", "id"], name="order_created_id_idx"),
        ),
    ]
