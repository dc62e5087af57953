"""The Pagar.me webhook events move here from billing (billing.0014_pagarme_events_to_integrations):
state only, the tables keep their names (``db_table``), no row is copied.

Their content types move with them (``billing.pagarmeevent`` → ``pagarme.pagarmeevent``), so the
permissions groups and users already hold — ``view_pagarmeevent``, ``reprocess_pagarmeevent`` — keep
their rows and follow the model; the permission is now spelled ``pagarme.reprocess_pagarmeevent``.
"""

from django.db import migrations, models

MODELS = ("pagarmeevent", "pagarmewebhookrefusal")


def content_types_move(apps, schema_editor, *, source="billing", target="pagarme"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not ContentType.objects.filter(app_label=target, model=model).exists():
            ContentType.objects.filter(app_label=source, model=model).update(app_label=target)


def content_types_back(apps, schema_editor):
    content_types_move(apps, schema_editor, source="pagarme", target="billing")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("billing", "0014_pagarme_events_to_integrations"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='PagarmeEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('event_id', models.CharField(max_length=100, unique=True, verbose_name='ID do evento')),
                        ('type', models.CharField(blank=True, db_index=True, max_length=80, verbose_name='tipo')),
                        ('payload', models.JSONField(verbose_name='conteúdo recebido')),
                        ('status', models.CharField(choices=[('RECEIVED', 'Recebido'), ('APPLIED', 'Aplicado'), ('STALE', 'Antigo (ignorado)'), ('UNMATCHED', 'Pedido não encontrado'), ('UNKNOWN_TYPE', 'Tipo não tratado'), ('INVALID', 'Inválido'), ('NOT_CONFIRMED', 'Não confirmado pela API'), ('DUPLICATE', 'Duplicado (cobrança e situação já aplicadas)')], db_index=True, default='RECEIVED', max_length=16, verbose_name='situação')),
                        ('order_id', models.BigIntegerField(blank=True, db_index=True, null=True, verbose_name='pedido (id)')),
                        ('bubble_order_id', models.CharField(blank=True, db_index=True, max_length=64, verbose_name='ID do pedido no Bubble')),
                        ('charge_id', models.CharField(blank=True, max_length=100, verbose_name='cobrança')),
                        ('charge_status', models.CharField(blank=True, max_length=40, verbose_name='situação da cobrança')),
                        ('occurred_at', models.DateTimeField(blank=True, null=True, verbose_name='ocorrido em')),
                        ('received_at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='recebido em')),
                        ('processed_at', models.DateTimeField(blank=True, null=True, verbose_name='processado em')),
                        ('message', models.TextField(blank=True, verbose_name='mensagem')),
                        ('auth_scheme', models.CharField(blank=True, max_length=8, verbose_name='autenticação')),
                        ('api_status', models.CharField(blank=True, max_length=40, verbose_name='situação na API')),
                        ('payment_status', models.CharField(blank=True, max_length=16, verbose_name='pagamento resultante')),
                        ('attempts', models.PositiveSmallIntegerField(default=0, verbose_name='consultas à API')),
                        ('next_attempt_at', models.DateTimeField(blank=True, null=True, verbose_name='próxima consulta')),
                        ('reduced_at', models.DateTimeField(blank=True, null=True, verbose_name='payload reduzido em')),
                    ],
                    options={
                        'verbose_name': 'evento Pagar.me',
                        'verbose_name_plural': 'eventos Pagar.me',
                        'db_table': 'billing_pagarmeevent',
                        'ordering': ['-received_at'],
                        'permissions': [('reprocess_pagarmeevent', 'Pode reprocessar eventos do Pagar.me')],
                    },
                ),
                migrations.CreateModel(
                    name='PagarmeWebhookRefusal',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('received_at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='recebido em')),
                        ('source', models.CharField(blank=True, default='', max_length=64, verbose_name='origem')),
                        ('window_start', models.DateTimeField(blank=True, null=True, verbose_name='minuto')),
                        ('count', models.PositiveIntegerField(default=1, verbose_name='recusas no minuto')),
                        ('last_at', models.DateTimeField(blank=True, null=True, verbose_name='última recusa em')),
                        ('http_status', models.PositiveSmallIntegerField(verbose_name='resposta')),
                        ('reasons', models.JSONField(default=dict, verbose_name='motivos')),
                        ('message', models.TextField(blank=True, verbose_name='mensagem')),
                        ('kid', models.CharField(blank=True, max_length=200, verbose_name='kid')),
                        ('remote_addr', models.GenericIPAddressField(blank=True, null=True, verbose_name='IP')),
                        ('body_bytes', models.PositiveIntegerField(default=0, verbose_name='tamanho do corpo')),
                        ('body_excerpt', models.CharField(blank=True, max_length=200, verbose_name='início do corpo')),
                    ],
                    options={
                        'verbose_name': 'webhook Pagar.me recusado',
                        'verbose_name_plural': 'webhooks Pagar.me recusados',
                        'db_table': 'billing_pagarmewebhookrefusal',
                        'ordering': ['-received_at'],
                        'constraints': [models.UniqueConstraint(fields=('source', 'window_start', 'http_status'), name='pagarme_refusal_per_source_minute')],
                    },
                ),
            ],
        ),
        migrations.RunPython(content_types_move, content_types_back),
    ]
