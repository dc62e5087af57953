"""The refused Pagar.me webhooks record the client's address by the one rule (common/client_ip.py).

The view had its own ``_client_ip`` helper; now it calls ``common.client_ip.client_address``: an
X-Forwarded-For is believed only from a peer in TRUSTED_PROXIES, and then only its rightmost
untrusted entry. (Moved here from tests/deploy/test_trusted_proxies.py, which called the helper
directly; this one goes through the webhook's URL.)"""

import pytest
from django.test import Client

from integrations.pagarme.webhooks.models import PagarmeWebhookRefusal

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _hmac_only(settings):
    settings.PAGARME_WEBHOOK_SECRET = "s3gredo-do-pagarme-para-teste"
    settings.PAGARME_WEBHOOK_AUTH = ["hmac"]
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]


def refused_from(remote_addr: str, forwarded_for: str) -> str:
    PagarmeWebhookRefusal.objects.all().delete()
    response = Client(REMOTE_ADDR=remote_addr).post("/webhooks/pagarme", data=b'{"id": "hook_1"}', content_type="application/json",
                                                    HTTP_X_FORWARDED_FOR=forwarded_for)
    assert response.status_code == 401
    return PagarmeWebhookRefusal.objects.get().remote_addr


def test_an_untrusted_peer_cannot_choose_the_address_recorded():
    assert refused_from("203.0.113.7", "6.6.6.6") == "203.0.113.7"


def test_behind_a_trusted_proxy_the_rightmost_untrusted_entry_is_recorded():
    assert refused_from("10.1.2.3", "6.6.6.6, 198.51.100.4") == "198.51.100.4"
    assert refused_from("10.1.2.3", "198.51.100.4, 10.9.9.9") == "198.51.100.4"


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert refused_from("10.1.2.3", "198.51.100.4") == "10.1.2.3"
