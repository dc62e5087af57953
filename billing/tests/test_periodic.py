import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

pytestmark = pytest.mark.django_db


def test_the_day25_run_and_the_sweeps_are_created_by_code_and_editable_in_the_admin():
    call_command("setup_periodic_tasks")
    run = PeriodicTask.objects.get(task="billing.tasks.billing_day_run")
    assert (run.crontab.minute, run.crontab.hour, run.crontab.day_of_month) == ("0", "7", "25")
    assert str(run.crontab.timezone) == "America/Sao_Paulo"
    assert PeriodicTask.objects.get(task="billing.tasks.billing_due_sweep").interval.every == 600
    assert PeriodicTask.objects.get(task="billing.tasks.invoices_dispatch").interval.every == 30
    assert PeriodicTask.objects.get(task="billing.tasks.reconciliation_run").crontab.hour == "5"
    assert PeriodicTask.objects.get(task="billing.tasks.pagarme_events_retention").crontab.hour == "4"
    assert PeriodicTask.objects.get(task="billing.tasks.omie_webhooks.omie_webhooks_requeue").interval.every == 60
    assert PeriodicTask.objects.get(task="billing.tasks.nfse_documents.nfse_archives_sweep").interval.every == 120

    # An ops person disables the run in the admin; the next deploy keeps it disabled.
    PeriodicTask.objects.filter(pk=run.pk).update(enabled=False)
    call_command("setup_periodic_tasks")
    assert PeriodicTask.objects.get(pk=run.pk).enabled is False
    assert PeriodicTask.objects.get(task="billing.tasks.omie.nfse_bulk_confirm").interval.every == 30
    assert PeriodicTask.objects.filter(task__startswith="billing.").count() == 8


def test_every_periodic_task_names_a_task_the_worker_has():
    """A wrong dotted name is only "Received unregistered task … discarded" in the worker's log (issue 23's
    bench found the NFS-e documents sweep so: it had never run)."""
    from config.celery import app

    call_command("setup_periodic_tasks")
    app.loader.import_default_modules()
    names = set(PeriodicTask.objects.exclude(task="celery.backend_cleanup").values_list("task", flat=True))
    assert names and names <= set(app.tasks.keys()), names - set(app.tasks.keys())
