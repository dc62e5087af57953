"""What finance closes a month with ("Faturamento do mês"), month in America/Sao_Paulo.

- Emitidas: NFS-e the system issued in the month (``issued_at``), including those cancelled later
  (their situation says so);
- Canceladas: NFS-e whose cancellation the city hall confirmed in the month (``cancelled_at``);
- Manuais: NFs recorded by ops as issued outside the system, dated in the month;
- Ainda agendados: orders due by the end of the month that are still waiting (scheduled for a
  billing day, or held for approval) — what the month still owes.

Amounts are the orders' amounts, in Decimal; every group is split by customer kind (PF/PJ).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum

from billing.models import Invoice
from common.dates import SAO_PAULO
from orders.models import Order
from orders.statuses import BillingStatus, CustomerKind

KINDS = [CustomerKind.PF, CustomerKind.PJ]
WAITING = [BillingStatus.SCHEDULED, BillingStatus.ON_HOLD]


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str, default: date) -> Month:
        """"2026-11" → Month(2026, 11); anything else → the default date's month."""
        try:
            year, month = (int(part) for part in text.split("-"))
            if 2000 <= year <= 2100 and 1 <= month <= 12:
                return cls(year, month)
        except (ValueError, AttributeError):
            pass
        return cls(default.year, default.month)

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def next_first(self) -> date:
        return date(self.year + self.month // 12, self.month % 12 + 1, 1)

    @property
    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), 12 if self.month == 1 else self.month - 1)

    @property
    def following(self) -> Month:
        return Month(self.next_first.year, self.next_first.month)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=SAO_PAULO)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.next_first, time.min, tzinfo=SAO_PAULO)

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        names = ["janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro",
                 "novembro", "dezembro"]
        return f"{names[self.month - 1]} de {self.year}"


@dataclass
class KindTotal:
    count: int = 0
    amount: Decimal = Decimal("0.00")


@dataclass
class Group:
    key: str
    label: str
    explanation: str
    by_kind: dict[str, KindTotal] = field(default_factory=dict)

    @property
    def total(self) -> KindTotal:
        return KindTotal(sum(t.count for t in self.by_kind.values()), sum((t.amount for t in self.by_kind.values()), Decimal("0.00")))


def issued_invoices(month: Month) -> QuerySet[Invoice]:
    return Invoice.objects.filter(issued_at__gte=month.start, issued_at__lt=month.end).exclude(status=BillingStatus.MANUAL)


def cancelled_invoices(month: Month) -> QuerySet[Invoice]:
    return Invoice.objects.filter(status=BillingStatus.CANCELLED, cancelled_at__gte=month.start, cancelled_at__lt=month.end)


def manual_invoices(month: Month) -> QuerySet[Invoice]:
    return Invoice.objects.filter(status=BillingStatus.MANUAL, issued_at__gte=month.start, issued_at__lt=month.end)


def month_invoices(month: Month) -> QuerySet[Invoice]:
    """Every invoice in one of the month's three invoice groups (the export's detail)."""
    in_month = Q(issued_at__gte=month.start, issued_at__lt=month.end)
    cancelled = Q(status=BillingStatus.CANCELLED, cancelled_at__gte=month.start, cancelled_at__lt=month.end)
    return Invoice.objects.filter(in_month | cancelled).select_related("order").order_by("issued_at", "id")


def still_scheduled(month: Month) -> QuerySet[Order]:
    return Order.objects.filter(billing_status__in=WAITING, billing_scheduled_for__lt=month.next_first).order_by(
        "billing_scheduled_for", "id")


def _by_kind(queryset: QuerySet, kind_field: str, amount_field: str) -> dict[str, KindTotal]:
    totals = {kind.value: KindTotal() for kind in KINDS}
    rows = queryset.order_by().values(kind_field).annotate(n=Count("id"), total=Sum(amount_field))
    for row in rows:
        kind = row[kind_field] or "?"
        totals.setdefault(kind, KindTotal())
        totals[kind] = KindTotal(row["n"], (row["total"] or Decimal("0")).quantize(Decimal("0.01")))
    return totals


def month_close(month: Month) -> list[Group]:
    """The four groups of the month, each with count and amount per customer kind."""
    return [
        Group("emitidas", "NFS-e emitidas", "Emitidas pelo sistema no mês (inclui as canceladas depois).",
              _by_kind(issued_invoices(month), "order__customer_kind", "order__amount")),
        Group("canceladas", "NFS-e canceladas", "Cancelamento confirmado pela prefeitura no mês.",
              _by_kind(cancelled_invoices(month), "order__customer_kind", "order__amount")),
        Group("manuais", "NF manuais", "Registradas pelo time como emitidas fora do sistema, com data no mês.",
              _by_kind(manual_invoices(month), "order__customer_kind", "order__amount")),
        Group("agendados", "Pedidos ainda agendados", "Com faturamento previsto até o fim do mês e ainda não emitidos "
              "(agendados ou retidos para aprovação).", _by_kind(still_scheduled(month), "customer_kind", "amount")),
    ]
