"""The day-25 run's progress on the dashboard (billing/run_progress.py): due, billed, issued, failed, ETA."""

from __future__ import annotations

import pytest

from billing.models import Invoice, InvoiceStep
from billing.run_progress import RUN_ACTOR, billing_run_progress
from billing.services.run import billing_day_run
from billing.tests.conftest import due_order, work_until
from orders.statuses import BillingStatus

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_progress_counts_the_runs_invoices_as_they_move(fake_omie, settings):
    settings.BILLING_FIRST_POLL_SECONDS = 3600  # billed, then waiting for the city hall for the whole test
    settings.BILLING_NFSE_BULK = False
    for _ in range(3):
        due_order()
    assert billing_run_progress() is None

    billing_day_run(actor=RUN_ACTOR)
    due_order()  # due today, not claimed yet: still counted as due
    progress = billing_run_progress()
    assert (progress.due, progress.billed, progress.issued, progress.failed) == (4, 0, 0, 0)
    assert progress.eta_billed is not None  # at the configured rate until some were billed

    work_until(lambda: Invoice.objects.filter(next_step=InvoiceStep.POLL_NFSE, faturar_accepted_at__isnull=False).count() == 3)
    first, second, _third = Invoice.objects.order_by("id")
    Invoice.objects.filter(pk=first.pk).update(status=BillingStatus.ISSUED, nfse_number="123", next_step=InvoiceStep.NONE)
    Invoice.objects.filter(pk=second.pk).update(status=BillingStatus.FAILED, next_step=InvoiceStep.NONE)

    progress = billing_run_progress()
    assert (progress.due, progress.billed, progress.issued, progress.failed, progress.waiting_nfse) == (4, 3, 1, 1, 1)
    assert progress.billed_per_minute == pytest.approx(3 / 5)  # three FaturarOS in the last five minutes


def test_the_dashboard_shows_the_run(client, user_factory, fake_omie):
    from django.contrib.auth.models import Permission

    for _ in range(2):
        due_order()
    billing_day_run(actor=RUN_ACTOR)
    user = user_factory("ops-painel", is_staff=True)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="orders", codename="view_order"))
    client.force_login(user)
    page = client.get("/admin/").content.decode()
    assert "Faturamento de" in page and "0 / 2" in page and "Faturados no Omie" in page
