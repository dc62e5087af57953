"""ServiceToken moves to the API's plumbing (common/api, app label ``api``, ``api.0001_initial``):
state only, the table ``integrations_servicetoken`` stays as it is, no row is copied."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("integrations", "0002_integration_check_run"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name="ServiceToken")],
        ),
    ]
