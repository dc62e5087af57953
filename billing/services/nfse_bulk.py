"""Issued NFS-e confirmed in bulk: one ListarNFSEs page (up to 500 NFS-e) instead of one StatusOS per invoice.

On a 10,000-invoice day every billed OS used to cost one StatusOS (Omie's 60 s window, then the
city hall's answer). ListarNFSEs by issue date is Omie's own answer too — the same authority as
StatusOS, unlike a webhook, which is only a hint (billing/services/omie_webhooks.py) — so an NFS-e it
lists as issued, with its number, for an OS whose FaturarOS we sent, settles that invoice.

What the list cannot say stays with StatusOS: a rejected or still pending RPS is not an NFS-e and is
not listed, so those invoices keep their poll (the stragglers and the rejections). While many invoices
wait for the city hall, their first StatusOS waits longer (``BILLING_FIRST_POLL_WITH_BULK_SECONDS``,
``first_poll_seconds``), so the list usually settles them before any StatusOS is sent.

Pages are read from the last one back: NFS-e are listed in issue order, so the ones our waiting
invoices await are at the end, and reading stops once a page is older than the oldest FaturarOS we
wait on. If Omie listed in another order, more pages would be read; nothing would be confirmed wrongly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Min
from django.utils import timezone

from billing.models import Invoice, InvoiceStep
from common.dates import SAO_PAULO
from integrations.http import IntegrationError
from integrations.omie.client import get_omie_client
from integrations.omie.errors import OmieNotNow
from orders.statuses import BillingStatus

logger = logging.getLogger(__name__)

PAGE_SIZE = 500  # ListarNFSEs' documented maximum
ACTIVE_KEY = "billing:nfse-bulk:active"
LOCK_KEY = "billing:nfse-bulk:lock"
# An NFS-e's issue time (Omie's clock, minutes) can precede the moment we recorded FaturarOS as sent.
CLOCK_SLACK = timedelta(minutes=2)
LOOKBACK = timedelta(days=1)


@dataclass(frozen=True)
class BulkResult:
    waiting: int = 0
    pages: int = 0
    confirmed: int = 0
    retry_in: float | None = None  # the throttle's wait when Omie may not be called now


def invoices_awaiting_nfse():
    """Invoices billed in Omie (FaturarOS accepted) in the last day, still waiting for the city hall's
    NFS-e. Older ones are stragglers: their StatusOS goes on, and they do not widen every list read."""
    return Invoice.objects.filter(status=BillingStatus.ISSUING, next_step=InvoiceStep.POLL_NFSE,
                                  faturar_accepted_at__gte=timezone.now() - LOOKBACK, order__omie_os_code__isnull=False)


def nfse_bulk_active() -> bool:
    """True while enough invoices wait that the list settles them (read by ``first_poll_seconds``)."""
    return settings.BILLING_NFSE_BULK and bool(cache.get(ACTIVE_KEY))


def nfse_bulk_confirm() -> BulkResult:
    """Reads Omie's NFS-e list and settles every waiting invoice it shows issued. One run at a time."""
    # A short lock: a worker killed mid-run must not hold the list back for long (the bench's SIGKILL
    # left 300 s of nothing once). Two runs overlapping only read twice: settling takes the invoice's lease.
    lock_seconds = int(max(30, 2 * settings.BILLING_NFSE_BULK_INTERVAL_SECONDS))
    if not settings.BILLING_NFSE_BULK or not cache.add(LOCK_KEY, "1", timeout=lock_seconds):
        return BulkResult()
    try:
        return _confirm()
    finally:
        cache.delete(LOCK_KEY)


def _confirm() -> BulkResult:
    waiting = dict(invoices_awaiting_nfse().values_list("order__omie_os_code", "id"))
    # The flag outlives a few runs of the beat task; the first StatusOS of new invoices waits while it is set.
    active = len(waiting) >= settings.BILLING_NFSE_BULK_MIN_WAITING
    if active:
        cache.set(ACTIVE_KEY, "1", timeout=int(max(120, 4 * settings.BILLING_NFSE_BULK_INTERVAL_SECONDS)))
    if not waiting:
        return BulkResult()
    oldest = invoices_awaiting_nfse().aggregate(t=Min("faturar_requested_at"))["t"] or timezone.now()
    since = (oldest - CLOCK_SLACK).astimezone(SAO_PAULO)
    until = timezone.localtime(timezone.now(), SAO_PAULO).date()
    client = get_omie_client()
    pages = confirmed = 0
    page: int | None = None
    total_pages = 1
    try:
        while waiting:
            current = page if page is not None else 1
            listed = client.listar_nfses(pagina=current, registros_por_pagina=PAGE_SIZE, emitida_de=since.date(), emitida_ate=until)
            pages += 1
            if page is None and listed.total_de_paginas > 1:
                # The first read only told how many pages there are: start again from the last one.
                total_pages, page = listed.total_de_paginas, listed.total_de_paginas
                continue
            confirmed += _settle(listed.items, waiting)
            if current <= 1 or not listed.items or _older_than(listed.items, since):
                break
            page = current - 1
    except OmieNotNow as exc:
        return BulkResult(len(waiting), pages, confirmed, retry_in=float(exc.retry_after or 1))
    except IntegrationError as exc:
        logger.warning("NFS-e em lote: Omie indisponível (%s); os StatusOS seguem valendo", exc.message)
    logger.info("NFS-e em lote: %s confirmadas em %s página(s) de %s", confirmed, pages, total_pages)
    return BulkResult(len(waiting) + confirmed, pages, confirmed)


def _settle(items: list, waiting: dict[int, int]) -> int:
    # Imported here: emission → omie_webhooks (first_poll_seconds) → this module would be a cycle.
    from billing.services.emission import invoice_nfse_listed_issued

    confirmed = 0
    for info in items:
        invoice_id = waiting.get(info.n_cod_os or 0)
        if invoice_id is None or info.status != "F" or not info.number:
            continue
        if invoice_nfse_listed_issued(invoice_id=invoice_id, info=info):
            confirmed += 1
            del waiting[info.n_cod_os]
    return confirmed


def _older_than(items: list, since: datetime) -> bool:
    """True when every NFS-e of the page was issued before ``since`` (so earlier pages are older still)."""
    moments = [info.issued_at for info in items if info.issued_at]
    return bool(moments) and max(moments) < since
