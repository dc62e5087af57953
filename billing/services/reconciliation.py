"""Daily reconciliation with Omie (docs/contract.md#reconciliation): list what Omie says, compare with our records, flag drift.

It reads ``ListarOS`` and then ``ListarNFSEs`` for the last ``BILLING_RECONCILIATION_DAYS`` days, one
page per task run (the task re-queues itself for the next page, or for when the throttle allows),
and never changes an order: a drift is a row for ops to look at and resolve. A drift already open
for the same order and kind is not flagged twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from billing.models import Invoice, ReconciliationDrift, ReconciliationRun
from billing.services.work import backoff_seconds
from common.dates import SAO_PAULO, today_sp
from integrations.http import IntegrationError
from integrations.omie.client import get_omie_client
from integrations.omie.errors import OmieNotNow
from orders.models import Order
from orders.statuses import BillingStatus

logger = logging.getLogger(__name__)

PAGE_SIZE = 50
MAX_FAILED_TRIES = 5
Kind = ReconciliationDrift.Kind

NOT_EMITTED = {"", BillingStatus.AWAITING_PAYMENT, BillingStatus.SCHEDULED, BillingStatus.ON_HOLD}
LIVE_NF = {BillingStatus.ISSUED, BillingStatus.ISSUING, BillingStatus.CANCELLING}


@dataclass(frozen=True)
class PageResult:
    next_source: str | None = None
    next_page: int | None = None
    retry_in: float | None = None
    tries: int = 0


def reconciliation_start(*, days: int | None = None) -> ReconciliationRun:
    days = days or settings.BILLING_RECONCILIATION_DAYS
    today = today_sp()
    return ReconciliationRun.objects.create(date_from=today - timedelta(days=days), date_to=today)


def reconciliation_page(*, run_id: int, source: str, page: int, tries: int = 0) -> PageResult:
    """Reads one page of ``source`` ("os" or "nfse") and flags what differs."""

    run = ReconciliationRun.objects.get(pk=run_id)
    if run.status != ReconciliationRun.Status.RUNNING:
        return PageResult()
    try:
        result = _list_page(run=run, source=source, page=page)
    except OmieNotNow as exc:
        return PageResult(next_source=source, next_page=page, retry_in=float(exc.retry_after or 1), tries=tries)
    except IntegrationError as exc:
        if tries + 1 >= MAX_FAILED_TRIES:
            _finish(run, ReconciliationRun.Status.FAILED, f"Omie indisponível ao listar ({source}, página {page}): {exc.message}")
            return PageResult()
        return PageResult(next_source=source, next_page=page, retry_in=backoff_seconds(tries + 1), tries=tries + 1)

    _page_check(run=run, source=source, items=result.items)
    if result.has_next:
        return PageResult(next_source=source, next_page=page + 1)
    if source == "os":
        return PageResult(next_source="nfse", next_page=1)
    for drift in _issued_here_not_listed(run):
        _flag(run, drift)
    _finish(run, ReconciliationRun.Status.DONE, "")
    return PageResult()


def _list_page(*, run: ReconciliationRun, source: str, page: int) -> Any:

    client = get_omie_client()
    if source == "os":
        return client.listar_os(pagina=page, registros_por_pagina=PAGE_SIZE, faturada_de=run.date_from, faturada_ate=run.date_to)
    return client.listar_nfses(pagina=page, registros_por_pagina=PAGE_SIZE, emitida_de=run.date_from, emitida_ate=run.date_to)


def _page_check(*, run: ReconciliationRun, source: str, items: list[Any]) -> None:
    """Flags the drifts of one page and counts it; an NFS-e page also records the keys it listed."""
    found = [_compare_os(item) if source == "os" else _compare_nfse(item) for item in items]
    for drift in (d for group in found for d in group):
        _flag(run, drift)
    counter = "os_checked" if source == "os" else "nfse_checked"
    ReconciliationRun.objects.filter(pk=run.pk).update(**{counter: F(counter) + len(items)})
    if source == "nfse":
        # One task at a time works on a run (the next page is enqueued by this one), so this append is safe.
        keys = [item.c_cod_int_os or f"os:{item.n_cod_os}" for item in items if item.c_cod_int_os or item.n_cod_os]
        run.seen_keys = [*run.seen_keys, *keys]
        run.save(update_fields=["seen_keys"])


def _finish(run: ReconciliationRun, status: str, message: str) -> None:
    drifts = run.drifts.count()
    ReconciliationRun.objects.filter(pk=run.pk).update(status=status, message=message, finished_at=timezone.now(), drifts_found=drifts)


def _order_for(c_cod_int_os: str, n_cod_os: int | None) -> Order | None:
    order = Order.objects.filter(bubble_id=c_cod_int_os).first() if c_cod_int_os else None
    if order is None and n_cod_os:
        order = Order.objects.filter(omie_os_code=n_cod_os).first()
    return order


def _live_invoice(order: Order) -> Invoice | None:
    return order.invoices.exclude(status=BillingStatus.CANCELLED).first()


def _compare_os(info: Any) -> list[dict[str, Any]]:
    order = _order_for(info.c_cod_int_os, info.n_cod_os)
    omie_state = "cancelada" if info.cancelada else ("faturada" if info.faturada else "não faturada")
    base = {"omie_os_code": info.n_cod_os, "c_cod_int_os": info.c_cod_int_os or "", "omie_state": omie_state}
    if order is None:
        return [{**base, "kind": Kind.UNKNOWN_OS, "message": f"OS {info.c_num_os} existe no Omie sem pedido aqui."}]
    local = order.billing_status
    base.update(order=order, local_state=BillingStatus(local).label if local else "—")
    if info.cancelada and local in LIVE_NF:
        return [{**base, "kind": Kind.CANCELLED_IN_OMIE, "message": "A OS foi cancelada no Omie, mas aqui a NF consta ativa."}]
    if info.faturada and not info.cancelada and local in NOT_EMITTED:
        return [{**base, "kind": Kind.BILLED_IN_OMIE, "message": "A OS foi faturada no Omie sem emissão registrada aqui."}]
    if not info.faturada and not info.cancelada and local == BillingStatus.ISSUED:
        return [{**base, "kind": Kind.NOT_BILLED_IN_OMIE, "message": "A NF consta emitida aqui, mas a OS não está faturada no Omie."}]
    return []


def _compare_nfse(info: Any) -> list[dict[str, Any]]:
    order = _order_for(info.c_cod_int_os, info.n_cod_os)
    if order is None:
        return []
    invoice = _live_invoice(order)
    local = order.billing_status
    base = {
        "order": order, "omie_os_code": info.n_cod_os, "c_cod_int_os": info.c_cod_int_os or order.bubble_id,
        "local_state": BillingStatus(local).label if local else "—", "omie_state": f"NFS-e {info.number} ({info.status})",
    }
    if info.status == "C" and local in LIVE_NF and invoice is not None and invoice.nfse_number == info.number:
        return [{**base, "kind": Kind.CANCELLED_IN_OMIE, "message": f"A NFS-e {info.number} está cancelada no Omie."}]
    if info.status == "F":
        if local == BillingStatus.ISSUED and invoice is not None and invoice.nfse_number and invoice.nfse_number != info.number:
            return [{**base, "kind": Kind.NUMBER_MISMATCH,
                     "message": f"NFS-e {info.number} no Omie, {invoice.nfse_number} aqui."}]
        # (Not emitted here at all is the OS check's BILLED_IN_OMIE.)
        if local in (BillingStatus.FAILED, BillingStatus.CANCELLED):
            return [{**base, "kind": Kind.NFSE_STATUS, "message": f"A NFS-e {info.number} está emitida no Omie; aqui o pedido está "
                                                                  f"\"{base['local_state']}\"."}]
    return []


def _issued_here_not_listed(run: ReconciliationRun) -> list[dict[str, Any]]:
    """NFS-e we recorded as issued by Omie in the window that Omie's own list does not have."""
    seen = set(run.seen_keys)
    start = datetime.combine(run.date_from, time.min, tzinfo=SAO_PAULO)
    end = datetime.combine(run.date_to + timedelta(days=1), time.min, tzinfo=SAO_PAULO)
    # A little slack at the end: an NFS-e issued minutes ago may not be listed yet.
    end = min(end, timezone.now() - timedelta(minutes=30))
    issued = (Invoice.objects.filter(status=BillingStatus.ISSUED, issued_at__gte=start, issued_at__lt=end)
              .exclude(faturar_requested_at__isnull=True).select_related("order"))
    return [
        {"order": inv.order, "omie_os_code": inv.order.omie_os_code, "c_cod_int_os": inv.order.bubble_id,
         "local_state": f"NF {inv.nfse_number} emitida", "omie_state": "ausente da lista de NFS-e", "kind": Kind.NOT_BILLED_IN_OMIE,
         "message": f"A NFS-e {inv.nfse_number} consta emitida aqui, mas o Omie não a lista entre as emitidas no período."}
        for inv in issued.iterator() if inv.order.bubble_id not in seen and f"os:{inv.order.omie_os_code}" not in seen
    ]


def _flag(run: ReconciliationRun, drift: dict[str, Any]) -> None:
    open_same = ReconciliationDrift.objects.filter(resolved_at__isnull=True, kind=drift["kind"])
    open_same = open_same.filter(order=drift["order"]) if drift.get("order") else open_same.filter(omie_os_code=drift["omie_os_code"])
    if open_same.exists():
        return
    ReconciliationDrift.objects.create(run=run, **drift)
