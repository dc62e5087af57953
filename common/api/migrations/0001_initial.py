"""The API's records move here: ServiceToken from integrations (integrations.0003) and
IdempotencyRecord from orders (orders.0011). State only: the tables keep their names (``db_table``),
no row is copied.

Their content types move with them (``integrations.servicetoken`` → ``api.servicetoken``,
``orders.idempotencyrecord`` → ``api.idempotencyrecord``), so the permissions groups and users
already hold (the view permissions Ops gets) keep their rows and follow the models.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

MOVED = (("integrations", "servicetoken"), ("orders", "idempotencyrecord"))


def content_types_move(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for source, model in MOVED:
        if not ContentType.objects.filter(app_label="api", model=model).exists():
            ContentType.objects.filter(app_label=source, model=model).update(app_label="api")


def content_types_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for source, model in MOVED:
        if not ContentType.objects.filter(app_label=source, model=model).exists():
            ContentType.objects.filter(app_label="api", model=model).update(app_label=source)


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
        ("integrations", "0003_servicetoken_to_common_api"),
        ("orders", "0011_idempotencyrecord_to_common_api"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='IdempotencyRecord',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('caller', models.CharField(max_length=100, verbose_name='chamador')),
                        ('key', models.CharField(max_length=255, verbose_name='chave')),
                        ('fingerprint', models.CharField(max_length=64, verbose_name='impressão da requisição')),
                        ('method', models.CharField(max_length=10, verbose_name='método')),
                        ('path', models.CharField(max_length=300, verbose_name='caminho')),
                        ('status', models.CharField(choices=[('IN_FLIGHT', 'Em andamento'), ('DONE', 'Concluída')], default='IN_FLIGHT', max_length=10, verbose_name='situação')),
                        ('locked_until', models.DateTimeField(blank=True, null=True, verbose_name='reservada até')),
                        ('response_status', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='status da resposta')),
                        ('response_body', models.JSONField(blank=True, null=True, verbose_name='corpo da resposta')),
                        ('created_at', models.DateTimeField(db_index=True, verbose_name='recebida em')),
                        ('completed_at', models.DateTimeField(blank=True, null=True, verbose_name='concluída em')),
                    ],
                    options={
                        'verbose_name': 'chave de idempotência',
                        'verbose_name_plural': 'chaves de idempotência',
                        'db_table': 'orders_idempotencyrecord',
                        'ordering': ['-created_at'],
                        'constraints': [models.UniqueConstraint(fields=('caller', 'key'), name='idempotency_unique_caller_key')],
                    },
                ),
                migrations.CreateModel(
                    name='ServiceToken',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('jti', models.CharField(max_length=64, unique=True, verbose_name='identificador (jti)')),
                        ('label', models.CharField(blank=True, max_length=200, verbose_name='descrição')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='criado em')),
                        ('expires_at', models.DateTimeField(verbose_name='expira em')),
                        ('revoked_at', models.DateTimeField(blank=True, null=True, verbose_name='revogado em')),
                        ('revoked_by', models.CharField(blank=True, max_length=150, verbose_name='revogado por')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='service_tokens', to=settings.AUTH_USER_MODEL, verbose_name='usuário')),
                    ],
                    options={
                        'verbose_name': 'token de serviço',
                        'verbose_name_plural': 'tokens de serviço',
                        'db_table': 'integrations_servicetoken',
                        'ordering': ['-created_at'],
                    },
                ),
            ],
        ),
        migrations.RunPython(content_types_move, content_types_back),
    ]
