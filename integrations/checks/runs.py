"""The go-live check as a stored run: requested on the admin page, executed by a Celery worker.

Why a worker and not the request: the check calls Omie, Bubble, BrasilAPI and Pagar.me, and an
unreachable system (exactly what the check is for) would hold a gunicorn worker until its timeout
killed it (a bare 500 after 30 s; in the sandbox the fake Omie is served by those same workers). The
page now only writes a row and enqueues the run; it answers in milliseconds and refreshes itself
while the worker writes its progress here.

In the worker every system runs in its own thread, all at once, and the run waits at most
``INTEGRATIONS_CHECK_SYSTEM_TIMEOUT_SECONDS`` for them: a system that has not answered by then is a
red row ("não respondeu em 10 s"), whatever its HTTP client's own timeouts are. A thread left behind
ends with its client's timeout; its late answer is discarded.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import timezone

from integrations.checks.report import ERROR, Report, SystemReport
from integrations.checks.service import check_runs
from integrations.models import IntegrationCheckRun

logger = logging.getLogger(__name__)
Status = IntegrationCheckRun.Status

# A run nobody picked up (no worker consuming the default queue), or one whose worker died, is
# closed with the reason when the page next looks at it.
QUEUED_STALE_SECONDS = 60
RUNNING_STALE_SECONDS = 180


def integrations_check_run_request(*, user: Any, bubble_order_id: str = "", bubble_patch: bool = False,
                                   sentry_test_event: bool = False) -> IntegrationCheckRun:
    """The row the page creates; the caller enqueues ``integrations_check_run`` with its id."""
    name = (user.get_full_name() or user.get_username()) if user is not None else ""
    return IntegrationCheckRun.objects.create(
        requested_by=user, requested_by_name=name[:150],
        options={"bubble_order_id": bubble_order_id.strip(), "bubble_patch": bool(bubble_patch and bubble_order_id.strip()),
                 "sentry_test_event": bool(sentry_test_event)},
    )


def integrations_check_run_fail(*, run_id: int, reason: str, only_if: tuple[str, ...] = (Status.QUEUED, Status.RUNNING)) -> bool:
    """Closes a run that cannot finish (not enqueued, no worker, worker died); True when it changed."""
    return bool(IntegrationCheckRun.objects.filter(pk=run_id, status__in=only_if).update(
        status=Status.FAILED, failure=reason, finished_at=timezone.now()))


def integrations_check_run_refresh(*, run: IntegrationCheckRun) -> IntegrationCheckRun:
    """The run as the page should show it: a run stuck in the queue or running for too long is closed
    with the likely reason (conditional update: a worker finishing at the same moment wins)."""
    now = timezone.now()
    if run.status == Status.QUEUED and run.created_at < now - timedelta(seconds=QUEUED_STALE_SECONDS):
        integrations_check_run_fail(
            run_id=run.pk, only_if=(Status.QUEUED,),
            reason=f"Nenhum worker do Celery começou a verificação em {QUEUED_STALE_SECONDS} s: confira se o worker está "
                   "rodando (painel Flower ou a linha \"worker\" da verificação de plataforma) e verifique de novo.")
    elif run.status == Status.RUNNING and (run.started_at or run.created_at) < now - timedelta(seconds=RUNNING_STALE_SECONDS):
        integrations_check_run_fail(
            run_id=run.pk, only_if=(Status.RUNNING,),
            reason=f"A verificação começou mas não terminou em {RUNNING_STALE_SECONDS} s (o worker parou no meio?). "
                   "Verifique de novo.")
    else:
        return run
    run.refresh_from_db()
    return run


def integrations_check_run_execute(*, run_id: int) -> None:
    """The worker's part: claims the run (only once), runs every system bounded in time, stores the report."""
    claimed = IntegrationCheckRun.objects.filter(pk=run_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=timezone.now())
    if claimed != 1:
        return  # a duplicate message, or a run the page already closed
    run = IntegrationCheckRun.objects.get(pk=run_id)
    options = run.options or {}
    runs = check_runs(bubble_order_id=options.get("bubble_order_id") or None,
                      bubble_patch=bool(options.get("bubble_patch")),
                      sentry_test_event=bool(options.get("sentry_test_event")))
    progress = [{"system": title, "state": "running", "verdict": ""} for _key, title, _run in runs]
    IntegrationCheckRun.objects.filter(pk=run_id).update(progress=progress)

    def on_done(index: int, system: SystemReport) -> None:
        progress[index] = {"system": system.system, "state": "done", "verdict": system.verdict}
        IntegrationCheckRun.objects.filter(pk=run_id).update(progress=progress)

    timeout = float(settings.INTEGRATIONS_CHECK_SYSTEM_TIMEOUT_SECONDS)
    report = bounded_check(runs, timeout=timeout, on_done=on_done)
    IntegrationCheckRun.objects.filter(pk=run_id, status=Status.RUNNING).update(
        status=Status.DONE, report=report.as_dict(), verdict=report.verdict, progress=progress, finished_at=timezone.now())
    logger.info("integration check run %s: %s", run_id, report.verdict)


def bounded_check(runs: list[tuple[str, str, Callable[[SystemReport], None]]], *, timeout: float,
                  on_done: Callable[[int, SystemReport], None] | None = None) -> Report:
    """Runs every system at once, each in a thread; waits at most ``timeout`` seconds in all. The
    report keeps the systems' order; a system that did not finish in time is one red row."""
    results: list[SystemReport | None] = [None] * len(runs)
    finished = [threading.Event() for _ in runs]
    for index, (_key, title, run) in enumerate(runs):
        threading.Thread(target=_run_one, args=(title, run, results, index, finished[index]), daemon=True,
                         name=f"check-{title[:20]}").start()
    deadline = time.monotonic() + timeout
    pending = set(range(len(runs)))
    while pending:
        for index in sorted(pending):
            if finished[index].is_set():
                pending.discard(index)
                if on_done:
                    on_done(index, results[index])  # type: ignore[arg-type]
        if pending and time.monotonic() >= deadline:
            break
        time.sleep(0.1 if pending else 0)
    close_old_connections()
    report = Report()
    for index, (_key, title, _run) in enumerate(runs):
        system = results[index] if index not in pending else _too_late(title, timeout)
        if index in pending and on_done:
            on_done(index, system)  # type: ignore[arg-type]
        report.systems.append(system)  # type: ignore[arg-type]
    return report


def _run_one(title: str, run: Callable[[SystemReport], None], results: list[SystemReport | None], index: int,
             finished: threading.Event) -> None:
    system = SystemReport(system=title)
    try:
        run(system)
    except Exception as exc:  # a bug in one check must not hide the others
        logger.exception("integration check %s crashed", title)
        system.add("verificação", ERROR, "executar a verificação", f"falhou: {type(exc).__name__}",
                   "Erro interno da verificação: veja os logs do servidor.")
    finally:
        connections.close_all()  # this thread's own database connection
    results[index] = system
    finished.set()


def _too_late(title: str, timeout: float) -> SystemReport:
    system = SystemReport(system=title)
    system.add("resposta dentro do prazo", ERROR, f"todas as verificações de {title}, com prazo de {timeout:.0f} s",
               f"{title} não respondeu em {timeout:.0f} s (sistema fora do ar, lento ou inacessível pela rede)",
               "Confira o endereço configurado e a saída de rede do servidor; se o sistema estiver fora do ar, "
               "espere ele voltar e verifique de novo.")
    return system
