"""Both webhooks are built alike (docs/architecture.md, "A webhook"): the same modules next to each other
in integrations/<system>/webhooks/, one reprocess permission spelled the same way, and one seam to billing
(integrations/webhooks.py) whose task names resolve to real tasks."""

from __future__ import annotations

import importlib

import pytest
from django.contrib import admin

from billing.permissions import FINANCE_PERMISSIONS, OPS_PERMISSIONS
from config.celery import app
from integrations.webhooks import PROCESS_TASKS

SYSTEMS = {"pagarme": "PagarmeEvent", "omie": "OmieWebhookEvent"}


@pytest.mark.parametrize("system", sorted(SYSTEMS))
def test_each_webhook_has_its_view_model_store_and_admin_side_by_side(system):
    package = f"integrations.{system}.webhooks"
    for module in ("views", "models", "services", "admin"):
        importlib.import_module(f"{package}.{module}")
    models = importlib.import_module(f"{package}.models")
    model = getattr(models, SYSTEMS[system])
    assert model._meta.app_label == system
    assert admin.site.is_registered(model)
    assert type(admin.site._registry[model]).__module__ == f"{package}.admin"
    # One permission pattern: <system>.reprocess_<model>, declared on the model, held by Ops and Financeiro.
    assert models.REPROCESS_PERMISSION == f"{system}.reprocess_{model._meta.model_name}"
    assert ("reprocess_" + model._meta.model_name) in dict(model._meta.permissions)
    assert models.REPROCESS_PERMISSION in OPS_PERMISSIONS and models.REPROCESS_PERMISSION in FINANCE_PERMISSIONS
    # The order is a plain id: integrations never import orders.
    assert model._meta.get_field("order_id").get_internal_type() == "BigIntegerField"


def test_the_seam_names_a_registered_billing_task_for_each_system():
    app.loader.import_default_modules()
    assert set(PROCESS_TASKS) == set(SYSTEMS)
    for system, name in PROCESS_TASKS.items():
        assert name in app.tasks, system
        assert name.startswith("billing.tasks."), system
