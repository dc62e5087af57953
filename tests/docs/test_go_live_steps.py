"""The go-live steps are written down where the people who do them read (issue 24): how a Pagar.me
charge names its order (bubble.md, go-live.md, pagarme.md), the webhooks to register with the events
and topics the code really handles, the Omie service settings, users and 2FA, the rollback."""

from __future__ import annotations

from pathlib import Path

from billing.services.webhooks import EVENT_PAYMENT_STATUS
from integrations.omie.webhooks.fields import KNOWN_TOPICS

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_how_a_charge_names_its_order_is_in_each_guide():
    for name in ("bubble.md", "go-live.md", "pagarme.md"):
        text = (DOCS / name).read_text(encoding="utf-8")
        assert "metadata.bubble_order_id" in text and '"code"' in text and '"metadata": {"bubble_order_id"' in text, name


def test_go_live_registers_both_webhooks_with_what_the_code_handles():
    text = (DOCS / "go-live.md").read_text(encoding="utf-8")
    assert "/webhooks/pagarme" in text and "PAGARME_WEBHOOK_AUTH" in text and "PAGARME_WEBHOOK_BASIC_AUTH" in text
    assert all(f"`{event}`" in text for event in EVENT_PAYMENT_STATUS), "every Pagar.me event the code applies"
    assert "/webhooks/omie/<token>" in text and "OMIE_WEBHOOKS=true" in text and "OMIE_WEBHOOK_TOKEN" in text
    assert all(f"`{topic}`" in text for topic in KNOWN_TOPICS), "every Omie topic the code handles"


def test_go_live_has_the_service_users_2fa_first_order_and_rollback_steps():
    text = (DOCS / "go-live.md").read_text(encoding="utf-8")
    for needle in ("OMIE_SERVICE_ID", "OMIE_SERVICE_MUNICIPAL_CODE", "OMIE_SERVICE_TAXATION", "`Ops`", "`Financeiro`",
                   "totp_enrol", "Autenticadores (2FA)", "The first real order, end to end", "## Rollback",
                   'make manage ARGS="check_integrations"'):
        assert needle in text, needle
