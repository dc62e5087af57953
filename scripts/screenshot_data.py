"""Demo data for scripts/screenshots.py: a small business day with one order in every situation ops
meet, and a full history (actions, Omie calls, Bubble writebacks) on the orders the screenshots open.

Written straight to the database (a fresh one the screenshot script owns); the rows have the
shapes the real flows write.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from orders.models import ActionLog, Order

NOW = timezone.now()


def _id(prefix: int, n: int) -> str:
    return f"{1732000000000 + prefix * 1000 + n}x{488321592367320000 + prefix * 1000 + n}"


# (n, name, kind, document, amount, state) — state: the fields that make the situation.
ORDERS: list[tuple[int, str, str, str, str, dict[str, Any]]] = [
    (1, "Clínica Bem Estar Ltda", "PJ", "11222333000181", "2450.00", {
        "sync_status": "SYNCED", "billing_status": "FAILED", "billing_trigger": "IMMEDIATE", "payment_status": "paid",
        "last_error": "A prefeitura rejeitou a NFS-e: E160 – Código de serviço (LC 116) 17.01 não permitido para o município "
                      "de Campinas. Corrija o código no Omie e clique em Reprocessar.", "minutes": 190}),
    (2, "Carlos Eduardo Lima", "PF", "52998224725", "320.00", {
        "sync_status": "FAILED", "last_error": "CPF inválido (dígito verificador não confere): corrija o cadastro do cliente no "
                                               "Bubble e clique em Reprocessar.", "minutes": 45}),
    (3, "Construtora Horizonte S.A.", "PJ", "44555666000199", "68000.00", {
        "sync_status": "SYNCED", "billing_status": "ON_HOLD", "billing_trigger": "DAY_25", "hold_reason": "AMOUNT", "sched": True,
        "minutes": 300}),
    (4, "Comércio Baixado ME", "PJ", "77888999000150", "990.00", {
        "sync_status": "SYNCED", "billing_status": "ON_HOLD", "billing_trigger": "DAY_25", "hold_reason": "CNPJ_INACTIVE",
        "cnpj_status": "BAIXADA", "sched": True, "minutes": 410}),
    (5, "Maria Aparecida Silva", "PF", "39053344705", "350.00", {
        "sync_status": "SYNCED", "billing_status": "ISSUED", "billing_trigger": "IMMEDIATE", "payment_status": "paid", "nf": "1043",
        "minutes": 520}),
    (6, "João Pedro Souza", "PF", "52998224700", "1280.00", {
        "sync_status": "SYNCED", "billing_status": "AWAITING_PAYMENT", "billing_trigger": "AWAIT_PAYMENT", "minutes": 35}),
    (7, "Padaria Pão Quente Ltda", "PJ", "11222333000262", "4500.00", {
        "sync_status": "SYNCED", "billing_status": "SCHEDULED", "billing_trigger": "DAY_25", "sched": True, "minutes": 600}),
    (8, "Tech Soluções Digitais S.A.", "PJ", "12ABC34501DE35", "7300.00", {
        "sync_status": "SYNCED", "billing_status": "SCHEDULED", "billing_trigger": "DAY_25", "sched": True, "minutes": 700}),
    (9, "Ana Beatriz Costa", "PF", "14538220620", "210.00", {
        "sync_status": "SYNCED", "billing_status": "ISSUING", "billing_trigger": "IMMEDIATE", "payment_status": "paid",
        "minutes": 4}),
    (10, "Fernanda Oliveira", "PF", "71428793860", "640.00", {
        "sync_status": "SYNCED", "billing_status": "CANCELLED", "billing_trigger": "IMMEDIATE", "payment_status": "paid",
        "nf": "1012", "minutes": 2900}),
    (11, "Mercado Central Ltda", "PJ", "33444555000133", "15200.00", {
        "sync_status": "SYNCED", "billing_status": "MANUAL", "billing_trigger": "DAY_25", "nf": "887", "minutes": 4300}),
    (12, "Lucas Pereira", "PF", "86288366757", "95.00", {"sync_status": "PENDING", "minutes": 1}),
    (13, "Julia Santos", "PF", "26947368031", "430.00", {
        "sync_status": "SYNCED", "billing_status": "ISSUED", "billing_trigger": "IMMEDIATE", "payment_status": "chargedback",
        "payment_flag": "Chargeback recebido do Pagar.me em 24/11: analisar antes de qualquer ação.", "nf": "1039", "minutes": 1500}),
    (14, "Rafael Almeida Engenharia Ltda", "PJ", "60701190000104", "3100.00", {
        "sync_status": "FAILED", "last_error": "CNPJ não encontrado na Receita Federal (BrasilAPI respondeu 404 em 5 consultas). "
                                               "Confira o CNPJ no Bubble.", "minutes": 80}),
    (15, "Bruno Henrique Rocha", "PF", "11144477735", "180.00", {
        "sync_status": "SYNCED", "billing_status": "CANCELLING", "billing_trigger": "IMMEDIATE", "payment_status": "paid", "nf": "1041",
        "minutes": 15}),
    (16, "Escola Saber Mais Ltda", "PJ", "19131243000197", "5600.00", {
        "sync_status": "SYNCED", "billing_status": "SCHEDULED", "billing_trigger": "DAY_25", "sched": True, "minutes": 1300}),
    (17, "Patrícia Gomes", "PF", "39269422005", "275.00", {
        "sync_status": "SYNCED", "billing_status": "ISSUED", "billing_trigger": "IMMEDIATE", "payment_status": "paid", "nf": "1040",
        "minutes": 2000}),
    (18, "Oficina do Zé ME", "PJ", "05570714000159", "850.00", {
        "sync_status": "SYNCED", "billing_status": "SCHEDULED", "billing_trigger": "DAY_25", "sched": True, "minutes": 2400}),
    (19, "Distribuidora Norte Ltda", "PJ", "08300463000108", "12400.00", {
        "sync_status": "SYNCED", "billing_status": "ISSUING", "billing_trigger": "DAY_25", "sched": True,
        "minutes": 1850}),
]
FEATURED = 1  # the order page screenshot: a rejected NFS-e, what ops most often open
SERVICES = ["Consultoria em gestão financeira", "Implantação de sistema", "Treinamento da equipe", "Suporte mensal"]


def _order(n: int, name: str, kind: str, document: str, amount: str, state: dict[str, Any]) -> Order:
    from django.conf import settings

    from billing.decision import next_billing_date
    from common.dates import today_sp

    state = dict(state)
    minutes, scheduled, nf = state.pop("minutes"), state.pop("sched", False), state.pop("nf", None)
    synced = state["sync_status"] == "SYNCED"
    paid = state.get("payment_status") in ("paid", "chargedback", "refunded")
    order = Order.objects.create(
        bubble_id=_id(2, n), customer_bubble_id=_id(1, n), customer_name=name, customer_kind=kind, document=document,
        customer_email=f"financeiro{n}@example.com.br", amount=Decimal(amount), service_description=SERVICES[n % len(SERVICES)],
        lc116_code="17.01", payment_method="pix" if kind == "PF" else "boleto",
        cnpj_status=state.pop("cnpj_status", "ATIVA" if kind == "PJ" else ""),
        omie_customer_code=4_210_000_000 + n if synced else None, omie_os_code=5_320_000_000 + n if synced else None,
        omie_os_number=str(1860 + n) if synced else "",
        billing_scheduled_for=next_billing_date(today_sp(), settings.BILLING_DAY) if scheduled else None,
        paid_via="pagarme" if paid else "", amount_paid=Decimal(amount) if paid else Decimal("0"),
        **state,
    )
    created = NOW - timedelta(minutes=minutes)
    Order.objects.filter(pk=order.pk).update(
        created_at=created, updated_at=created + timedelta(seconds=40), synced_at=created + timedelta(seconds=3) if synced else None,
        paid_at=created - timedelta(minutes=1) if paid else None,
    )
    order.refresh_from_db()
    order.demo_nf = nf  # type: ignore[attr-defined]
    return order


def _backdate(model: Any, pk: int, when: Any) -> None:
    """Moves a demo row back in time. The append-only tables refuse UPDATE by trigger; this is the
    screenshot script's own throw-away database, so the trigger is lifted for this one statement."""
    from django.db import connection, transaction

    table = model._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        cursor.execute(f"UPDATE {table} SET created_at = %s WHERE id = %s", [when, pk])
        cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


