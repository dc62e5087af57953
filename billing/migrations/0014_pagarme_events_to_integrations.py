"""PagarmeEvent and PagarmeWebhookRefusal move to integrations/pagarme (app label ``pagarme``), keeping
their tables: only Django's state moves here (``pagarme.0001_initial`` takes it), no row is copied.

The one change in the database: ``billing_pagarmeevent.order_id`` loses its foreign-key constraint
(integrations never import orders: the event keeps the order's id as a plain integer, same column,
same index).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("billing", "0013_merge_admin_indexes"),
        ("orders", "0010_merge_admin_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterField(
                    model_name="pagarmeevent",
                    name="order",
                    field=models.ForeignKey(
                        blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.PROTECT,
                        related_name="pagarme_events", to="orders.order", verbose_name="pedido",
                    ),
                ),
            ],
            state_operations=[
                migrations.DeleteModel(name="PagarmeEvent"),
                migrations.DeleteModel(name="PagarmeWebhookRefusal"),
            ],
        ),
    ]
