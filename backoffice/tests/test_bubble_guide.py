"""docs/bubble.md's generated parts are what the code says: option-set labels are orders/statuses'
labels, and the fields and endpoint blocks are what ``manage.py bubble_guide`` prints today."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from backoffice.bubble_guide import SECTIONS, generated_block, option_labels_in, render_into
from orders.statuses import BillingStatus, PaymentStatus, SyncStatus

GUIDE = Path(settings.BASE_DIR) / "docs" / "bubble.md"


def test_the_option_set_labels_in_the_guide_are_exactly_the_status_labels():
    labels = option_labels_in(generated_block(GUIDE.read_text(encoding="utf-8"), "option-sets"))
    assert labels == {
        "Status do pedido": [c.label for c in SyncStatus],
        "Status do faturamento": [c.label for c in BillingStatus],
        "Status do pagamento": [c.label for c in PaymentStatus],
    }


def test_the_command_prints_the_option_sets_the_guide_has():
    out = StringIO()
    call_command("bubble_guide", "option-sets", stdout=out)
    assert out.getvalue() == generated_block(GUIDE.read_text(encoding="utf-8"), "option-sets")
    assert "`Retido para aprovação`" in out.getvalue()


def test_every_generated_block_is_up_to_date():
    """Fails when an endpoint, a field or a label changed without `manage.py bubble_guide --write docs/bubble.md`."""
    text = GUIDE.read_text(encoding="utf-8")
    for name, build in SECTIONS.items():
        assert generated_block(text, name) == build(), f"docs/bubble.md: bloco '{name}' desatualizado"


def test_a_changed_label_would_be_caught(monkeypatch):
    text = GUIDE.read_text(encoding="utf-8")
    stale = text.replace("`Sincronizado`", "`Sincronizada`")
    assert option_labels_in(generated_block(stale, "option-sets"))["Status do pedido"] != [c.label for c in SyncStatus]
    assert render_into(stale, {"option-sets": SECTIONS["option-sets"]()}) == text


def test_the_endpoint_calls_come_from_the_schema():
    block = generated_block(GUIDE.read_text(encoding="utf-8"), "endpoints")
    for path in ("/v1/orders/{bubble_id}/sync-omie", "/v1/orders/{bubble_id}/retry", "/v1/orders/{bubble_id}/cancel-nf",
                 "/v1/orders/{bubble_id}/use-cc", "/v1/customers/{customer_id}/account"):
        assert f"`{path}`" in block
    assert '"reason_code": 1' in block and '"operator": "ops@suaempresa.com.br"' in block