def _history(order: Order) -> None:
    """What the flows record for a PJ order paid by Pix whose NFS-e the city hall rejected."""
    from integrations.bubble.models import BubbleWriteback
    from integrations.omie.models import OmieCall

    t0 = order.created_at
    at = lambda seconds: t0 + timedelta(seconds=seconds)  # noqa: E731
    actions = [
        (0, "bubble:ana.souza@blu.com.br", "sync_trigger", "ok", "Sincronização pedida pelo Bubble (gatilho \"Pedido criado\")."),
        (1, "system:orders.sync", "sync_fetch", "ok", "Pedido e cliente lidos do Bubble; CNPJ ATIVA na Receita Federal."),
        (2, "system:orders.sync", "omie_customer_upsert", "ok", "Cliente cadastrado no Omie (código 4210000001)."),
        (3, "system:orders.sync", "omie_os_create", "ok", "OS 1861 criada no Omie."),
        (3, "system:orders.sync", "sync_complete", "ok", "Pedido sincronizado."),
        (4, "system:billing", "billing_decide", "ok", "Faturamento imediato: pedido pago."),
        (5, "system:billing", "billing_emit", "ok", "Emissão da NFS-e iniciada."),
        (75, "system:billing", "billing_failed", "error", order.last_error),
        (2400, "bubble:ana.souza@blu.com.br", "nf_cancel", "rejected",
         "Não é possível cancelar a NF: o faturamento do pedido está em \"Falha na emissão\"."),
    ]
    for seconds, actor, action, outcome, message in actions:
        payload = {"operator": "ana.souza@blu.com.br"} if actor.startswith("bubble") else {}
        entry = ActionLog.objects.create(actor=actor, action=action, order=order, order_bubble_id=order.bubble_id, outcome=outcome,
                                         message=message, payload=payload)
        _backdate(ActionLog, entry.pk, at(seconds))
    calls = [
        (2, "UpsertCliente", "ok", 200, "", "", 412), (3, "IncluirOS", "ok", 200, "", "", 530), (5, "FaturarOS", "ok", 200, "", "", 610),
        (66, "StatusOS", "ok", 200, "", "", 380),
        (75, "StatusOS", "business", 200, "E160", "Código de serviço não permitido para o município.", 402),
    ]
    for seconds, call, outcome, status, code, message, ms in calls:
        OmieCall.objects.create(call=call, integration_key=order.bubble_id, order_id=order.pk, outcome=outcome, http_status=status,
                                fault_code=code, fault_message=message, duration_ms=ms, request_id=f"req-{order.pk}-{seconds}",
                                created_at=at(seconds))
    from django_celery_results.models import TaskResult

    for seconds, task in [(1, "orders.tasks.order_sync_fetch"), (3, "orders.tasks.omie.order_sync_omie")]:
        TaskResult.objects.create(task_id=f"demo-{order.pk}-{seconds}", task_name=task, task_args=f'"({order.pk},)"', status="SUCCESS",
                                  result="null", date_done=at(seconds), worker="celery@worker-1")
    writebacks = [
        (3, {"status_pedido": "Sincronizado", "omie_os_numero": order.omie_os_number}),
        (5, {"status_faturamento": "Em emissão"}),
        (76, {"status_faturamento": "Falha na emissão", "erro_integracao": order.last_error}),
    ]
    for seconds, fields in writebacks:
        BubbleWriteback.objects.create(thing="order", bubble_id=order.bubble_id, fields=fields, status="DONE", attempts=1,
                                       order_id=order.pk, created_at=at(seconds), updated_at=at(seconds + 1),
                                       delivered_at=at(seconds + 1), give_up_at=at(seconds + 86400))


