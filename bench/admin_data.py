"""Bulk data for bench/admin_order_list.py: N orders in a realistic mix of states, in seconds.

Each state is one template row made with the ORM (so model defaults and constraints apply), then
copied N·weight times with one ``INSERT … SELECT … FROM generate_series`` that varies only the
identity columns (ids, names, documents, amounts, dates). Columns added to the model later are
copied from the template without any change here.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from orders.models import Order

# (weight %, fields of the template row). Weights sum to 100.
STATES: list[tuple[int, dict[str, Any]]] = [
    (2, {"sync_status": "PENDING", "customer_kind": "PF"}),
    (3, {"sync_status": "FAILED", "customer_kind": "PJ", "last_error": "CNPJ não encontrado na Receita Federal após 5 consultas."}),
    (10, {"sync_status": "SYNCED", "customer_kind": "PF", "billing_status": "AWAITING_PAYMENT", "billing_trigger": "AWAIT_PAYMENT"}),
    (20, {"sync_status": "SYNCED", "customer_kind": "PJ", "billing_status": "SCHEDULED", "billing_trigger": "DAY_25", "sched": True}),
    (2, {"sync_status": "SYNCED", "customer_kind": "PJ", "billing_status": "ON_HOLD", "billing_trigger": "DAY_25", "sched": True,
         "hold_reason": "AMOUNT"}),
    (1, {"sync_status": "SYNCED", "customer_kind": "PJ", "billing_status": "ON_HOLD", "billing_trigger": "DAY_25", "sched": True,
         "hold_reason": "CNPJ_INACTIVE", "cnpj_status": "BAIXADA"}),
    (2, {"sync_status": "SYNCED", "customer_kind": "PF", "billing_status": "ISSUING", "billing_trigger": "IMMEDIATE", "paid": True}),
    (39, {"sync_status": "SYNCED", "customer_kind": "PF", "billing_status": "ISSUED", "billing_trigger": "IMMEDIATE", "paid": True}),
    (11, {"sync_status": "SYNCED", "customer_kind": "PJ", "billing_status": "ISSUED", "billing_trigger": "DAY_25", "sched": True}),
    (3, {"sync_status": "SYNCED", "customer_kind": "PF", "billing_status": "FAILED", "billing_trigger": "IMMEDIATE", "paid": True,
         "last_error": "Prefeitura rejeitou a NFS-e: E160 - Código de serviço LC 116 inválido para o município."}),
    (3, {"sync_status": "SYNCED", "customer_kind": "PF", "billing_status": "CANCELLED", "billing_trigger": "IMMEDIATE", "paid": True}),
    (3, {"sync_status": "SYNCED", "customer_kind": "PJ", "billing_status": "MANUAL", "billing_trigger": "DAY_25", "sched": True}),
    (1, {"sync_status": "SYNCED", "customer_kind": "PF", "billing_status": "CANCELLING", "billing_trigger": "IMMEDIATE", "paid": True}),
]
PAYMENT_FAILED_EVERY = 50  # every 50th PF awaiting payment has a failed charge


def _template(k: int, spec: dict[str, Any]) -> Order:
    spec = dict(spec)
    scheduled, paid = spec.pop("sched", False), spec.pop("paid", False)
    synced = spec["sync_status"] == "SYNCED"
    now = timezone.now()
    defaults: dict[str, Any] = {"cnpj_status": "ATIVA" if spec["customer_kind"] == "PJ" else ""}
    order = Order(
        bubble_id=f"{1000000000 + k}x{1000000000 + k}",
        customer_bubble_id="1000000000x1",
        customer_name="Cliente",
        customer_email="cliente@example.com",
        amount=Decimal("100.00"),
        service_description="Consultoria em gestão financeira",
        lc116_code="17.01",
        payment_method="pix" if spec["customer_kind"] == "PF" else "boleto",
        omie_customer_code=900000000 + k if synced else None,
        omie_os_code=800000000 + k if synced else None,
        omie_os_number="1" if synced else "",
        synced_at=now if synced else None,
        billing_scheduled_for=(now + timedelta(days=10)).date() if scheduled else None,
        **{**defaults, **spec},
    )
    if paid:
        order.payment_status, order.paid_via, order.paid_at, order.amount_paid = "paid", "pagarme", now, Decimal("100.00")
    order.save()
    return order


def _copy_sql(*, template_id: int, k: int, count: int, pf: bool) -> tuple[str, dict[str, int]]:
    columns = [f.column for f in Order._meta.concrete_fields if f.column != "id"]
    digits = 11 if pf else 14
    overrides = {
        "bubble_id": "(1700000000000 + %(k)s * 10000000 + g)::text || 'x' || (100000000000000000 + g * 37)::text",
        "customer_bubble_id": "(1690000000000 + (g %% 20000))::text || 'x' || (500000000000000000 + %(k)s)::text",
        "customer_name": "(ARRAY['Maria','João','Ana','Pedro','Lucas','Julia','Carlos','Fernanda'])[1 + g %% 8] || ' ' || "
        "(ARRAY['Silva','Souza','Oliveira','Santos','Lima','Pereira','Costa','Almeida'])[1 + (g / 8) %% 8] || ' ' || g::text",
        # bigint: g × 7919 leaves int4 beyond ~270,000 rows per state (a million orders).
        "document": f"lpad(((g::bigint * 7919 + %(k)s * 104729) %% {10 ** digits - 1})::text, {digits}, '0')",
        "amount": "round((50 + random() * 4950)::numeric, 2)",
        "created_at": "now() - random() * interval '180 days'",
        "updated_at": "now() - random() * interval '1 days'",
        "omie_customer_code": "CASE WHEN t.omie_customer_code IS NULL THEN NULL ELSE 900000000 + %(k)s * 10000000 + g END",
        "omie_os_code": "CASE WHEN t.omie_os_code IS NULL THEN NULL ELSE 800000000 + %(k)s * 10000000 + g END",
        "omie_os_number": "CASE WHEN t.omie_os_number = '' THEN '' ELSE (%(k)s * 10000000 + g)::text END",
        "amount_paid": "CASE WHEN t.payment_status = 'paid' THEN round((50 + random() * 4950)::numeric, 2) ELSE 0 END",
        "billing_scheduled_for": "CASE WHEN t.billing_scheduled_for IS NULL THEN NULL "
        "ELSE t.billing_scheduled_for + ((g %% 60) - 30) END",
    }
    if pf:
        overrides["payment_status"] = (
            f"CASE WHEN t.billing_status = 'AWAITING_PAYMENT' AND g %% {PAYMENT_FAILED_EVERY} = 0 THEN 'failed' ELSE t.payment_status END"
        )
    select = ", ".join(overrides.get(c, f"t.{c}") for c in columns)
    sql = (
        f"INSERT INTO {Order._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {select} FROM {Order._meta.db_table} t CROSS JOIN generate_series(1, %(count)s) g WHERE t.id = %(id)s"
    )
    return sql, {"k": k, "count": count, "id": template_id}


def bench_orders_fill(*, total: int) -> int:
    """Makes the orders table hold exactly ``total`` bench orders; returns how many were created."""
    if Order.objects.count() == total:
        return 0
    with transaction.atomic():
        Order.objects.all().delete()  # only the bench's own database is ever used
        with connection.cursor() as cursor:
            cursor.execute("SELECT setseed(0.25)")
            made = 0
            for k, (weight, spec) in enumerate(STATES):
                count = total * weight // 100 if k < len(STATES) - 1 else total - made
                template = _template(k, spec)
                sql, params = _copy_sql(template_id=template.pk, k=k, count=count, pf=spec["customer_kind"] == "PF")
                cursor.execute(sql, params)
                Order.objects.filter(pk=template.pk).delete()
                made += count
        bench_related_fill()
    with connection.cursor() as cursor:
        # VACUUM too: it marks the pages all-visible, as autovacuum does on a live table, so the
        # planner can use index-only scans (a freshly bulk-loaded table would understate them).
        cursor.execute(f"VACUUM ANALYZE {Order._meta.db_table}")
        cursor.execute("VACUUM ANALYZE billing_invoice")
    return made


def bench_related_fill() -> None:
    """Rows other apps keep per order that the list shows (the invoice's NF number)."""
    from django.apps import apps

    if not apps.is_installed("billing") or "invoice" not in apps.get_app_config("billing").models:
        return
    invoice_model = apps.get_model("billing", "Invoice")
    table, orders = invoice_model._meta.db_table, Order._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")
        # One invoice per order that reached emission; the NF number is known once issued or cancelled.
        columns = {f.column: f for f in invoice_model._meta.concrete_fields if f.column != "id"}
        values = {
            "order_id": "o.id",
            "status": "o.billing_status",
            "nfse_number": "CASE WHEN o.billing_status IN ('ISSUED','CANCELLED','CANCELLING','MANUAL') THEN (2025000000 + o.id)::text "
            "ELSE '' END",
            "issued_at": "CASE WHEN o.billing_status IN ('ISSUED','CANCELLED','CANCELLING','MANUAL') THEN o.created_at ELSE NULL END",
            "created_at": "o.created_at",
            "updated_at": "o.updated_at",
        }
        defaults = []
        for column, field in columns.items():
            if column in values:
                defaults.append(values[column])
            elif field.null:
                defaults.append("NULL")
            else:
                default = field.get_default()
                defaults.append(cursor.mogrify("%s", [field.get_db_prep_save(default, connection)]) if default is not None else "''")
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(defaults)} FROM {orders} o "
            "WHERE o.billing_status IN ('ISSUING','ISSUED','FAILED','CANCELLING','CANCELLED','MANUAL')"
        )
        cursor.execute(f"ANALYZE {table}")


