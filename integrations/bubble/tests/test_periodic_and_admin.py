import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from integrations.bubble.models import BubbleWriteback
from integrations.bubble.selectors import writeback_counts_by_status
from integrations.bubble.services import writeback_enqueue

ORDER = "1671702337369x488321592367327900"


@pytest.mark.django_db
def test_the_sweep_is_scheduled_every_30_to_60_seconds_on_the_bubble_queue(settings):
    call_command("setup_periodic_tasks", stdout=open("/dev/null", "w"))
    sweep = PeriodicTask.objects.get(task="integrations.tasks.bubble.writeback_sweep")
    assert 30 <= sweep.interval.every <= 60 and sweep.interval.period == "seconds"
    assert PeriodicTask.objects.filter(task="integrations.tasks.bubble.writeback_purge", crontab__isnull=False).exists()
    import integrations.tasks  # what the worker's autodiscovery imports
    from config.celery import app

    assert app.amqp.router.route({}, "integrations.tasks.bubble.writeback_sweep")["queue"].name == "bubble"
    assert {"integrations.tasks.bubble.writeback_deliver", "integrations.tasks.bubble.writeback_sweep"} <= set(app.tasks)
    assert integrations.tasks.bubble.writeback_deliver.name == "integrations.tasks.bubble.writeback_deliver"


@pytest.fixture
def rows(db):
    with transaction.atomic():
        pending = BubbleWriteback.objects.get(
            pk=writeback_enqueue(thing="order", bubble_id=ORDER, fields={"status_pedido": "Sincronizado"}, order_id=42)
        )
    dead = BubbleWriteback.objects.create(
        thing="customer", bubble_id="1x2", fields={"saldo_cc": "1.00"}, status=BubbleWriteback.Status.DEAD,
        give_up_at=timezone.now(), last_error="Cliente 1x2 não encontrado no Bubble.",
    )
    return pending, dead


def test_it_counts_writebacks_by_status_with_zero_for_the_empty_ones(rows):
    assert writeback_counts_by_status() == {"PENDING": 1, "SENDING": 0, "DONE": 0, "DEAD": 1}


def test_the_admin_lists_filters_and_searches_read_only(rows, admin_client):
    url = reverse("admin:bubble_bubblewriteback_changelist")
    page = admin_client.get(url, {"status__exact": "DEAD"})
    assert page.status_code == 200
    assert b"1x2" in page.content and ORDER.encode() not in page.content
    assert ORDER.encode() in admin_client.get(url, {"q": ORDER}).content
    assert admin_client.get(url, {"thing__exact": "order"}).status_code == 200
    assert admin_client.get(reverse("admin:bubble_bubblewriteback_add")).status_code == 403
    _pending, dead = rows
    detail = admin_client.get(reverse("admin:bubble_bubblewriteback_change", args=[dead.pk]))
    assert detail.status_code == 200 and b"saldo_cc" in detail.content
    assert admin_client.post(reverse("admin:bubble_bubblewriteback_delete", args=[dead.pk])).status_code == 403


def test_reenviar_puts_dead_rows_back_and_skips_the_others(rows, admin_client):
    pending, dead = rows
    url = reverse("admin:bubble_bubblewriteback_changelist")
    response = admin_client.post(url, {"action": "resend", "_selected_action": [pending.pk, dead.pk]}, follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert "1 escrita reenviada." in messages
    assert any("1 escrita ignorada" in m for m in messages)
    dead.refresh_from_db()
    assert dead.status == BubbleWriteback.Status.PENDING


def test_the_resend_action_needs_the_permission(rows, client, user_factory):
    viewer = user_factory("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_bubblewriteback"))
    client.force_login(viewer)
    url = reverse("admin:bubble_bubblewriteback_changelist")
    assert client.get(url).status_code == 200
    _pending, dead = rows
    client.post(url, {"action": "resend", "_selected_action": [dead.pk]})
    dead.refresh_from_db()
    assert dead.status == BubbleWriteback.Status.DEAD

    viewer.user_permissions.add(Permission.objects.get(codename="resend_bubblewriteback"))
    viewer = type(viewer).objects.get(pk=viewer.pk)  # drop the permission cache
    client.force_login(viewer)
    client.post(url, {"action": "resend", "_selected_action": [dead.pk]})
    dead.refresh_from_db()
    assert dead.status == BubbleWriteback.Status.PENDING


def test_the_sandbox_admin_pages_load(admin_client):
    from django.core.management import call_command as run

    run("sandbox_seed", stdout=open("/dev/null", "w"))
    for name in ("fake_bubble_fakething", "fake_bubble_fakepatch", "fake_brasilapi_fakecompany", "brasilapi_companyrecord"):
        assert admin_client.get(reverse(f"admin:{name}_changelist")).status_code == 200
