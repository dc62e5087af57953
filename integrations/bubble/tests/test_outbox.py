"""The writeback outbox (docs/contract.md#bubble-writeback), one step at a time, against the fake Bubble over real HTTP."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from common.exceptions import InvalidState
from integrations.bubble.models import BubbleWriteback
from integrations.bubble.services import (
    _backoff,
    writeback_claim,
    writeback_deliver,
    writeback_deliver_due,
    writeback_enqueue,
    writeback_purge_delivered,
    writeback_resend,
    writeback_send,
)

ORDER = "1671702337369x488321592367327900"
CUSTOMER = "1671702337000x100000000000000001"
Status = BubbleWriteback.Status


def enqueue(thing="order", bubble_id=ORDER, order_id=None, **fields):
    with transaction.atomic():
        row_id = writeback_enqueue(thing=thing, bubble_id=bubble_id, fields=fields, order_id=order_id)
    return BubbleWriteback.objects.get(pk=row_id)


def rows(**filters):
    return list(BubbleWriteback.objects.filter(**filters).order_by("id"))


@pytest.fixture
def bubble(fake_bubble):
    fake_bubble.put_order(ORDER, cliente=CUSTOMER, valor_total=Decimal("100.00"), status_pedido="Aguardando sincronização")
    fake_bubble.put_customer(CUSTOMER, nome="Cliente")
    return fake_bubble


# Enqueue --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_changes_for_one_thing_are_coalesced_into_one_row_newest_value_per_key():
    with transaction.atomic():
        first = writeback_enqueue(thing="order", bubble_id=ORDER, fields={"status_pedido": "Sincronizado", "omie_os_numero": "1"})
        writeback_enqueue(thing="order", bubble_id=ORDER, fields={"status_faturamento": "Agendado dia 25"}, order_id=7)
        last = writeback_enqueue(thing="order", bubble_id=ORDER, fields={"status_pedido": "Erro de sincronização"})
        other = writeback_enqueue(thing="customer", bubble_id=CUSTOMER, fields={"saldo_cc": Decimal("10")})
    assert first == last != other
    last, other = BubbleWriteback.objects.get(pk=last), BubbleWriteback.objects.get(pk=other)
    assert last.fields == {
        "status_pedido": "Erro de sincronização", "omie_os_numero": "1", "status_faturamento": "Agendado dia 25",
    }
    assert last.order_id == 7 and last.status == Status.PENDING
    # versions record the order the values were applied in
    assert last.versions["status_pedido"] > last.versions["status_faturamento"] > last.versions["omie_os_numero"]
    assert other.fields == {"saldo_cc": Decimal("10.00")}


@pytest.mark.django_db
def test_values_are_stored_as_bubble_will_receive_them():
    row = enqueue(data_faturamento_prevista=date(2026, 11, 25), nf_numero=None, omie_os_numero=12, erro_integracao="")
    row.refresh_from_db()
    assert row.fields == {
        "data_faturamento_prevista": "2026-11-25", "nf_numero": None, "omie_os_numero": 12, "erro_integracao": "",
    }
    money = enqueue(thing="customer", bubble_id=CUSTOMER, saldo_cc=Decimal("1234.5"))
    money.refresh_from_db()
    assert money.fields["saldo_cc"] == Decimal("1234.50") and isinstance(money.fields["saldo_cc"], Decimal)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"thing": "invoice", "bubble_id": ORDER, "fields": {"a": 1}}, ValueError),
        ({"thing": "order", "bubble_id": "", "fields": {"a": 1}}, ValueError),
        ({"thing": "order", "bubble_id": ORDER, "fields": {}}, ValueError),
        ({"thing": "customer", "bubble_id": CUSTOMER, "fields": {"saldo_cc": 10.5}}, TypeError),  # money is Decimal
        ({"thing": "order", "bubble_id": ORDER, "fields": {"x": object()}}, TypeError),
    ],
)
def test_bad_enqueues_are_refused_before_anything_is_written(kwargs, error):
    with pytest.raises(error), transaction.atomic():
        writeback_enqueue(**kwargs)
    assert not BubbleWriteback.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_enqueue_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="transaction"):
        writeback_enqueue(thing="order", bubble_id=ORDER, fields={"status_pedido": "x"})
    assert not BubbleWriteback.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_leaves_no_writeback_and_publishes_nothing(redis_client):
    with pytest.raises(RuntimeError), transaction.atomic():
        writeback_enqueue(thing="order", bubble_id=ORDER, fields={"status_pedido": "x"})
        raise RuntimeError("the change failed")
    assert not BubbleWriteback.objects.exists()
    assert redis_client.llen("bubble") == 0


@pytest.mark.django_db(transaction=True)
def test_delivery_is_published_to_the_bubble_queue_only_after_commit(redis_client):
    with transaction.atomic():
        writeback_enqueue(thing="order", bubble_id=ORDER, fields={"status_pedido": "x"})
        assert redis_client.llen("bubble") == 0
    assert redis_client.llen("bubble") == 1


# Delivery -------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_pending_changes_reach_bubble_in_one_patch_with_the_newest_values(bubble):
    enqueue(status_pedido="Sincronizado", omie_os_numero="100")
    enqueue(status_faturamento="Agendado dia 25", data_faturamento_prevista=date(2026, 11, 25))
    enqueue(status_faturamento="Retido para aprovação")

    result = writeback_deliver_due()

    assert (result.delivered, result.failed, result.dead) == (1, 0, 0)
    (patch,) = bubble.patches("order", ORDER)
    assert patch.body == {"status_pedido": "Sincronizado", "omie_os_numero": "100",
                          "status_faturamento": "Retido para aprovação", "data_faturamento_prevista": "2026-11-25"}
    (row,) = rows()
    assert row.status == Status.DONE and row.delivered_at and row.attempts == 1 and row.last_status_code == 204
    assert writeback_deliver_due().delivered == 0  # nothing left


@pytest.mark.django_db(transaction=True)
def test_a_change_made_while_sending_waits_for_it_then_goes_next(bubble):
    enqueue(status_faturamento="Em emissão")
    in_flight = writeback_claim()
    assert in_flight.status == Status.SENDING

    newer = enqueue(status_faturamento="NF emitida", nf_numero="123")
    assert newer.pk != in_flight.pk and newer.status == Status.PENDING
    # Nothing else of this thing may be claimed while one PATCH is in flight.
    assert writeback_claim() is None
    assert writeback_claim(writeback_id=newer.pk) is None

    assert writeback_send(writeback=in_flight) == "done"
    assert writeback_deliver(writeback_id=newer.pk).delivered == 1

    assert [p.body for p in bubble.patches("order", ORDER)] == [
        {"status_faturamento": "Em emissão"},
        {"status_faturamento": "NF emitida", "nf_numero": "123"},
    ]
    assert bubble.thing("order", ORDER)["status_faturamento"] == "NF emitida"


@pytest.mark.django_db(transaction=True)
def test_delivering_one_row_also_delivers_what_piled_up_for_the_same_thing(bubble):
    first = enqueue(status_faturamento="Em emissão")
    in_flight = writeback_claim(writeback_id=first.pk)
    enqueue(status_faturamento="NF emitida")
    # a worker finishing the first row goes on with the next one of the same thing
    assert writeback_send(writeback=in_flight) == "done"
    assert writeback_deliver(writeback_id=first.pk).delivered == 0  # already done
    result = writeback_deliver(writeback_id=rows(status=Status.PENDING)[0].pk)
    assert result.delivered == 1
    assert bubble.thing("order", ORDER)["status_faturamento"] == "NF emitida"


@pytest.mark.django_db(transaction=True)
def test_a_transient_failure_folds_newer_changes_in_and_retries_after_a_backoff(bubble, settings):
    settings.BUBBLE_WRITEBACK_RETRY_BASE_SECONDS = 60
    enqueue(status_faturamento="Em emissão", erro_integracao="")
    in_flight = writeback_claim()
    enqueue(status_faturamento="NF emitida", nf_numero="123")
    bubble.control(outage_status=503, outage_calls_left=1)

    assert writeback_send(writeback=in_flight) == "retry"

    (row,) = rows()  # the newer row was folded into the failed one: one PENDING row per thing
    assert row.pk == in_flight.pk and row.status == Status.PENDING
    assert row.fields == {"status_faturamento": "NF emitida", "erro_integracao": "", "nf_numero": "123"}
    assert row.last_status_code == 503 and "indisponível" in row.last_error
    assert 30 <= (row.next_attempt_at - timezone.now()).total_seconds() <= 60
    assert writeback_claim() is None  # not due yet

    BubbleWriteback.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert writeback_deliver_due().delivered == 1
    assert bubble.thing("order", ORDER)["status_faturamento"] == "NF emitida"
    assert [p.status_code for p in bubble.patches("order", ORDER, ok_only=False)] == [503, 204]
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (Status.DONE, 2, "")


@pytest.mark.django_db(transaction=True)
def test_the_sweep_stops_at_the_first_transient_failure(bubble):
    bubble.put_order("2x2", cliente=CUSTOMER, valor_total=1)
    enqueue(status_pedido="Sincronizado")
    enqueue(bubble_id="2x2", status_pedido="Sincronizado")
    bubble.control(outage_status=429)
    result = writeback_deliver_due()
    assert (result.delivered, result.failed) == (0, 1)
    assert bubble.calls() == 1  # the second thing was not tried against a throttling Bubble


@pytest.mark.django_db(transaction=True)
def test_a_missing_thing_is_dead_at_once_and_the_next_change_still_goes(bubble):
    enqueue(bubble_id="9x9", status_pedido="Sincronizado")
    in_flight = writeback_claim()
    enqueue(bubble_id="9x9", status_pedido="Erro de sincronização")
    assert writeback_send(writeback=in_flight) == "dead"
    dead = BubbleWriteback.objects.get(pk=in_flight.pk)
    assert dead.status == Status.DEAD and dead.last_status_code == 404 and "não encontrado no Bubble" in dead.last_error
    assert dead.attempts == 1
    # the newer row is not blocked by the dead one
    assert writeback_deliver_due().dead == 1


@pytest.mark.django_db(transaction=True)
def test_a_rejected_token_is_dead_at_once_with_the_reason(bubble, settings):
    enqueue(status_pedido="Sincronizado")
    bubble.control(token=settings.BUBBLE_API_TOKEN)
    settings.BUBBLE_API_TOKEN = "revoked-token"
    assert writeback_deliver_due().dead == 1
    (row,) = rows()
    assert row.status == Status.DEAD and row.last_status_code == 401 and "BUBBLE_API_TOKEN" in row.last_error


@pytest.mark.django_db(transaction=True)
def test_after_the_max_age_a_transient_failure_is_final(bubble):
    old = enqueue(status_pedido="Sincronizado")
    young = enqueue(thing="customer", bubble_id=CUSTOMER, saldo_cc=Decimal("5"))
    BubbleWriteback.objects.filter(pk=old.pk).update(give_up_at=timezone.now() - timedelta(seconds=1))
    bubble.control(outage_status=503)

    assert writeback_send(writeback=writeback_claim(writeback_id=old.pk)) == "dead"
    assert writeback_send(writeback=writeback_claim(writeback_id=young.pk)) == "retry"

    old.refresh_from_db()
    young.refresh_from_db()
    assert old.status == Status.DEAD
    assert old.last_error.startswith("Bubble não aceitou a alteração em 24 h; último erro: Bubble indisponível")
    assert young.status == Status.PENDING


@pytest.mark.django_db(transaction=True)
def test_give_up_is_measured_from_the_newest_change(bubble, settings):
    settings.BUBBLE_WRITEBACK_MAX_AGE_HOURS = 24
    row = enqueue(status_pedido="Sincronizado")
    BubbleWriteback.objects.filter(pk=row.pk).update(give_up_at=timezone.now() + timedelta(hours=1))
    merged = enqueue(status_faturamento="Agendado dia 25")
    assert merged.pk == row.pk
    assert merged.give_up_at > timezone.now() + timedelta(hours=23)


@pytest.mark.django_db(transaction=True)
def test_a_row_whose_worker_died_is_reclaimed_after_its_lease_and_the_old_worker_cannot_finish_it(bubble):
    enqueue(status_pedido="Sincronizado")
    lost = writeback_claim()
    assert writeback_claim() is None  # leased
    BubbleWriteback.objects.filter(pk=lost.pk).update(locked_until=timezone.now() - timedelta(seconds=1))

    again = writeback_claim()
    assert again.pk == lost.pk and again.attempts == 2 and again.claim_token != lost.claim_token
    assert writeback_send(writeback=again) == "done"
    # The first worker comes back late: its outcome is not recorded over the new one.
    assert writeback_send(writeback=lost) == "done"
    row = BubbleWriteback.objects.get(pk=lost.pk)
    assert row.status == Status.DONE and row.attempts == 2


def test_backoff_grows_exponentially_with_jitter_is_capped_and_honours_retry_after(settings):
    settings.BUBBLE_WRITEBACK_RETRY_BASE_SECONDS = 5
    settings.BUBBLE_WRITEBACK_RETRY_MAX_SECONDS = 900
    for attempts, top in [(1, 5), (2, 10), (3, 20), (6, 160), (20, 900)]:
        values = {_backoff(attempts, None) for _ in range(50)}
        assert all(top / 2 <= v <= top for v in values)
        assert len(values) > 1  # jittered
    assert _backoff(1, 120.0) == 120.0


# Re-send ---------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_resend_puts_a_dead_row_back_and_it_is_delivered(bubble):
    enqueue(status_pedido="Sincronizado", omie_os_numero="55")
    bubble.control(outage_status=503)
    row = writeback_claim()
    BubbleWriteback.objects.filter(pk=row.pk).update(give_up_at=timezone.now())
    assert writeback_send(writeback=row) == "dead"
    bubble.control(outage_status=None)

    writeback_resend(writeback=row)

    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (Status.PENDING, 0, "")
    assert row.give_up_at > timezone.now() + timedelta(hours=23)
    assert writeback_deliver_due().delivered == 1
    assert bubble.thing("order", ORDER)["omie_os_numero"] == "55"


@pytest.mark.django_db(transaction=True)
def test_resend_never_writes_back_a_value_that_a_newer_write_already_replaced(bubble):
    dead = enqueue(status_faturamento="Em emissão", nf_link="http://old")
    BubbleWriteback.objects.filter(pk=dead.pk).update(status=Status.DEAD, last_error="x")
    enqueue(status_faturamento="NF emitida")
    writeback_deliver_due()
    assert bubble.thing("order", ORDER)["status_faturamento"] == "NF emitida"

    writeback_resend(writeback=dead)
    writeback_deliver_due()

    assert bubble.patches("order", ORDER)[-1].body == {"nf_link": "http://old"}
    assert bubble.thing("order", ORDER)["status_faturamento"] == "NF emitida"


@pytest.mark.django_db(transaction=True)
def test_resend_of_a_fully_superseded_row_sends_nothing(bubble):
    dead = enqueue(status_faturamento="Em emissão")
    BubbleWriteback.objects.filter(pk=dead.pk).update(status=Status.DEAD)
    enqueue(status_faturamento="NF emitida")
    writeback_resend(writeback=dead)
    dead.refresh_from_db()
    assert dead.status == Status.DONE and "mais novos" in dead.last_error
    writeback_deliver_due()
    assert [p.body for p in bubble.patches("order", ORDER)] == [{"status_faturamento": "NF emitida"}]


@pytest.mark.django_db(transaction=True)
def test_resend_merges_with_a_pending_row_the_pending_values_winning(bubble):
    dead = enqueue(status_faturamento="Em emissão", nf_numero="1")
    BubbleWriteback.objects.filter(pk=dead.pk).update(status=Status.DEAD)
    pending = enqueue(status_faturamento="NF emitida")  # not delivered yet
    writeback_resend(writeback=dead)
    (row,) = rows()
    assert row.pk == dead.pk and not BubbleWriteback.objects.filter(pk=pending.pk).exists()
    assert row.fields == {"nf_numero": "1", "status_faturamento": "NF emitida"}
    writeback_deliver_due()
    assert bubble.thing("order", ORDER)["status_faturamento"] == "NF emitida"


@pytest.mark.django_db
def test_only_dead_rows_can_be_resent():
    row = enqueue(status_pedido="x")
    with pytest.raises(InvalidState, match="Pendente"):
        writeback_resend(writeback=row)


# Housekeeping ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_purge_deletes_old_delivered_rows_but_keeps_things_with_dead_rows():
    old = timezone.now() - timedelta(days=100)
    kept_dead = BubbleWriteback.objects.create(thing="order", bubble_id="1x1", status=Status.DEAD, give_up_at=old)
    kept_sibling = BubbleWriteback.objects.create(thing="order", bubble_id="1x1", status=Status.DONE, delivered_at=old,
                                                  give_up_at=old)
    purged = BubbleWriteback.objects.create(thing="order", bubble_id="2x2", status=Status.DONE, delivered_at=old, give_up_at=old)
    recent = BubbleWriteback.objects.create(thing="order", bubble_id="2x2", status=Status.DONE, delivered_at=timezone.now(),
                                            give_up_at=old)
    assert writeback_purge_delivered() == 1
    assert set(BubbleWriteback.objects.values_list("pk", flat=True)) == {kept_dead.pk, kept_sibling.pk, recent.pk}
    assert not BubbleWriteback.objects.filter(pk=purged.pk).exists()


@pytest.mark.django_db
def test_the_database_refuses_a_second_pending_row_for_one_thing():
    from django.db import IntegrityError

    enqueue(status_pedido="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        BubbleWriteback.objects.create(thing="order", bubble_id=ORDER, status=Status.PENDING, give_up_at=timezone.now())
