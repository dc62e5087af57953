"""What the rest of the project gets from Bubble: typed, canonical, no Bubble field keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

Thing = Literal["order", "customer"]
THINGS: tuple[Thing, ...] = ("order", "customer")


@dataclass(frozen=True)
class BubbleOrder:
    id: str
    customer_id: str
    amount: Decimal
    description: str | None
    lc116_code: str | None
    payment_method: str | None
    payment_status: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class BubbleCustomer:
    id: str
    name: str | None
    email: str | None
    # As typed in Bubble (masked or not): validate it with integrations.documents.document_validate.
    document: str | None
    phone: str | None
    cep: str | None
    street: str | None
    number: str | None
    district: str | None
    city: str | None
    state: str | None
    requires_approval: bool
    raw: dict[str, Any] = field(repr=False, compare=False)
