from django.contrib.auth.management import create_permissions
from django.db import migrations


def create_service_group(apps, schema_editor):
    from billing.permissions import groups_sync

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    groups_sync(group_model=apps.get_model("auth", "Group"), permission_model=apps.get_model("auth", "Permission"))


def drop_service_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Integração Bubble").delete()


class Migration(migrations.Migration):
    dependencies = [("billing", "0003_staff_groups")]

    operations = [migrations.RunPython(create_service_group, drop_service_group)]
