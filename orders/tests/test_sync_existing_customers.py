"""Customers already in Omie (docs/orders.md#customers-already-in-omie): the sync reuses them.

Driven like test_sync_flow.py (the services in this process; Omie, Bubble and BrasilAPI faked
over real HTTP). Calls are counted on what the fake Omie received (its FakeOmieCall rows).
"""

from __future__ import annotations

import pytest

from integrations.omie.models import OmieCustomerLink
from orders.models import ActionLog, Order
from orders.services import order_sync_fetch, order_sync_next_step, order_sync_omie, order_sync_trigger
from orders.services.sync_chain import OMIE
from orders.statuses import SyncStatus
from testsupport.fake_omie import make_cnpj

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _brasilapi_unpaced(settings):
    settings.BRASILAPI_RATE_PER_SECOND = 1000.0  # several PJ orders in a row; BrasilAPI pacing is not the subject


def synced(bubble_id: str) -> Order:
    order, _ = order_sync_trigger(bubble_id=bubble_id, actor="bubble")
    outcome = order_sync_fetch(order_id=order.pk)
    if outcome.go_on and order_sync_next_step(Order.objects.get(pk=order.pk)) == OMIE:
        order_sync_omie(order_id=order.pk)
    order.refresh_from_db()
    story = list(ActionLog.objects.filter(order=order).values_list("action", "outcome", "message"))
    assert (order.sync_status, order.last_error) == (SyncStatus.SYNCED, ""), story
    return order


def calls_of(sandbox, order: Order) -> list[tuple[str, int | None]]:
    """What the fake Omie received while this order synced (call, HTTP status), in order."""
    return [(c.call, c.http_status) for c in sandbox.omie.calls() if c.id > sandbox.mark]


def customer_log(order: Order) -> str:
    return ActionLog.objects.get(order=order, action="omie_customer_upsert").message


def written_omie_id(customer_bubble_id: str) -> str | None:
    """The ``omie_cliente_id`` queued for Bubble's customer (the write-back outbox)."""
    from integrations.bubble.models import BubbleWriteback

    rows = BubbleWriteback.objects.filter(thing="customer", bubble_id=customer_bubble_id).order_by("id")
    values = [row.fields["omie_cliente_id"] for row in rows if "omie_cliente_id" in row.fields]
    return values[-1] if values else None


def order_of(sandbox, customer_bubble_id: str, *, n: int, document: str) -> str:
    """Another order (pedido) of an existing Bubble customer."""
    order_id = sandbox.seed(kind="PJ", n=n, document=document)
    sandbox.bubble_set("pedido", order_id, cliente=customer_bubble_id)
    return order_id


def mark(sandbox) -> None:
    sandbox.mark = max([c.id for c in sandbox.omie.calls()], default=0)


def test_a_customer_registered_by_hand_with_the_same_cnpj_is_linked_not_a_failure(sandbox):
    document = make_cnpj(4101)
    by_hand = sandbox.omie.seed_customer_by_hand(document=document, name="EMPRESA 4101 (cadastro manual)")
    order_id = sandbox.seed(kind="PJ", n=4101, document=document)
    mark(sandbox)

    order = synced(order_id)

    assert order.omie_customer_code == by_hand
    [customer] = sandbox.omie.customers_with_document(document)  # one customer for the document…
    assert customer.codigo_cliente_omie == by_hand
    assert customer.codigo_cliente_integracao == order.customer_bubble_id  # …now carrying our code
    os_sent = sandbox.omie_calls("IncluirOS")[-1].param
    assert os_sent["Cabecalho"]["nCodCli"] == by_hand
    # One extra call: the refused UpsertCliente, the association, the OS.
    assert calls_of(sandbox, order) == [("UpsertCliente", 500), ("AssociarCodIntCliente", 200), ("IncluirOS", 200)]
    assert sandbox.omie.calls("AssociarCodIntCliente")[0].param == {
        "codigo_cliente_omie": by_hand, "codigo_cliente_integracao": order.customer_bubble_id}
    message = customer_log(order)
    assert message == f"Cliente já existia no Omie (Id {by_hand}); código de integração associado."
    assert document not in message
    assert written_omie_id(order.customer_bubble_id) == str(by_hand)
    link = OmieCustomerLink.objects.get(document=document)
    assert (link.codigo_cliente_omie, link.codigo_cliente_integracao, link.how) == (by_hand, order.customer_bubble_id, "associated")

    # The customer's next order is a plain upsert now: the Omie record carries our code.
    mark(sandbox)
    second = synced(order_of(sandbox, order.customer_bubble_id, n=4102, document=document))
    assert second.omie_customer_code == by_hand
    assert ("AssociarCodIntCliente", 200) not in calls_of(sandbox, second)
    assert all(status == 200 for _, status in calls_of(sandbox, second))