def _dead_writeback(order: Order) -> None:
    from integrations.bubble.models import BubbleWriteback

    BubbleWriteback.objects.create(
        thing="customer", bubble_id=order.customer_bubble_id, fields={"saldo_cc": "120.00"}, status="DEAD", attempts=31,
        order_id=order.pk, last_status_code=401, last_error="HTTP 401: token da API do Bubble recusado.",
        created_at=NOW - timedelta(hours=26), updated_at=NOW - timedelta(hours=2), give_up_at=NOW - timedelta(hours=2),
    )


def _omie_pause() -> None:
    from integrations.omie.throttle import get_throttle

    get_throttle().pause("StatusOS", seconds=17 * 60, reason="banned")


def _user(password: str) -> str:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create_user(
        username="paula.financeiro", password=password, email="paula@blu.com.br", first_name="Paula", is_staff=True,
    )
    group = Group.objects.filter(name="Financeiro").first()
    if group is not None:
        user.groups.add(group)
    else:  # before the billing app created the groups
        user.is_superuser = True
        user.save()
    return user.username


def _invoice(order: Order) -> None:
    """The invoice each billing status implies (the shapes billing.services write)."""
    from billing.models import FailureStage, Invoice

    status, nf = order.billing_status, getattr(order, "demo_nf", None)
    if status not in ("ISSUING", "ISSUED", "FAILED", "CANCELLING", "CANCELLED", "MANUAL"):
        return
    requested = order.created_at + timedelta(seconds=5)
    fields: dict[str, Any] = {"faturar_requested_at": requested, "faturar_accepted_at": requested + timedelta(seconds=1),
                              "requested_by": "system:billing"}
    if nf:
        fields.update(nfse_number=nf, issued_at=requested + timedelta(seconds=70), verification_code=f"V{nf}X",
                      nfse_url=f"https://nfse.campinas.sp.gov.br/notas/{nf}")
    if status == "ISSUING":
        fields.update(next_step="POLL_NFSE", next_poll_at=NOW + timedelta(minutes=1), poll_count=3 if order.pk % 2 else 41)
    if status == "FAILED":
        fields.update(failure_stage=FailureStage.NFSE, city_hall_message=order.last_error)
    if status in ("CANCELLING", "CANCELLED"):
        fields.update(cancel_reason_code=1, cancel_justification="Valor do serviço emitido errado.",
                      cancel_requested_by="admin:paula.financeiro", cancel_requested_at=NOW - timedelta(minutes=10))
    if status == "MANUAL":
        fields = {"nfse_number": nf, "issued_at": order.created_at, "manual_recorded_by": "admin:paula.financeiro",
                  "manual_note": "Emitida direto no portal da prefeitura."}
    invoice = Invoice.objects.create(order=order, status=status, **fields)
    Invoice.objects.filter(pk=invoice.pk).update(created_at=requested)


