"""Each periodic task's heartbeat in Redis and its Sentry Crons check-ins (common/metrics/periodic_runs.py).

Sentry's transport is replaced by one that keeps the envelopes (the SDK itself builds them): nothing is sent.
"""

from __future__ import annotations

import time

import pytest
import sentry_sdk
from sentry_sdk.transport import Transport

from common.metrics.periodic_runs import monitor_slug, on_task_end, on_task_start, read_run_events


class _Kept(Transport):
    def __init__(self, options: dict | None = None) -> None:
        super().__init__(options)
        self.envelopes: list = []

    def capture_envelope(self, envelope) -> None:  # type: ignore[no-untyped-def]
        self.envelopes.append(envelope)


@pytest.fixture
def sentry(settings):
    settings.SENTRY_DSN = "https://public@sentry.example.com/1"
    transport = _Kept()
    sentry_sdk.init(dsn=settings.SENTRY_DSN, transport=transport)
    yield transport
    sentry_sdk.init()  # back to no client


def _check_ins(transport: _Kept) -> list[dict]:
    sentry_sdk.flush()
    return [item.payload.json for envelope in transport.envelopes for item in envelope.items if item.type == "check_in"]


def test_a_periodic_task_records_its_start_and_success_and_a_failure(redis_client):
    on_task_start("billing.tasks.reconciliation_run", "a")
    on_task_end("billing.tasks.reconciliation_run", "a", ok=True)
    on_task_start("billing.tasks.billing_due_sweep", "b")
    on_task_end("billing.tasks.billing_due_sweep", "b", ok=False)
    events = read_run_events(redis_client)
    assert time.time() - events["success"]["billing.tasks.reconciliation_run"] < 5
    assert "billing.tasks.billing_due_sweep" in events["failure"] and "billing.tasks.billing_due_sweep" not in events["success"]


def test_an_ordinary_task_records_nothing(redis_client):
    on_task_start("common.tasks.ping", "c")
    on_task_end("common.tasks.ping", "c", ok=True)
    assert read_run_events(redis_client) == {"start": {}, "success": {}, "failure": {}}


def test_the_day25_run_checks_in_on_start_and_finish_with_its_schedule(sentry):
    on_task_start("billing.tasks.billing_day_run", "d")
    on_task_end("billing.tasks.billing_day_run", "d", ok=True)
    started, finished = _check_ins(sentry)
    assert started["monitor_slug"] == finished["monitor_slug"] == monitor_slug("billing.tasks.billing_day_run")
    assert (started["status"], finished["status"]) == ("in_progress", "ok")
    assert started["check_in_id"] == finished["check_in_id"]
    assert started["monitor_config"]["schedule"] == {"type": "crontab", "value": "0 7 25 * *"}
    assert started["monitor_config"]["timezone"] == "America/Sao_Paulo"


def test_a_failed_sweep_checks_in_as_error_and_the_30_second_dispatcher_not_at_all(sentry):
    on_task_start("billing.tasks.invoices_dispatch", "e")
    on_task_end("billing.tasks.invoices_dispatch", "e", ok=True)
    on_task_start("billing.tasks.billing_due_sweep", "f")
    on_task_end("billing.tasks.billing_due_sweep", "f", ok=False)
    check_ins = _check_ins(sentry)
    assert [c["status"] for c in check_ins] == ["in_progress", "error"]
    assert check_ins[0]["monitor_config"]["schedule"] == {"type": "interval", "value": 10, "unit": "minute"}


def test_without_sentry_dsn_no_check_in_is_made(settings):
    settings.SENTRY_DSN = ""
    transport = _Kept()
    sentry_sdk.init(dsn="https://public@sentry.example.com/1", transport=transport)
    try:
        on_task_start("billing.tasks.billing_day_run", "g")
        on_task_end("billing.tasks.billing_day_run", "g", ok=True)
        assert _check_ins(transport) == []
    finally:
        sentry_sdk.init()
