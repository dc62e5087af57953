"""manage.py nfse_archive --since AAAA-MM-DD: guarda o PDF e o XML das NFS-e já emitidas (docs/nfse_documents.md).

Pode ser interrompido e rodado de novo: o que já foi guardado é pulado. No máximo uma chamada
ObterNFSe por nota (mais uma ListarNFSEs por página de até 500 notas, para achar o id da NF), no
ritmo de NFSE_BACKFILL_PER_MINUTE, e sempre depois do faturamento (espera enquanto há etapas de
emissão pendentes).
"""

from __future__ import annotations

import signal
import sys
from collections import Counter
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.services.nfse_backfill import nfse_backfill_run


class Command(BaseCommand):
    help = "Guarda o PDF e o XML das NFS-e já emitidas desde uma data (retomável; respeita o limite do Omie)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", required=True, help="primeiro dia de emissão (AAAA-MM-DD)")
        parser.add_argument("--until", help="último dia de emissão (AAAA-MM-DD; padrão: hoje)")
        parser.add_argument("--retry-failed", action="store_true", help="tenta de novo as que falharam")
        parser.add_argument("--limit", type=int, help="no máximo N notas nesta execução")
        parser.add_argument("--per-minute", type=int, help="chamadas ObterNFSe por minuto (padrão: NFSE_BACKFILL_PER_MINUTE)")

    def handle(self, *args: Any, **options: Any) -> None:
        since, until = _day(options["since"]), _day(options["until"]) if options["until"] else None
        stopping = {"now": False}

        def stop(*_: Any) -> None:
            stopping["now"] = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

        def progress(done: int, total: int, counts: Counter) -> None:
            width = 30
            filled = int(width * done / max(total, 1))
            parts = " · ".join(f"{name} {n}" for name, n in counts.items() if n and name not in ("criados", "já guardados"))
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {parts}   ")
            sys.stderr.flush()

        report = nfse_backfill_run(since=since, until=until, retry_failed=options["retry_failed"], limit=options["limit"],
                                   per_minute=options["per_minute"], progress=progress, stop=lambda: stopping["now"])
        sys.stderr.write("\n")
        counts = report.counts
        self.stdout.write(
            f"Notas na fila: {report.total} · guardadas agora: {counts['guardados']} · já guardadas antes: {counts['já guardados']} · "
            f"falharam: {counts['falharam']} · para depois: {counts['para depois']} · em uso: {counts['em uso']} · "
            f"chamadas ListarNFSEs: {report.list_calls} · espera pelo faturamento: {report.waited_for_billing_seconds:.0f} s"
            + (" · interrompido: rode de novo para continuar" if stopping["now"] else ""))


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"Data inválida: {text!r} (use AAAA-MM-DD)") from exc
