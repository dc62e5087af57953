import pytest
from django.db import DatabaseError, IntegrityError, transaction

from orders.models import ActionLog, Order
from orders.services import action_log_record
from orders.statuses import BillingStatus, SyncStatus

pytestmark = pytest.mark.django_db

BUBBLE_ID = "1671702337369x488321592367327900"


def test_one_order_per_bubble_id():
    Order.objects.create(bubble_id=BUBBLE_ID)
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.create(bubble_id=BUBBLE_ID)


def test_one_order_per_omie_os():
    Order.objects.create(bubble_id=BUBBLE_ID, omie_os_code=42)
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.create(bubble_id="1671702337369x488321592367327901", omie_os_code=42)


def test_malformed_bubble_id_is_refused_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.create(bubble_id="'; drop table")


def test_billing_status_needs_a_synced_order():
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.create(bubble_id=BUBBLE_ID, billing_status=BillingStatus.SCHEDULED)
    Order.objects.create(bubble_id=BUBBLE_ID, sync_status=SyncStatus.SYNCED, billing_status=BillingStatus.SCHEDULED)


def test_labels_are_the_bubble_option_set_texts():
    assert SyncStatus.SYNCED.label == "Sincronizado"
    assert BillingStatus.SCHEDULED.label == "Agendado dia 25"
    assert len(BillingStatus.choices) == 9 and len(SyncStatus.choices) == 3


def test_action_log_rows_can_be_neither_updated_nor_deleted():
    order = Order.objects.create(bubble_id=BUBBLE_ID)
    entry = action_log_record(actor="bubble:ops@example.com", action="sync_trigger", outcome="ok", order=order)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ActionLog.objects.filter(pk=entry.pk).update(message="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ActionLog.objects.filter(pk=entry.pk).delete()
    assert ActionLog.objects.get(pk=entry.pk).message == ""


@pytest.mark.parametrize("document", ["529.982.247-25", "5299822472", "12abc34501de35", "12ABC34501DEAB", "529982247255"])
def test_a_document_that_is_not_compact_cpf_or_cnpj_is_refused_by_the_database(document):
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.create(bubble_id=BUBBLE_ID, document=document)


@pytest.mark.parametrize("document", ["", "52998224725", "11222333000181", "12ABC34501DE35"])
def test_compact_cpf_and_cnpj_numeric_or_alphanumeric_are_accepted(document):
    Order.objects.create(bubble_id=BUBBLE_ID, document=document)


def test_a_refusal_carrying_nul_and_lone_surrogates_is_still_logged():
    entry = action_log_record(
        actor="bubble:a\x00b", action="retry", outcome="rejected", order_bubble_id="\ud800x\x00",
        payload={"k\x00": ["\ud83d", "ok"], "operator": "x\x00@y.z"}, message="bad \x00 \udfff",
    )
    entry.refresh_from_db()
    assert "\x00" not in entry.actor and "\x00" not in entry.message
    assert entry.payload["operator"] == "x\ufffd@y.z"
