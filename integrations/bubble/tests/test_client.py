"""The Bubble client against the fake Bubble over real HTTP, and against a server that answers garbage."""

from datetime import date
from decimal import Decimal

import pytest

from integrations.bubble.client import BubbleClient, get_bubble_client
from integrations.bubble.errors import (
    BubbleConfigError,
    BubbleInvalidData,
    BubbleNotFound,
    BubbleTransientError,
)

ORDER = "1671702337369x488321592367327900"
CUSTOMER = "1671702337000x100000000000000001"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def seeded(fake_bubble):
    fake_bubble.put_customer(
        CUSTOMER, nome="Padaria Pão Quente Ltda", email="fin@pao.example.com", documento="11.222.333/0001-81",
        telefone="(11) 3333-4444", cep=1310100, logradouro="Av. Paulista", numero=1000, bairro="Bela Vista",
        cidade="São Paulo", uf="sp", requer_aprovacao=True,
    )
    fake_bubble.put_order(
        ORDER, cliente=CUSTOMER, valor_total=Decimal("1234.56"), descricao_servico="Consultoria", codigo_servico_lc116="17.01",
        forma_pagamento="boleto", status_pagamento="pending",
    )
    return fake_bubble


def test_get_order_returns_typed_canonical_fields(seeded):
    order = get_bubble_client().get_order(ORDER)
    assert order.id == ORDER
    assert order.customer_id == CUSTOMER
    assert order.amount == Decimal("1234.56") and isinstance(order.amount, Decimal)
    assert (order.description, order.lc116_code, order.payment_method, order.payment_status) == (
        "Consultoria", "17.01", "boleto", "pending",
    )
    assert order.raw["_id"] == ORDER


def test_get_customer_normalises_what_bubble_stores_loosely(seeded):
    customer = get_bubble_client().get_customer(CUSTOMER)
    assert customer.name == "Padaria Pão Quente Ltda"
    assert customer.document == "11.222.333/0001-81"
    assert customer.cep == "01310100"  # a number field lost the leading zero
    assert customer.number == "1000"
    assert customer.state == "SP"
    assert customer.requires_approval is True


def test_field_keys_follow_bubble_field_map(fake_bubble, settings):
    settings.BUBBLE_FIELD_MAP = {"valor_total": "valor_total_number", "order.cliente": "cliente_custom_cliente"}
    fake_bubble.put_order(ORDER, cliente=CUSTOMER, valor_total=Decimal("10.00"))
    assert fake_bubble.thing("order", ORDER) == {"cliente_custom_cliente": CUSTOMER, "valor_total_number": Decimal("10.00")}
    order = get_bubble_client().get_order(ORDER)
    assert (order.customer_id, order.amount) == (CUSTOMER, Decimal("10.00"))

    get_bubble_client().patch("order", ORDER, {"valor_total": Decimal("11.00"), "status_pedido": "Sincronizado"})
    assert fake_bubble.thing("order", ORDER)["valor_total_number"] == Decimal("11.00")
    last = fake_bubble.patches("order", ORDER)[-1]
    assert last.body == {"valor_total_number": Decimal("11.00"), "status_pedido": "Sincronizado"}


def test_type_names_are_configurable(fake_bubble, settings):
    settings.BUBBLE_TYPE_ORDER = "order_v2"
    fake_bubble.put_order(ORDER, cliente=CUSTOMER, valor_total=5)
    assert get_bubble_client().get_order(ORDER).amount == Decimal("5.00")
    assert fake_bubble.thing("order", ORDER) is not None


def test_patch_writes_dates_as_iso_and_money_as_an_exact_number(seeded):
    get_bubble_client().patch(
        "order", ORDER, {"data_faturamento_prevista": date(2026, 11, 25), "status_faturamento": "Agendado dia 25",
                         "nf_numero": None},
    )
    get_bubble_client().patch("customer", CUSTOMER, {"saldo_cc": Decimal("1234.5"), "omie_cliente_id": 123456})
    order_patch, customer_patch = seeded.patches()
    assert order_patch.raw_body == (
        '{"data_faturamento_prevista": "2026-11-25", "status_faturamento": "Agendado dia 25", "nf_numero": null}'
    )
    assert customer_patch.raw_body == '{"saldo_cc": 1234.50, "omie_cliente_id": 123456}'
    assert seeded.thing("customer", CUSTOMER)["saldo_cc"] == Decimal("1234.50")
    assert seeded.thing("order", ORDER)["data_faturamento_prevista"] == "2026-11-25"


def test_patch_refuses_floats():
    client = BubbleClient(base_url="http://127.0.0.1:9", token="t")
    with pytest.raises(TypeError):
        client.patch("customer", CUSTOMER, {"saldo_cc": 10.5})


@pytest.mark.parametrize("missing_status", [404, 400])
def test_a_missing_thing_is_not_found_for_both_404_and_older_apps_400(fake_bubble, missing_status):
    fake_bubble.control(missing_status=missing_status)
    client = get_bubble_client()
    for call in (lambda: client.get_order("1x1"), lambda: client.patch("order", "1x1", {"status_pedido": "x"})):
        with pytest.raises(BubbleNotFound) as caught:
            call()
        assert caught.value.permanent is True
        assert caught.value.status == missing_status
        assert "não encontrado no Bubble" in caught.value.message


def test_a_wrong_or_missing_token_is_a_permanent_configuration_error(seeded):
    with pytest.raises(BubbleConfigError) as caught:
        BubbleClient(base_url=seeded.base_url, token="wrong").get_order(ORDER)
    assert caught.value.permanent and caught.value.status == 401
    assert "BUBBLE_API_TOKEN" in caught.value.message
    with pytest.raises(BubbleConfigError):
        BubbleClient(base_url=seeded.base_url, token="").get_order(ORDER)
    with pytest.raises(BubbleConfigError):
        BubbleClient(base_url="", token="x").get_order(ORDER)


@pytest.mark.parametrize("status", [429, 503, 500])
def test_throttling_and_outages_are_transient(seeded, status):
    seeded.control(outage_status=status, outage_calls_left=1)
    with pytest.raises(BubbleTransientError) as caught:
        get_bubble_client().get_order(ORDER)
    assert caught.value.permanent is False and caught.value.status == status
    # the outage was for one call only
    assert get_bubble_client().get_order(ORDER).amount == Decimal("1234.56")


def test_invalid_order_data_is_a_permanent_error_naming_the_field(fake_bubble):
    client = get_bubble_client()
    fake_bubble.put_order(ORDER, valor_total=10)
    with pytest.raises(BubbleInvalidData, match="sem cliente"):
        client.get_order(ORDER)
    for bad in (None, "", "dez reais", True, -1):
        fake_bubble.put_order(ORDER, cliente=CUSTOMER, valor_total=bad)
        with pytest.raises(BubbleInvalidData) as caught:
            client.get_order(ORDER)
        assert caught.value.permanent and "valor" in caught.value.message
