"""The order list's search box (docs/backoffice.md): one box, and what ops paste into it is recognised.

Ops paste whatever they have at hand: a Bubble id, a CPF/CNPJ as printed ("123.456.789-09"), an
OS or NF number, an e-mail, or a customer's name. Each kind is matched on its own indexed column
(exact), so the common searches never scan the 100k-row table; only a name falls back to a
case-insensitive "contains" on every word.
"""

from __future__ import annotations

import re

from django.db.models import Q

from billing.models import Invoice
from orders.display import os_number_padded
from orders.models import BUBBLE_ID_REGEX

_BUBBLE_ID = re.compile(BUBBLE_ID_REGEX)
_DOCUMENT_PUNCTUATION = re.compile(r"[.\-/\s]")
# CPF: 11 digits. CNPJ: 12 letters-or-digits + 2 check digits (the alphanumeric CNPJ of 2026).
_DOCUMENT = re.compile(r"^(\d{11}|[0-9A-Z]{12}\d{2})$")
_NUMBER = re.compile(r"^\d{1,20}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")



def _nf_number(term: str) -> Q:
    # The ids first (one query on the invoice's nfse_number index), then pk IN (ids): PostgreSQL
    # ORs the indexes; a subquery inside the OR would make it scan every order.
    return Q(pk__in=list(Invoice.objects.filter(nfse_number=term).values_list("order_id", flat=True)[:100]))


def order_search_q(query: str) -> Q | None:
    """The filter for a search box query, or None for an empty query."""
    term = query.strip()
    if not term:
        return None
    if _BUBBLE_ID.fullmatch(term):
        return Q(bubble_id=term) | Q(customer_bubble_id=term)
    if _EMAIL.fullmatch(term):
        return Q(customer_email__iexact=term)
    document = _DOCUMENT_PUNCTUATION.sub("", term).upper()
    q = Q(document=document) if _DOCUMENT.fullmatch(document) else None
    if _NUMBER.fullmatch(term):
        number = term.lstrip("0") or "0"
        # Omie pads cNumOS to 15 digits ("000000000001726"); ops type "1726".
        numbers = Q(omie_os_number=term) | Q(omie_os_number=number) | Q(omie_os_number=os_number_padded(number)) | _nf_number(term)
        q = numbers if q is None else q | numbers
    if q is not None:
        return q
    words = Q()
    for word in term.split():
        words &= Q(customer_name__icontains=word)
    return words