def test_two_bubble_customers_with_one_cnpj_both_sync_on_one_omie_customer(sandbox):
    document = make_cnpj(4201)
    first = synced(sandbox.seed(kind="PJ", n=4201, document=document))
    mark(sandbox)

    second = synced(sandbox.seed(kind="PJ", n=4202, document=document))  # another contact of the same company

    assert second.customer_bubble_id != first.customer_bubble_id
    assert second.omie_customer_code == first.omie_customer_code
    [customer] = sandbox.omie.customers_with_document(document)
    assert customer.codigo_cliente_integracao == first.customer_bubble_id  # the first one's code is left alone
    # The document is known: no UpsertCliente that Omie would refuse, only the OS.
    assert calls_of(sandbox, second) == [("IncluirOS", 200)]
    assert sandbox.omie_calls("IncluirOS")[-1].param["Cabecalho"]["nCodCli"] == first.omie_customer_code
    message = customer_log(second)
    assert f"Usado o cliente do Omie (Id {first.omie_customer_code}) de outro cadastro do Bubble" in message
    assert document not in message
    assert written_omie_id(second.customer_bubble_id) == str(first.omie_customer_code)


def test_a_document_registered_elsewhere_before_any_link_costs_one_refused_upsert_and_no_association(sandbox):
    """The other Bubble customer's record came from before this system remembered documents
    (or from another integration): Omie's fault names its code, and it is used as it is."""
    document = make_cnpj(4301)
    other_id = sandbox.omie.seed_customer(key="1600000000000x000000000000099999", document=document, name="Outro cadastro")
    mark(sandbox)

    order = synced(sandbox.seed(kind="PJ", n=4301, document=document))

    assert order.omie_customer_code == other_id
    assert calls_of(sandbox, order) == [("UpsertCliente", 500), ("IncluirOS", 200)]
    [customer] = sandbox.omie.customers_with_document(document)
    assert customer.codigo_cliente_integracao == "1600000000000x000000000000099999"
    assert "de outro cadastro do Bubble" in customer_log(order)

    mark(sandbox)  # the same Bubble customer's next order: no refused UpsertCliente again
    again = synced(order_of(sandbox, order.customer_bubble_id, n=4302, document=document))
    assert again.omie_customer_code == other_id and calls_of(sandbox, again) == [("IncluirOS", 200)]


def test_calls_per_order_stay_within_one_extra_call_across_a_mixed_batch(sandbox):
    """Counted per order on the fake's rows: plain customers 2 calls, a hand-registered one 3
    (the one extra), a second Bubble customer of a known CNPJ 1."""
    by_hand_doc, shared_doc = make_cnpj(4401), make_cnpj(4402)
    sandbox.omie.seed_customer_by_hand(document=by_hand_doc)
    counts = []
    for n, document in ((4401, by_hand_doc), (4402, shared_doc), (4403, shared_doc), (4404, None)):
        mark(sandbox)
        order = synced(sandbox.seed(kind="PJ", n=n, document=document))
        counts.append(len(calls_of(sandbox, order)))
    assert counts == [3, 2, 1, 2]


def test_the_older_wording_without_id_or_code_is_settled_by_one_lookup_by_document(sandbox):
    """"Cliente já cadastrado para o código [n]" does not say whose number it is nor whether the
    record has a code: ListarClientes by document decides, then the association as usual."""
    from integrations.omie.client import get_omie_client
    from integrations.omie.types import ExistingCustomer
    from orders.services.omie_customers import customer_existing_link

    document = make_cnpj(4501)
    by_hand = sandbox.omie.seed_customer_by_hand(document=document)
    order = Order.objects.create(bubble_id="1671702337369x000000000000004501", customer_bubble_id="cli-4501", document=document)
    mark(sandbox)

    linked = customer_existing_link(client=get_omie_client(), order=order,
                                    existing=ExistingCustomer(omie_id=123, integration_code=None))

    assert linked.omie_id == by_hand
    assert [c for c, _ in calls_of(sandbox, order)] == ["ListarClientes", "AssociarCodIntCliente"]
    [customer] = sandbox.omie.customers_with_document(document)
    assert customer.codigo_cliente_integracao == "cli-4501"


def test_a_lookup_that_finds_nobody_fails_the_order_with_a_reason_for_ops(sandbox):
    from integrations.omie.client import get_omie_client
    from integrations.omie.errors import OmieBusinessError
    from integrations.omie.types import ExistingCustomer
    from orders.services.omie_customers import customer_existing_link

    order = Order.objects.create(bubble_id="1671702337369x000000000000004502", customer_bubble_id="cli-4502",
                                 document=make_cnpj(4502))
    with pytest.raises(OmieBusinessError) as exc:
        customer_existing_link(client=get_omie_client(), order=order, existing=ExistingCustomer(omie_id=None, integration_code=None))
    assert exc.value.permanent and "verifique o cadastro no Omie" in exc.value.message
    assert not OmieCustomerLink.objects.filter(document=order.document).exists()
