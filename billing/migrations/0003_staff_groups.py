from django.contrib.auth.management import create_permissions
from django.db import migrations


def create_groups(apps, schema_editor):
    from billing.permissions import groups_sync

    # Permissions are normally created after all migrations; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    groups_sync(group_model=apps.get_model("auth", "Group"), permission_model=apps.get_model("auth", "Permission"))


def drop_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Ops", "Financeiro"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0002_accountentry_append_only"),
        ("orders", "0002_actionlog_append_only"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("django_celery_results", "0014_alter_taskresult_status"),
    ]

    operations = [migrations.RunPython(create_groups, drop_groups)]
