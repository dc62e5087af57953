import copy
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from integrations.pagarme.events import InvalidEvent, event_parse
from sandbox.pagarme_events import EVENT_TYPES, pagarme_event_build

ORDER = "1671702337369x488321592367327900"

CHARGE_PAID = {
    "id": "hook_RyEKQO789TRpZjv5",
    "account": {"id": "acc_jZkdN857et650oNv", "name": "Blu"},
    "type": "charge.paid",
    "created_at": "2026-11-20T13:45:12Z",
    "data": {
        "id": "ch_d22356Jf4WuGr8no",
        "code": "X1",
        "amount": 150075,
        "status": "paid",
        "paid_at": "2026-11-20T13:45:09Z",
        "updated_at": "2026-11-20T13:45:10Z",
        "metadata": {"bubble_order_id": ORDER},
        "order": {"id": "or_56GXnk6T0eU88qMm", "code": "other-code", "status": "paid", "metadata": {}},
    },
}

ORDER_PAID = {
    "id": "hook_order1",
    "type": "order.paid",
    "created_at": "2026-11-20T14:00:00Z",
    "data": {
        "id": "or_56GXnk6T0eU88qMm",
        "code": ORDER,
        "amount": 990,
        "status": "paid",
        "updated_at": "2026-11-20T13:59:00Z",
        "charges": [
            {"id": "ch_failed", "status": "failed", "amount": 990, "updated_at": "2026-11-20T13:50:00Z"},
            {"id": "ch_paid", "status": "paid", "amount": 990, "paid_at": "2026-11-20T13:58:30Z"},
        ],
    },
}


def test_charge_paid_is_parsed_from_the_charge_itself():
    event = event_parse(CHARGE_PAID)
    assert event.event_id == "hook_RyEKQO789TRpZjv5"
    assert event.type == "charge.paid"
    assert event.charge_id == "ch_d22356Jf4WuGr8no"
    assert event.status == "paid"
    assert event.bubble_order_id == ORDER  # metadata on the charge wins over the order code
    assert event.amount == Decimal("1500.75")
    assert event.pagarme_order_id == "or_56GXnk6T0eU88qMm"
    # The charge's own updated_at, not the delivery time: out-of-order events compare on this.
    assert event.occurred_at == datetime(2026, 11, 20, 13, 45, 10, tzinfo=UTC)
    assert event.created_at == datetime(2026, 11, 20, 13, 45, 12, tzinfo=UTC)


def test_paid_at_is_used_when_the_charge_has_no_updated_at_then_the_event_time():
    payload = copy.deepcopy(CHARGE_PAID)
    del payload["data"]["updated_at"]
    assert event_parse(payload).occurred_at == datetime(2026, 11, 20, 13, 45, 9, tzinfo=UTC)
    del payload["data"]["paid_at"]
    assert event_parse(payload).occurred_at == datetime(2026, 11, 20, 13, 45, 12, tzinfo=UTC)


def test_bubble_order_id_falls_back_to_the_orders_metadata_then_its_code():
    payload = copy.deepcopy(CHARGE_PAID)
    payload["data"]["metadata"] = {}
    payload["data"]["order"]["metadata"] = {"bubble_order_id": "from-order-metadata"}
    assert event_parse(payload).bubble_order_id == "from-order-metadata"
    payload["data"]["order"]["metadata"] = None
    assert event_parse(payload).bubble_order_id == "other-code"
    del payload["data"]["order"]
    assert event_parse(payload).bubble_order_id is None  # kept as unmatched, not an error


def test_order_paid_uses_the_paid_charge_and_the_order_code():
    event = event_parse(ORDER_PAID)
    assert event.charge_id == "ch_paid"
    assert event.status == "paid"
    assert event.bubble_order_id == ORDER
    assert event.amount == Decimal("9.90")
    assert event.occurred_at == datetime(2026, 11, 20, 13, 58, 30, tzinfo=UTC)


def test_a_timestamp_without_offset_is_utc():
    payload = copy.deepcopy(CHARGE_PAID)
    payload["data"]["updated_at"] = "2026-11-20T13:45:10"
    assert event_parse(payload).occurred_at == datetime(2026, 11, 20, 13, 45, 10, tzinfo=UTC)


def test_unknown_event_types_still_parse():
    event = event_parse({"id": "hook_x", "type": "subscription.created", "created_at": "2026-11-20T10:00:00Z",
                         "data": {"id": "sub_1", "status": "active"}})
    assert (event.type, event.charge_id, event.bubble_order_id, event.amount) == ("subscription.created", None, None, None)
    assert event.occurred_at == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def _with(path, value):
    payload = copy.deepcopy(CHARGE_PAID)
    target = payload
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return payload


@pytest.mark.parametrize(
    "payload",
    [
        [],
        "hook",
        _with(("id",), KeyError),
        _with(("id",), ""),
        _with(("id",), 12),
        _with(("type",), None),
        _with(("data",), KeyError),
        _with(("data",), ["x"]),
        _with(("created_at",), "ontem"),
        _with(("data", "updated_at"), 1732000000),
        _with(("data", "amount"), "12,50"),
        _with(("data", "amount"), 12.5),
        _with(("data", "amount"), True),
        _with(("data", "order"), "or_1"),
        {"id": "hook_1", "type": "charge.paid", "data": {"id": "ch_1"}},  # no time anywhere
        {"id": "hook_1", "type": "order.paid", "created_at": "2026-11-20T10:00:00Z", "data": {"charges": "x"}},
    ],
)
def test_broken_shapes_raise_invalid_event(payload):
    with pytest.raises(InvalidEvent):
        event_parse(payload)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_the_sandbox_events_parse_back_to_what_was_built(event_type):
    occurred = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
    payload = pagarme_event_build(event_type=event_type, bubble_order_id=ORDER, amount=Decimal("1234.56"),
                                  event_id="hook_fixed", occurred_at=occurred)
    event = event_parse(payload)
    assert (event.event_id, event.type, event.bubble_order_id) == ("hook_fixed", event_type, ORDER)
    assert event.amount == Decimal("1234.56")
    assert event.occurred_at == occurred
    assert event.status == {"charge.payment_failed": "failed", "charge.refunded": "canceled", "charge.underpaid": "underpaid",
                            "charge.overpaid": "overpaid", "charge.chargedback": "chargedback"}.get(event_type, "paid")
    # Every event of one order carries the same charge id.
    assert event.charge_id == event_parse(pagarme_event_build(event_type="charge.paid", bubble_order_id=ORDER,
                                                              amount=Decimal(1))).charge_id
