"""Dry run of the Omie writes (``OMIE_DRY_RUN=true``), at the client's boundary.

While it is on, the client builds every write (UpsertCliente, IncluirOS, FaturarOS, CancelarOS,
ReenviarOS) exactly as it would send it, validates it here, records it as an ``OmieDryRunCall``
and raises ``OmieDryRun`` instead of sending it. Reads are sent as usual. Nothing else in the
project decides what is or is not sent: the services only see a write that "cannot happen now".

When dry run is switched off, ``dry_run_replay_claim`` hands each waiting record to the caller
exactly once (a conditional UPDATE), and the order flow re-runs those orders for real.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from stdnum.br import cnpj, cpf

from integrations.omie.calls import WRITE_CALLS
from integrations.omie.contract import request_problems
from integrations.omie.errors import OmieNotNow
from integrations.omie.models import OmieDryRunCall
from integrations.omie.wire import dumps

logger = logging.getLogger(__name__)

DRY_RUN_LABEL = "Ensaio: seria enviado ao Omie"
# How long a billing step that met the dry run waits before it is tried again (it is re-recorded,
# not sent, for as long as dry run stays on).
DRY_RUN_RETRY_SECONDS = 3600.0


class OmieDryRun(OmieNotNow):
    """The write was built, validated and recorded, not sent (dry run). Nothing happened at Omie."""

    def __init__(self, message: str, *, call: str, record_id: int | None, problems: list[str]) -> None:
        super().__init__(message, retry_after=DRY_RUN_RETRY_SECONDS, reason="dry_run", outcome_unknown=False, call=call)
        self.record_id = record_id
        self.problems = problems


def dry_run_on() -> bool:
    return bool(getattr(settings, "OMIE_DRY_RUN", False))


def is_dry_run_write(call: str) -> bool:
    return call in WRITE_CALLS and dry_run_on()


def wire_payload(param: dict) -> str:
    """The parameter as it would travel (dates as dd/mm/yyyy, exact amounts, keys in order), indented."""
    return dumps(param, indent=2)


# Validation -----------------------------------------------------------------------------------
def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _amount(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (ArithmeticError, ValueError):
        return None


def _validate_cliente(param: dict) -> list[str]:
    problems = [f"campo obrigatório vazio: {name}" for name in ("codigo_cliente_integracao", "razao_social", "cnpj_cpf", "email")
                if _blank(param.get(name))]
    doc = re.sub(r"[^0-9A-Za-z]", "", str(param.get("cnpj_cpf") or "")).upper()
    if doc and not (cpf.is_valid(doc) if len(doc) == 11 else cnpj.is_valid(doc)):
        problems.append("cnpj_cpf não é um CPF/CNPJ válido (dígitos verificadores)")
    if param.get("email") and "@" not in str(param["email"]):
        problems.append("email sem '@'")
    if param.get("estado") and len(str(param["estado"])) != 2:
        problems.append("estado deve ter 2 letras (UF)")
    return problems


def _validate_os(param: dict) -> list[str]:
    """What the contract cannot say: values that must make sense for this account (beyond presence)."""
    head = param.get("Cabecalho") or {}
    extra = param.get("InformacoesAdicionais") or {}
    lines = param.get("ServicosPrestados") or []
    problems = [f"Cabecalho.{name} vazio" for name in ("cCodIntOS", "cEtapa", "dDtPrevisao") if _blank(head.get(name))]
    if head.get("nCodCli") in (None, ""):
        problems.append("Cabecalho.nCodCli vazio")  # 0 = the customer is in this dry run too
    for name in ("cCodCateg", "cCidPrestServ"):
        if _blank(extra.get(name)):
            problems.append(f"InformacoesAdicionais.{name} vazio")
    if not lines:
        problems.append("ServicosPrestados vazio")
    total = _validate_os_lines(lines, problems)
    if lines and total <= 0:
        problems.append(f"soma dos serviços ({total}) deve ser maior que zero")
    return problems


def _validate_os_lines(lines: list[dict], problems: list[str]) -> Decimal:
    """Appends each service line's problems; returns the lines' total (Omie computes the OS total
    from it: ``nValorTotal`` is never sent)."""
    lines_total = Decimal(0)
    for i, line in enumerate(lines):
        if _blank(line.get("cDescServ")):
            problems.append(f"ServicosPrestados[{i}].cDescServ vazio")
        unit, qty = _amount(line.get("nValUnit")), _amount(line.get("nQtde"))
        if unit is None or qty is None:
            problems.append(f"ServicosPrestados[{i}] sem valor ou quantidade")
        else:
            lines_total += unit * qty
    return lines_total


def dry_run_validate(call: str, param: dict) -> list[str]:
    """What Omie would certainly refuse in this parameter, in Portuguese (empty: looks sendable):
    first every rule of Omie's published contract (required, do-not-send, types, codes), then the
    checks of values the contract cannot express (check digits, positive amounts)."""
    problems = request_problems(call, param)
    if call in ("UpsertCliente", "UpsertClienteCpfCnpj"):
        extra = _validate_cliente(param)
    elif call == "IncluirOS":
        extra = _validate_os(param)
    else:
        extra = []
    return problems + [p for p in extra if p not in problems]


# Recording ------------------------------------------------------------------------------------
def dry_run_record(*, call: str, param: dict, key: str, order_id: int | None) -> OmieDryRun:
    """Validates and records one write that is not sent; returns the exception the client raises."""

    problems = dry_run_validate(call, param)
    payload = wire_payload(param)
    key = (key or "")[:100]
    now = timezone.now()
    record_id: int | None = None
    for _ in range(2):  # a concurrent first insert of the same (call, key) makes the second one update
        updated = OmieDryRunCall.objects.filter(call=call, integration_key=key, replayed_at__isnull=True)
        if updated.update(payload=payload, problems=problems, order_id=order_id, updated_at=now,
                          built_count=F("built_count") + 1):
            record_id = updated.values_list("id", flat=True).first()
            break
        try:
            with transaction.atomic():
                record_id = OmieDryRunCall.objects.create(
                    call=call, integration_key=key, order_id=order_id, payload=payload, problems=problems,
                    created_at=now, updated_at=now,
                ).pk
            break
        except IntegrityError:
            continue
    if call == "IncluirOS" and key:
        _bubble_dry_run_field(bubble_order_id=key, order_id=order_id, problems=problems)
    logger.info("omie dry run: %s recorded, not sent (%d problems)", call, len(problems))
    detail = f"; problemas: {'; '.join(problems)}" if problems else ""
    return OmieDryRun(f"{DRY_RUN_LABEL} ({call}), não enviado{detail}", call=call, record_id=record_id, problems=problems)


def _bubble_dry_run_field(*, bubble_order_id: str, order_id: int | None, problems: list[str]) -> None:
    """The one Bubble write allowed during a dry run: BUBBLE_DRY_RUN_FIELD of the pedido, when set."""
    field = getattr(settings, "BUBBLE_DRY_RUN_FIELD", "")
    if not field:
        return
    from integrations.bubble.services import writeback_enqueue

    text = DRY_RUN_LABEL + (f" — {len(problems)} problema(s): {'; '.join(problems)}" if problems else " — payload válido")
    with transaction.atomic():
        writeback_enqueue(thing="order", bubble_id=bubble_order_id, fields={field: text[:500]}, order_id=order_id,
                          dry_run_field=True)


def bubble_write_allowed(fields: dict[str, Any], *, dry_run_field: bool = False) -> bool:
    """During a dry run nothing but BUBBLE_DRY_RUN_FIELD is written to Bubble."""
    if not dry_run_on():
        return True
    field = getattr(settings, "BUBBLE_DRY_RUN_FIELD", "")
    return dry_run_field and bool(field) and set(fields) == {field}


# Replay -----------------------------------------------------------------------------------------
def dry_run_waiting_order_ids() -> list[int]:
    return sorted(set(OmieDryRunCall.objects.filter(replayed_at__isnull=True, order_id__isnull=False)
                      .values_list("order_id", flat=True)))


def dry_run_replay_claim(*, order_id: int, discard: bool = False) -> bool:
    """Marks every waiting record of the order replayed; True for the one caller that did it.
    Replaying waits for dry run to be off; discarding (ops: "never send this one") does not."""

    if dry_run_on() and not discard:
        return False
    return bool(OmieDryRunCall.objects.filter(order_id=order_id, replayed_at__isnull=True).update(replayed_at=timezone.now()))