def _payment_event(order: Order) -> None:
    from integrations.pagarme.webhooks.models import PagarmeEvent

    event = PagarmeEvent.objects.create(
        event_id=f"hook_{order.pk:04d}RkW2xq", type="charge.paid", payload={"id": f"hook_{order.pk:04d}RkW2xq"}, status="APPLIED",
        order_id=order.pk, bubble_order_id=order.bubble_id, charge_id=f"ch_{order.pk:04d}Zx81", charge_status="paid",
        occurred_at=order.created_at - timedelta(minutes=1), processed_at=order.created_at - timedelta(seconds=50),
        message="Pagamento aplicado: pago via Pagar.me.",
    )
    PagarmeEvent.objects.filter(pk=event.pk).update(received_at=order.created_at - timedelta(seconds=55))


def _exports(username: str) -> tuple[int, int]:
    """A finished export of the scheduled orders (a real file) and one a worker is still writing."""
    from django.contrib.auth import get_user_model

    from backoffice.exports import export_job_run
    from billing.models import ExportJob

    user = get_user_model().objects.get(username=username)
    done = ExportJob.objects.create(requested_by=user, requested_by_name=username, kind="ORDERS", file_format="xlsx",
                                    filter_query="billing_status__exact=SCHEDULED",
                                    filter_label="status do faturamento: Agendado dia 25")
    export_job_run(done)
    running = ExportJob.objects.create(requested_by=user, requested_by_name=username, kind="INVOICES", file_format="csv",
                                       filter_label="sem filtro (todos)", status="RUNNING", total_rows=104_250, rows_done=42_000,
                                       started_at=NOW - timedelta(seconds=25))
    return done.pk, running.pk


def demo_data(*, password: str) -> dict[str, Any]:
    orders = {n: _order(n, name, kind, doc, amount, state) for n, name, kind, doc, amount, state in ORDERS}
    for order in orders.values():
        _invoice(order)
    _payment_event(orders[FEATURED])
    _history(orders[FEATURED])
    _dead_writeback(orders[13])
    _omie_pause()
    username = _user(password)
    featured = orders[FEATURED].pk
    export_done, export_running = _exports(username)
    return {
        "username": username,
        "shots": [
            ("dashboard", "/admin/"),
            ("order_list", "/admin/orders/order/"),
            ("order_page", f"/admin/orders/order/{featured}/change/"),
            ("confirm_cancel_nf", f"/admin/orders/order/{orders[5].pk}/acao/cancel-nf/"),
            ("month_close", "/admin/billing/invoice/faturamento-do-mes/"),
            ("invoice_list", "/admin/billing/invoice/"),
            ("export_running", f"/admin/billing/exportjob/{export_running}/change/"),
            ("export_done", f"/admin/billing/exportjob/{export_done}/change/"),
            ("exports", "/admin/billing/exportjob/"),
        ],
    }
