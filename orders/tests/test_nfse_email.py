"""OMIE_SEND_NFSE_EMAIL: the IncluirOS the sync sends asks Omie to e-mail the NFS-e link, the order
records to whom, and the order page shows it masked (docs/nfse_documents.md)."""

from __future__ import annotations

import pytest

from orders.models import Order
from orders.services import order_sync_fetch, order_sync_omie, order_sync_trigger
from sandbox.fake_omie.models import FakeServiceOrder

pytestmark = pytest.mark.django_db(transaction=True)


def _sync(bubble_id: str) -> Order:
    order, _ = order_sync_trigger(bubble_id=bubble_id, actor="bubble")
    order_sync_fetch(order_id=order.pk)
    order_sync_omie(order_id=order.pk)
    return Order.objects.get(pk=order.pk)


@pytest.mark.parametrize("on", [True, False])
def test_the_os_asks_omie_to_email_the_customer_only_when_configured(sandbox, settings, client, user_factory, on):
    settings.OMIE_SEND_NFSE_EMAIL = on
    order = _sync(sandbox.seed(kind="PJ"))
    assert order.omie_os_code, order.last_error
    sent = FakeServiceOrder.objects.get(c_cod_int_os=order.bubble_id).payload["Email"]
    assert sent["cEnvLink"] == ("S" if on else "N") and sent["cEnviarPara"] == order.customer_email
    assert order.nfse_email_to == (order.customer_email if on else "")
    client.force_login(user_factory("chefe", is_staff=True, is_superuser=True))
    page = client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    if on:
        local, domain = order.customer_email.split("@")
        assert f"o Omie foi pedido para enviar a NFS-e a {local[0]}***@{domain}" in page
        assert order.customer_email not in page.split("E-mail da NFS-e")[1][:300]
    else:
        assert "o Omie não foi pedido para enviar a NFS-e por e-mail" in page
