from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant_export(apps, schema_editor):
    """Financeiro gets billing.export (groups_sync adds what the groups lack; Ops does not get it)."""
    from billing.permissions import groups_sync

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    groups_sync(group_model=apps.get_model("auth", "Group"), permission_model=apps.get_model("auth", "Permission"))


def revoke_export(apps, schema_editor):
    permission = apps.get_model("auth", "Permission").objects.filter(content_type__app_label="billing", codename="export").first()
    if permission:
        for group in apps.get_model("auth", "Group").objects.filter(name="Financeiro"):
            group.permissions.remove(permission)


class Migration(migrations.Migration):
    dependencies = [("billing", "0004_export_jobs"), ("billing", "0003_staff_groups")]

    operations = [migrations.RunPython(grant_export, revoke_export)]
