"""Who may do what (docs/contract.md#ops-actions): the permission each ops action needs and the two staff groups.

``Ops`` sees everything and may retry and record a manual NF; ``Financeiro`` is Ops plus the
actions that touch money or fiscal documents. The groups are created by a data migration and kept
complete by ``groups_sync`` after every ``migrate`` (models added later get their view permission).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission

from common.api.auth import SERVICE_GROUP  # the API's service account
from integrations.omie.webhooks.models import REPROCESS_PERMISSION as REPROCESS_OMIE_WEBHOOK
from integrations.pagarme.webhooks.models import REPROCESS_PERMISSION as REPROCESS_PAGARME
from orders.services.retry import PERMISSION as RETRY_PERMISSION

RETRY = RETRY_PERMISSION
CANCEL_NF = "billing.cancel_nf"
MARK_NF_MANUAL = "billing.mark_nf_manual"
APPROVE_HOLD = "billing.approve_hold"
OVERRIDE_DAY25 = "billing.override_day25"
MANAGE_CC = "billing.manage_cc"
EXPORT = "billing.export"

OPS_GROUP = "Ops"
FINANCE_GROUP = "Financeiro"
# The API's callers (Bubble's service user): only members may use the order and billing endpoints
# under /v1/; staff act through the admin, so a staff password alone never yields an API that acts
# as anyone. The group carries Financeiro's permissions (Bubble decides which operator may press
# which button); narrow them in the admin for a more limited integration.

RESOLVE_DRIFT = "billing.resolve_drift"
# REPROCESS_PAGARME / REPROCESS_OMIE_WEBHOOK: declared next to each webhook model, one pattern (<system>.reprocess_<model>).

OPS_PERMISSIONS = [RETRY, MARK_NF_MANUAL, RESOLVE_DRIFT, REPROCESS_PAGARME, REPROCESS_OMIE_WEBHOOK]
FINANCE_PERMISSIONS = [*OPS_PERMISSIONS, APPROVE_HOLD, CANCEL_NF, OVERRIDE_DAY25, MANAGE_CC, EXPORT]
# POST /v1/orders/{id}/sync-omie creates the order: Bubble needs add_order, which no staff group has
# (second security review: the group lacked it, so a service user set up as docs/deploying.md says got 403).
# orders/tests/test_service_user_setup.py checks the group holds what every /v1/ view requires.
SYNC_ORDER = "orders.add_order"
SERVICE_PERMISSIONS = [*FINANCE_PERMISSIONS, SYNC_ORDER]

# "View all": every model of these apps (the project's own and the Celery admins ops read).
VIEW_APP_LABELS = [
    "orders", "billing", "integrations", "omie", "bubble", "brasilapi", "pagarme", "api", "django_celery_beat",
    "django_celery_results",
]


# What each permission lets a person do, as ops say it (the refusals and the 403 page).
PERMISSION_LABELS = {
    RETRY: "reprocessar pedidos",
    CANCEL_NF: "cancelar NF",
    MARK_NF_MANUAL: "registrar NF manual",
    APPROVE_HOLD: "aprovar retenções",
    OVERRIDE_DAY25: "antecipar o faturamento do dia 25",
    MANAGE_CC: "movimentar a conta corrente do cliente",
}


def permission_groups(permission: str) -> list[str]:
    """The groups that hold ``permission`` (app_label.codename), by name."""

    app_label, _, codename = permission.partition(".")
    return sorted(Group.objects.filter(permissions__content_type__app_label=app_label, permissions__codename=codename)
                  .values_list("name", flat=True).distinct())


def permission_missing_message(permission: str) -> str:
    """"Você não tem permissão para cancelar NF. Quem pode: o grupo Financeiro." — never the dotted name."""
    what = PERMISSION_LABELS.get(permission, "esta ação")
    # People read this in the admin: the API's service group is not one they can join.
    groups = [name for name in permission_groups(permission) if name != SERVICE_GROUP]
    if not groups:
        who = "Peça a um administrador."
    elif len(groups) == 1:
        who = f"Quem pode: o grupo {groups[0]}."
    else:
        who = f"Quem pode: os grupos {', '.join(groups[:-1])} e {groups[-1]}."
    return f"Você não tem permissão para {what}. {who}"


def groups_sync(*, group_model: Any, permission_model: Any) -> None:
    """Creates the groups and adds any permission they lack. Never removes what an admin added.

    Takes the model classes so a data migration can pass its historical models.
    """
    view = list(permission_model.objects.filter(content_type__app_label__in=VIEW_APP_LABELS, codename__startswith="view_"))
    for name, wanted in ((OPS_GROUP, OPS_PERMISSIONS), (FINANCE_GROUP, FINANCE_PERMISSIONS), (SERVICE_GROUP, SERVICE_PERMISSIONS)):
        group, created = group_model.objects.get_or_create(name=name)
        if name == SERVICE_GROUP and not created:
            continue  # its permissions are the deployment's choice once it exists
        perms = list(view)
        for dotted in wanted:
            app_label, codename = dotted.split(".")
            perms.extend(permission_model.objects.filter(content_type__app_label=app_label, codename=codename))
        group.permissions.add(*perms)


def groups_sync_after_migrate(**_kwargs: object) -> None:
    groups_sync(group_model=Group, permission_model=Permission)
