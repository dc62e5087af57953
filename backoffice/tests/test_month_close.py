"""Faturamento do mês: issued, cancelled and manual NFs and the orders still waiting, per customer kind, in São Paulo's month."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from openpyxl import load_workbook

from billing.models import Invoice
from billing.month_close import Month, month_close
from billing.tests.factories import order_in_state
from common.dates import SAO_PAULO

pytestmark = pytest.mark.django_db

NOV = Month(2026, 11)


def _at(day: int, hour: int = 12, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=SAO_PAULO)


@pytest.fixture
def november():
    """PF 1.000,50 + PJ 2.234,06 issued; one PJ cancelled; one PF manual; a PJ scheduled for the 25th, a PF issued in October."""
    def issued(kind: str, amount: str, when: datetime) -> Invoice:
        order = order_in_state("ISSUED", customer_kind=kind, amount=Decimal(amount))
        invoice = Invoice.objects.get(order=order)
        invoice.issued_at = when
        invoice.save(update_fields=["issued_at"])
        return invoice

    issued("PF", "1000.50", _at(1, 0))  # 00:00 in São Paulo on 1 Nov is 03:00 UTC: November
    issued("PJ", "2234.06", _at(30, 23))  # 23:00 on 30 Nov in São Paulo is already December in UTC: still November
    issued("PF", "99.00", _at(31, 12, month=10))
    cancelled = order_in_state("CANCELLED", customer_kind="PJ", amount=Decimal("500.00"))
    Invoice.objects.filter(order=cancelled).update(cancelled_at=_at(10), issued_at=_at(20, month=10))
    manual = order_in_state("MANUAL", customer_kind="PF", amount=Decimal("80.00"))
    Invoice.objects.filter(order=manual).update(issued_at=_at(5))
    order_in_state("SCHEDULED", customer_kind="PJ", amount=Decimal("3000.00"), billing_scheduled_for=date(2026, 11, 25))
    order_in_state("SCHEDULED", customer_kind="PJ", amount=Decimal("7.00"), billing_scheduled_for=date(2026, 12, 25))


def test_the_groups_count_and_sum_by_customer_kind_in_sao_paulo_time(november):
    groups = {g.key: g for g in month_close(NOV)}
    issued = groups["emitidas"]
    assert (issued.by_kind["PF"].count, issued.by_kind["PF"].amount) == (1, Decimal("1000.50"))
    assert (issued.by_kind["PJ"].count, issued.by_kind["PJ"].amount) == (1, Decimal("2234.06"))
    assert issued.total.amount == Decimal("3234.56")
    assert (groups["canceladas"].total.count, groups["canceladas"].by_kind["PJ"].amount) == (1, Decimal("500.00"))
    assert (groups["manuais"].total.count, groups["manuais"].by_kind["PF"].amount) == (1, Decimal("80.00"))
    assert (groups["agendados"].total.count, groups["agendados"].total.amount) == (1, Decimal("3000.00"))
    october = {g.key: g for g in month_close(Month(2026, 10))}
    assert october["emitidas"].total.count == 2  # the one issued in October and the one cancelled in November


def test_the_page_shows_reais_and_finance_exports_the_month(november, user_factory):
    user = user_factory("fin", is_staff=True)
    user.groups.add(Group.objects.get(name="Financeiro"))
    client = Client()
    client.force_login(user)
    html = client.get("/admin/billing/invoice/faturamento-do-mes/", {"mes": "2026-11"}).content.decode()
    assert "Faturamento do mês — novembro de 2026" in html
    assert "R$ 3.234,56" in html and "R$ 1.000,50" in html and "R$ 3.000,00" in html
    response = client.get("/admin/billing/invoice/faturamento-do-mes/exportar/", {"mes": "2026-11", "formato": "xlsx"})
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    assert workbook.sheetnames == ["Resumo", "Notas do mês", "Ainda agendados"]
    summary = list(workbook["Resumo"].iter_rows(values_only=True))
    assert summary[0] == ("Grupo", "Tipo de cliente", "Quantidade", "Valor (R$)")
    assert ("NFS-e emitidas", "Total", 2, pytest.approx(3234.56)) in summary
    assert len(list(workbook["Notas do mês"].iter_rows())) - 1 == 4  # 2 issued, 1 cancelled, 1 manual
    assert len(list(workbook["Ainda agendados"].iter_rows())) - 1 == 1


def test_ops_sees_the_month_but_not_its_export(november, user_factory):
    user = user_factory("op", is_staff=True)
    user.groups.add(Group.objects.get(name="Ops"))
    client = Client()
    client.force_login(user)
    html = client.get("/admin/billing/invoice/faturamento-do-mes/", {"mes": "2026-11"}).content.decode()
    assert "R$ 3.234,56" in html and 'aria-disabled="true"' in html
    assert client.get("/admin/billing/invoice/faturamento-do-mes/exportar/", {"mes": "2026-11"}).status_code == 403


def test_a_bad_month_parameter_falls_back_to_the_current_month():
    assert Month.parse("2026-13", default=date(2026, 5, 3)) == Month(2026, 5)
    assert Month.parse("x", default=date(2026, 5, 3)).label == "maio de 2026"
    assert Month(2026, 12).following == Month(2027, 1) and Month(2026, 1).previous == Month(2025, 12)
