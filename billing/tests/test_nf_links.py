"""An NFS-e link from Omie is a link only when it is http(s) (issue: javascript: links in the admin, the API and Bubble)."""

from __future__ import annotations

import pytest

from billing.services.state import order_billing_fields, order_live_invoice
from billing.tests.factories import order_in_state
from common.safe_urls import http_url_or_empty
from integrations.omie.wire import nfse_status
from orders.statuses import BillingStatus

pytestmark = pytest.mark.django_db

HOSTILE = ["javascript:alert(document.cookie)", " JavaScript:alert(1)", "data:text/html,<script>alert(1)</script>",
           "vbscript:msgbox(1)", "//evil.example.com/x", "https://", "java\tscript:alert(1)", "ftp://nfse.example.com/1"]


@pytest.mark.parametrize("url", HOSTILE)
def test_omies_answer_keeps_only_http_links(url):
    def answer(link: str) -> dict:
        return {"cFaturada": "S", "ListaRpsNfse": [{"nLote": 1, "cStatusRps": "004", "nNfse": "77", "cUrlNfse": link}]}

    status = nfse_status(answer(url))
    assert status.state == "issued" and status.url == ""
    assert nfse_status(answer("https://nfse.example.com/77")).url == "https://nfse.example.com/77"
    assert http_url_or_empty("http://nfse.example.com/a?b=1") == "http://nfse.example.com/a?b=1"


@pytest.mark.parametrize("url", ["javascript:alert(document.cookie)", "data:text/html,x"])
def test_a_stored_non_http_link_is_text_in_the_admin_and_absent_from_the_api_and_bubble(url, auth_client, client, user_factory):
    """A row stored before the check (or by hand) never becomes a link anywhere."""
    order = order_in_state(BillingStatus.ISSUED)
    invoice = order_live_invoice(order=order)
    invoice.nfse_url = url
    invoice.save(update_fields=["nfse_url"])

    response = auth_client.get(f"/v1/orders/{order.bubble_id}")
    assert response.status_code == 200
    assert response.json()["invoice"]["nf_url"] is None and response.json()["invoice"]["nf_number"] == "123"
    assert order_billing_fields(order=order, invoice=invoice)["nf_link"] == ""

    client.force_login(user_factory("chefe", is_staff=True, is_superuser=True))
    page = client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert "nº 123" in page
    assert url.split(":")[0] + ":" not in page
