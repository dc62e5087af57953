"""The inbound side's models changed app (common/api, integrations/pagarme) without touching a row: an
existing database, migrated from before the move, keeps every row, and the permissions groups held
follow the models (their content types are renamed, not recreated)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from common.api.models import IdempotencyRecord, ServiceToken
from integrations.pagarme.webhooks.models import PagarmeEvent, PagarmeWebhookRefusal

BEFORE_THE_MOVE = [
    ("billing", "0013_merge_admin_indexes"),
    ("orders", "0010_merge_admin_indexes"),
    ("integrations", "0002_integration_check_run"),
    ("pagarme", None),
    ("api", None),
]
MOVED = {  # model: (app label before, app label after)
    "pagarmeevent": ("billing", "pagarme"),
    "pagarmewebhookrefusal": ("billing", "pagarme"),
    "servicetoken": ("integrations", "api"),
    "idempotencyrecord": ("orders", "api"),
}


def migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection)


@pytest.mark.django_db(transaction=True)
def test_rows_and_granted_permissions_survive_the_move(user_factory):
    group = Group.objects.create(name="Quem revisa")
    granted = list(Permission.objects.filter(content_type__model__in=MOVED, codename__startswith="view_"))
    granted += list(Permission.objects.filter(codename="reprocess_pagarmeevent"))
    group.permissions.add(*granted)
    user = user_factory("bubble-svc")

    executor = migrate(BEFORE_THE_MOVE)
    old = executor.loader.project_state([t for t in BEFORE_THE_MOVE if t[1]]).apps
    for model, (before, _after) in MOVED.items():
        assert ContentType.objects.filter(app_label=before, model=model).exists(), model
    old.get_model("billing", "PagarmeEvent").objects.create(event_id="hook_old", type="charge.paid", payload={"id": "hook_old"})
    old.get_model("billing", "PagarmeWebhookRefusal").objects.create(http_status=401, reasons={})
    old.get_model("integrations", "ServiceToken").objects.create(jti="j-old", user_id=user.pk, expires_at=timezone.now())
    old.get_model("orders", "IdempotencyRecord").objects.create(caller="user:1", key="k-old", fingerprint="f", method="POST",
                                                                path="/v1/x", created_at=timezone.now())

    executor = migrate(executor.loader.graph.leaf_nodes())

    assert PagarmeEvent.objects.get().event_id == "hook_old"
    assert PagarmeWebhookRefusal.objects.count() == 1
    assert ServiceToken.objects.get().jti == "j-old"
    assert IdempotencyRecord.objects.get().key == "k-old"
    for model, (before, after) in MOVED.items():
        assert ContentType.objects.filter(app_label=after, model=model).exists(), model
        assert not ContentType.objects.filter(app_label=before, model=model).exists(), model
    # The same permission rows, still the group's, now spelled with the new app label.
    assert set(group.permissions.values_list("pk", flat=True)) == {p.pk for p in granted}
    holder = user_factory("revisora")
    holder.groups.add(group)
    assert holder.has_perm("pagarme.reprocess_pagarmeevent") and holder.has_perm("api.view_servicetoken")
    # The event's order is a plain id now: the foreign-key constraint is gone, the column kept.
    PagarmeEvent.objects.create(event_id="hook_no_order", type="charge.paid", payload={}, order_id=987654321)
