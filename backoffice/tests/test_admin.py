import pytest
from django.contrib.auth import get_user_model

from orders.models import ActionLog, Order
from orders.services import action_log_record

pytestmark = pytest.mark.django_db

BUBBLE_ID = "1671702337369x488321592367327900"


@pytest.fixture
def superuser_client(client, user_factory):
    client.force_login(user_factory("chefe", is_staff=True, is_superuser=True))
    return client


def test_it_renders_the_order_list_and_page_with_badges_and_the_timeline(superuser_client):
    order = Order.objects.create(
        bubble_id=BUBBLE_ID, customer_name="Maria", customer_kind="PF", sync_status="FAILED", last_error="CPF inválido"
    )
    action_log_record(actor="bubble:ops@example.com", action="sync_trigger", outcome="ok", order=order, message="gatilho recebido")

    listing = superuser_client.get("/admin/orders/order/")
    assert listing.status_code == 200
    assert "Erro de sincronização" in listing.content.decode()
    assert "badge-red" in listing.content.decode()

    page = superuser_client.get(f"/admin/orders/order/{order.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Histórico" in html and "gatilho recebido" in html
    assert 'name="_save"' not in html  # nothing is edited by hand


def test_nobody_can_add_change_or_delete_action_log_rows_not_even_a_superuser(superuser_client):
    entry = action_log_record(actor="system:test", action="sync", outcome="ok", message="original")
    assert superuser_client.get("/admin/orders/actionlog/").status_code == 200
    assert superuser_client.get("/admin/orders/actionlog/add/").status_code == 403
    assert superuser_client.get(f"/admin/orders/actionlog/{entry.pk}/delete/").status_code == 403
    response = superuser_client.post(f"/admin/orders/actionlog/{entry.pk}/change/", {"message": "rewritten"})
    assert response.status_code == 403
    assert ActionLog.objects.get(pk=entry.pk).message == "original"


def test_orders_cannot_be_added_or_deleted_from_the_admin(superuser_client):
    order = Order.objects.create(bubble_id=BUBBLE_ID)
    assert superuser_client.get("/admin/orders/order/add/").status_code == 403
    assert superuser_client.get(f"/admin/orders/order/{order.pk}/delete/").status_code == 403


def test_dashboard_shows_counts_failures_and_the_next_billing_run(superuser_client):
    from decimal import Decimal

    from billing.decision import next_billing_date
    from common.dates import today_sp

    run = next_billing_date(today_sp(), 25)
    for i in range(3):
        Order.objects.create(
            bubble_id=f"1671702337369x48832159236732790{i}", sync_status="SYNCED", billing_status="SCHEDULED",
            billing_scheduled_for=run, amount=Decimal("100.10"),
        )
    Order.objects.create(bubble_id="1671702337369x488321592367327999", sync_status="FAILED")
    html = superuser_client.get("/admin/").content.decode()
    assert "Próximo faturamento" in html
    assert "R$ 300,30" in html
    assert 'href="orders/order/?sync_status__exact=FAILED"' in html


def test_dashboard_shows_omie_throttle_and_dead_writebacks(superuser_client):
    from datetime import timedelta

    from django.utils import timezone

    from integrations.bubble.models import BubbleWriteback

    BubbleWriteback.objects.create(
        thing="order", bubble_id=BUBBLE_ID, fields={"status_pedido": "Sincronizado"}, status="DEAD",
        give_up_at=timezone.now() - timedelta(hours=1), last_error="HTTP 401",
    )
    html = superuser_client.get("/admin/").content.decode()
    assert "Omie: consumo da API" in html
    assert "Atualizações para o Bubble" in html and "bubble/bubblewriteback/?status__exact=DEAD" in html


def test_dashboard_survives_redis_being_down(superuser_client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = superuser_client.get("/admin/")
    assert response.status_code == 200
    assert "Próximo faturamento" in response.content.decode()


def test_order_page_timeline_merges_actions_omie_calls_and_writebacks(superuser_client):
    from django.utils import timezone

    from integrations.bubble.models import BubbleWriteback
    from integrations.omie.models import OmieCall

    order = Order.objects.create(bubble_id=BUBBLE_ID)
    action_log_record(actor="bubble:ops@example.com", action="sync_trigger", outcome="ok", order=order, message="gatilho")
    OmieCall.objects.create(call="IncluirOS", order_id=order.pk, outcome="ok", http_status=200, duration_ms=120)
    BubbleWriteback.objects.create(
        thing="order", bubble_id=BUBBLE_ID, fields={"status_pedido": "Sincronizado"}, status="DONE", order_id=order.pk,
        give_up_at=timezone.now(), delivered_at=timezone.now(),
    )
    html = superuser_client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert "IncluirOS" in html and "gatilho" in html and "Sincronizado" in html
    assert "3 eventos" in html


def test_the_backoffice_is_in_portuguese_even_for_a_browser_set_to_english(superuser_client):
    html = superuser_client.get("/admin/orders/order/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "Pesquisar" in html and "Sair" in html
    assert 'value="Search"' not in html and "Log out" not in html


def test_the_index_lists_the_ops_screens_first_and_hides_the_sandbox_when_it_is_off(superuser_client, settings):
    settings.SANDBOX = False
    html = superuser_client.get("/admin/").content.decode()
    assert "Bubble falso" not in html and "Omie falso" not in html
    assert html.index("/admin/orders/order/") < html.index("/admin/auth/user/")
    settings.SANDBOX = True
    assert "Bubble falso" in superuser_client.get("/admin/").content.decode()


def test_the_order_page_says_what_is_wrong_and_tells_the_history_in_portuguese(superuser_client):
    from integrations.omie.models import OmieCall

    order = Order.objects.create(
        bubble_id=BUBBLE_ID, customer_name="Clínica Bem Estar", customer_kind="PJ", document="11222333000181",
        sync_status="FAILED", last_error="CNPJ não encontrado na Receita Federal.",
    )
    action_log_record(actor="bubble:ana@blu.com.br", action="sync_trigger", outcome="ok", order=order, message="gatilho")
    get_user_model().objects.create_user("paula", first_name="Paula", last_name="Souza")
    action_log_record(actor="admin:paula", action="retry", outcome="rejected", order=order, message="Nada a reprocessar.")
    OmieCall.objects.create(call="IncluirOS", order_id=order.pk, outcome="business", http_status=200, fault_code="Client-101",
                            fault_message="Tag inválida", duration_ms=90)
    html = superuser_client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert "Pedido de Clínica Bem Estar" in html
    assert "O que está errado:" in html and "CNPJ não encontrado na Receita Federal." in html
    assert "11.222.333/0001-81" in html
    assert "Sincronização pedida" in html and "Bubble (ana@blu.com.br)" in html
    assert "Reprocessar" in html and "por Paula Souza" in html and "recusada" in html
    assert "IncluirOS (criação da OS)" in html and "Client-101" in html
    assert html.index("Histórico") < html.index("Todos os dados do pedido")