def bench_user() -> Any:
    """A staff user in the Ops group (or with view permission on orders when the group does not exist)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission

    user, _ = get_user_model().objects.get_or_create(username="bench-ops", defaults={"is_staff": True, "email": "ops@example.com"})
    group = Group.objects.filter(name="Ops").first()
    if group is not None:
        user.groups.add(group)
    else:
        user.user_permissions.add(Permission.objects.get(content_type__app_label="orders", codename="view_order"))
    return user


def sample_values() -> dict[str, str]:
    """Real values from the filled table, for the search URLs."""
    from urllib.parse import quote

    pf = Order.objects.filter(customer_kind="PF").exclude(omie_os_number="").order_by("id").values().first() or {}
    doc = pf.get("document", "00000000000")
    values = {
        "name": quote(" ".join(pf.get("customer_name", "Maria").split()[:2])),
        "document_masked": quote(f"{doc[:3]}.{doc[3:6]}.{doc[6:9]}-{doc[9:]}"),
        "bubble_id": pf.get("bubble_id", ""),
        "os_number": pf.get("omie_os_number", ""),
        # The whole name: its number part matches a handful of rows, found through the trigram index.
        "rare_name": quote(pf.get("customer_name", "Maria")),
        "order_id": str(pf.get("id", 0)),
    }
    from django.apps import apps

    if "invoice" in apps.get_app_config("billing").models:
        invoice = apps.get_model("billing", "Invoice").objects.exclude(nfse_number="").order_by("id").values("nfse_number").first()
        if invoice:
            values["nf_number"] = invoice["nfse_number"]
    return values
