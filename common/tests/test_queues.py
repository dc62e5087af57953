"""Queues by concern (common/queues.py): an export or a backfill never waits in billing's queue, and a
worker started with the defaults (Procfile, docker/start-worker) consumes every queue a task goes to."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pytest
from django.conf import settings

from common import queues
from config.celery import app

ROOT = Path(__file__).resolve().parents[2]


def _queue_of(task_name: str) -> str:
    return app.amqp.router.route({}, task_name)["queue"].name


@pytest.mark.parametrize(("task", "queue"), [
    ("billing.tasks.omie.invoice_step", queues.OMIE_WRITES),
    ("orders.tasks.omie.order_sync_omie", queues.OMIE_WRITES),
    ("billing.tasks.omie.reconciliation_step", queues.OMIE_READS),
    ("integrations.tasks.bubble.writeback_deliver", queues.BUBBLE),
    ("backoffice.tasks.export_run", queues.EXPORTS),
    ("billing.tasks.pagarme_event_process", queues.WEBHOOKS),
    ("billing.tasks.omie_webhooks.omie_webhook_process", queues.WEBHOOKS),
    ("billing.tasks.billing_day_run", queues.DEFAULT),
])
def test_each_concern_has_its_own_queue(task, queue):
    assert _queue_of(task) == queue


def test_every_task_goes_to_a_declared_queue():
    app.loader.import_default_modules()
    names = [name for name in app.tasks if not name.startswith("celery.")]
    assert names
    assert {_queue_of(name) for name in names} <= set(queues.ALL_QUEUES)


def _registered() -> list[str]:
    app.loader.import_default_modules()  # as a worker does at start-up
    return sorted(name for name in app.tasks if not name.startswith("celery."))


def test_every_declared_queue_has_a_task_routed_to_it():
    """A queue no task goes to is a worker process (and a Procfile/compose/doc entry) waiting for nothing."""
    used = {_queue_of(name) for name in _registered()}
    assert sorted(set(queues.ALL_QUEUES) - used) == []


def test_every_route_matches_a_registered_task():
    """A route whose pattern matches no task is dead configuration (a renamed module, a removed task)."""
    names = _registered()
    dead = [pattern for pattern in settings.CELERY_TASK_ROUTES if not fnmatch.filter(names, pattern)]
    assert dead == []
    assert {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} <= set(queues.ALL_QUEUES)


def test_the_default_worker_consumes_every_queue():
    procfile = re.search(r"^worker: .* -Q (\S+)", (ROOT / "Procfile").read_text(), re.M)
    start = re.search(r'-Q "\$\{CELERY_QUEUES:-([^}]+)\}"', (ROOT / "docker" / "start-worker").read_text())
    assert procfile and start
    assert set(procfile.group(1).split(",")) == set(queues.ALL_QUEUES)
    assert set(start.group(1).split(",")) == set(queues.ALL_QUEUES)
