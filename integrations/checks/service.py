"""The integration check (go-live): every external system and the platform, in one report.

Used by ``manage.py check_integrations`` and by the admin page "Verificar integrações". It never
spends more than one Omie call, and the Omie part calls Omie at most once a minute for the whole
deployment (a second check within the minute shows the previous answer).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from integrations.checks.pagarme import check_pagarme
from integrations.checks.report import ERROR, Report, SystemReport
from integrations.checks.systems import check_brasilapi, check_bubble, check_omie, check_platform

logger = logging.getLogger(__name__)

SYSTEMS = ("omie", "bubble", "brasilapi", "pagarme", "plataforma")


def check_runs(
    *, bubble_order_id: str | None = None, bubble_patch: bool = False, sentry_test_event: bool = False,
) -> list[tuple[str, str, Callable[[SystemReport], None]]]:
    """Every system's check as (key, title, function filling a ``SystemReport``), in the report's order."""
    return [
        ("omie", "Omie", check_omie),
        ("bubble", "Bubble", lambda r: check_bubble(r, sample_order_id=(bubble_order_id or "").strip() or None,
                                                    patch=bubble_patch)),
        ("brasilapi", "BrasilAPI", check_brasilapi),
        ("pagarme", "Pagar.me", check_pagarme),
        ("plataforma", "Plataforma (banco, Redis, broker, beat, Sentry, Flower)",
         lambda r: check_platform(r, sentry_test_event=sentry_test_event)),
    ]


def integrations_check(
    *,
    bubble_order_id: str | None = None,
    bubble_patch: bool = False,
    sentry_test_event: bool = False,
    only: tuple[str, ...] | None = None,
) -> Report:
    """Runs the checks one after the other (the command line); ``bubble_patch`` and
    ``sentry_test_event`` write (explicit flags only). The admin page runs them in a worker, bounded
    in time (integrations/checks/runs.py)."""
    runs = check_runs(bubble_order_id=bubble_order_id, bubble_patch=bubble_patch, sentry_test_event=sentry_test_event)
    report = Report()
    for key, title, run in runs:
        if only and key not in only:
            continue
        system = SystemReport(system=title)
        try:
            run(system)
        except Exception as exc:  # a bug in one check must not hide the others
            logger.exception("integration check %s crashed", key)
            system.add("verificação", ERROR, "executar a verificação", f"falhou: {type(exc).__name__}",
                       "Erro interno da verificação: veja os logs do servidor.")
        report.systems.append(system)
    logger.info("integration check: %s", report.verdict)
    return report
