"""IdempotencyRecord moves to the API's plumbing (common/api, app label ``api``, ``api.0001_initial``):
state only, the table ``orders_idempotencyrecord`` stays as it is, no row is copied."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("orders", "0010_merge_admin_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name="IdempotencyRecord")],
        ),
    ]
