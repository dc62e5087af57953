"""orders hands an order to billing through one seam (orders/handoff.py), which billing fills at start-up."""

from __future__ import annotations

import pytest

from orders import handoff


def test_billing_registered_its_side_of_the_seam_at_start_up():
    registered = handoff.billing()

    assert callable(registered.decide) and callable(registered.retry) and callable(registered.invoice_data)


def test_an_unregistered_seam_says_so_instead_of_failing_somewhere_else(monkeypatch):
    monkeypatch.setattr(handoff, "_billing", None)

    with pytest.raises(RuntimeError, match="billing has not registered"):
        handoff.billing()
