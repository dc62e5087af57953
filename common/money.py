"""The one money format ops read: ``R$ 1.000,50`` (pt-BR: dot for thousands, comma for cents).

Used by the admin lists and pages, the dashboard, the confirmation pages, the services' refusals and
the demo's output. Exact: the value goes through Decimal, never float.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

EMPTY = "—"


def brl(value: object) -> str:
    """1234.5 → "R$ 1.234,50"; -3 → "-R$ 3,00"; None or "" → "—"."""
    if value is None or value == "":
        return EMPTY
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return EMPTY
    if not amount.is_finite():
        return EMPTY
    text = f"{abs(amount):,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    return f"{'-' if amount < 0 else ''}R$ {text}"
