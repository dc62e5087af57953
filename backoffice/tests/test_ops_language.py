"""No developer text reaches ops: the main admin pages, rendered with Django's test client, are checked
against the maintained list of forbidden strings and patterns (backoffice/ops_language.py, which the
headless-Chromium walk reuses). Also: a forbidden action is a pt-BR page in the admin's layout saying
what is missing and who can do it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_celery_results.models import TaskResult

from backoffice.ops_language import ops_text_problems, visible_text
from billing.models import CustomerAccount
from billing.tests.factories import order_in_state
from integrations.bubble.models import BubbleWriteback
from integrations.pagarme.webhooks.models import PagarmeEvent
from orders.models import ActionLog

pytestmark = pytest.mark.django_db


def test_the_checker_finds_what_ops_complained_about():
    text = ("Campo inválido: justification. Sem a permissão billing.cancel_nf. erro_integracao = —; nf_link = x "
            "orders.tasks.order_sync_fetch NCodOS R$ 0.00 1000 R$ 1.000,50 29 de Novembro CELERY RESULTS")
    problems = " | ".join(ops_text_problems(text))
    for needle in ("justification", "Sem a permissão", "chave crua", "caminho Python", "NCodOS", "R$ 0.00",
                   "mês com inicial", "CELERY RESULTS"):
        assert needle in problems
    assert ops_text_problems("Total R$ 1.000,50 e R$ 0,00") == []
    assert ops_text_problems("Pedido de Maria · R$ 1.234,56 · 29 de novembro de 2026") == []


@pytest.fixture
def data():
    issued = order_in_state("ISSUED", paid=True, customer_name="Maria Aparecida Silva", amount=Decimal("1000.50"),
                            amount_paid=Decimal("1000.50"), billing_trigger="IMMEDIATE")
    orders = [issued] + [order_in_state(s) for s in ("SCHEDULED", "ON_HOLD", "AWAITING_PAYMENT", "FAILED", "CANCELLED", "MANUAL")]
    orders.append(order_in_state("", sync_status="FAILED", last_error="Dados inválidos no Bubble: CPF inválido."))
    ActionLog.objects.create(actor="system:orders.sync_fetch", action="sync_fetch", order=issued, order_bubble_id=issued.bubble_id,
                             outcome="ok", message="Dados lidos do Bubble (PF).")
    BubbleWriteback.objects.create(thing="order", bubble_id=issued.bubble_id, order_id=issued.pk, status="DONE",
                                   fields={"erro_integracao": "", "nf_link": "https://nfse.example.com/1", "status_pedido": "Sincronizado"},
                                   give_up_at=timezone.now(), delivered_at=timezone.now())
    TaskResult.objects.create(task_id="t-1", task_name="orders.tasks.order_sync_fetch", task_args=f'"({issued.pk},)"',
                              status="SUCCESS", date_done=timezone.now())
    PagarmeEvent.objects.create(event_id="hook_1", type="charge.paid", status="APPLIED", order_id=issued.pk,
                                bubble_order_id=issued.bubble_id,
                                payload={"id": "hook_1", "type": "charge.paid", "created_at": "2026-11-01T10:00:00Z",
                                         "data": {"id": "ch_1", "status": "paid", "amount": 100050}})
    CustomerAccount.objects.create(customer_bubble_id=issued.customer_bubble_id, balance=Decimal("1000.50"))
    call_command("setup_periodic_tasks", verbosity=0)
    return orders


PAGES = [
    "/admin/", "/admin/orders/order/", "/admin/orders/actionlog/", "/admin/billing/invoice/", "/admin/pagarme/pagarmeevent/",
    "/admin/bubble/bubblewriteback/", "/admin/billing/customeraccount/", "/admin/billing/accountentry/",
    "/admin/django_celery_beat/periodictask/", "/admin/django_celery_beat/clockedschedule/",
    "/admin/django_celery_beat/crontabschedule/", "/admin/django_celery_beat/intervalschedule/",
    "/admin/django_celery_beat/solarschedule/", "/admin/django_celery_results/taskresult/",
    "/admin/django_celery_results/groupresult/",
]


def _check(client: Client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, url
    return [f"{url}: {p}" for p in ops_text_problems(visible_text(response.content.decode()))]


def test_the_main_admin_pages_have_no_developer_text(admin_client: Client, data):
    problems = []
    for url in PAGES:
        problems += _check(admin_client, url)
    for order in data:
        problems += _check(admin_client, f"/admin/orders/order/{order.pk}/change/")
    issued = data[0]
    for name in ("cancel-nf", "transfer-cc", "use-cc", "retry"):
        problems += _check(admin_client, f"/admin/orders/order/{issued.pk}/acao/{name}/")
    event = PagarmeEvent.objects.get()
    problems += _check(admin_client, f"/admin/pagarme/pagarmeevent/{event.pk}/change/")
    assert problems == [], "\n".join(problems)


def test_a_refused_input_names_the_field_in_portuguese(admin_client: Client, data):
    issued = data[0]
    response = admin_client.post(f"/admin/orders/order/{issued.pk}/acao/cancel-nf/", {"reason_code": "1", "justification": "curta"},
                                 follow=True)
    text = visible_text(response.content.decode())
    assert "Campo inválido: justificativa" in text
    assert ops_text_problems(text) == []


def test_a_forbidden_action_is_a_portuguese_page_saying_who_can(user_factory, data):
    user = user_factory("ops-ana", is_staff=True)
    user.groups.add(Group.objects.get(name="Ops"))
    client = Client()
    client.force_login(user)
    response = client.get(f"/admin/orders/order/{data[0].pk}/acao/cancel-nf/")
    assert response.status_code == 403
    html = response.content.decode()
    text = visible_text(html)
    assert "Você não tem permissão para cancelar NF. Quem pode: o grupo Financeiro." in text
    assert 'id="header"' in html and "Sair" in text  # the admin's layout
    assert ops_text_problems(text) == []
    # Any other forbidden admin page: the same layout and a generic reason.
    other = client.get("/admin/orders/actionlog/add/")
    assert other.status_code == 403 and "Você não tem permissão para abrir esta página" in visible_text(other.content.decode())
