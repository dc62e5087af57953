"""The fake Omie's webhooks: what Omie pushes, and how it delivers it.

Events are queued when the fake's records change (FaturarOS → ``OrdemServico.Faturada``, the city
hall's answer → ``NFSe.NotaAutorizada``, CancelarOS or a cancel "made in Omie's screen" →
``NFSe.NotaCancelada``…) and delivered by ONE sender, in Omie's way:

- one FIFO queue per endpoint: only the head is tried, and a head that fails blocks every later
  message (head-of-line blocking) until it gets a 2xx;
- main queue: up to 3 tries with a 7 s timeout, 1–4 s apart; then the dead-letter queue: one try
  every 10 min with a 20 s timeout, given up after 5 days (waits × the fake's ``time_scale``);
- configurable loss, duplication and delay.

The bodies are the ones Omie is known to send: ``OrdemServico.*`` in camelCase (``idOrdemServico``,
``numeroOrdemServico``, ``codigoIntegracao``…), ``NFSe.*`` with ``codigo_os``, ``numero_os``, ``id_nf``,
``numero_rps``, ``data_emis`` and the NFS-e XML in ``nfse_xml`` (no number field), in an envelope whose
``appKey`` is the app's key.

The sender also lets the fake's city hall answer on time (a pending NFS-e is otherwise resolved only
when someone asks StatusOS), so a webhook arrives even when nobody polls.
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from sandbox.fake_omie.models import FakeNfse, FakeOmieConfig, FakeOmieWebhook, FakeServiceOrder

logger = logging.getLogger(__name__)

MAIN_TRIES = 3
MAIN_TIMEOUT_SECONDS = 7.0
MAIN_RETRY_SECONDS = (1.0, 4.0)
DEAD_LETTER_TIMEOUT_SECONDS = 20.0
DEAD_LETTER_INTERVAL_SECONDS = 600.0
GIVE_UP_SECONDS = 5 * 24 * 3600.0
SENDER_LOCK = 0x0F0E_0A11_0E8E_B00C


# --------------------------------------------------------------------------------------------
# What Omie sends
# --------------------------------------------------------------------------------------------


def _dmy(value: Any) -> str:
    return timezone.localtime(value).strftime("%d/%m/%Y") if value else ""


def _hms(value: Any) -> str:
    return timezone.localtime(value).strftime("%H:%M:%S") if value else ""


def nfse_event(config: FakeOmieConfig, nfse: FakeNfse) -> dict[str, Any]:
    order = nfse.service_order
    return {"codigo_os": order.n_cod_os, "numero_os": str(order.pk), "id_nf": nfse.pk, "numero_rps": str(nfse.rps_number),
            "data_emis": _dmy(nfse.issued_at), "nfse_xml": nfse_xml(nfse)}


def nfse_xml(nfse: FakeNfse) -> str:
    """A small NFS-e Nacional document: the access key in ``infNFSe/@Id``, the number in ``nNFSe``."""
    order = nfse.service_order
    key = f"3550308{'11222333000181'}{int(nfse.number or 0):013d}{nfse.pk:016d}"[:50].ljust(50, "0")
    issued = timezone.localtime(nfse.issued_at).isoformat(timespec="seconds") if nfse.issued_at else ""
    doc = order.customer.cnpj_cpf
    taker = "CPF" if len(doc) == 11 else "CNPJ"
    return (f'<?xml version="1.0" encoding="UTF-8"?><NFSe xmlns="http://www.sped.fazenda.gov.br/nfse" versao="1.00">'
            f'<infNFSe Id="NFS{key}"><nNFSe>{nfse.number or ""}</nNFSe><dhProc>{issued}</dhProc>'
            f'<emit><CNPJ>11222333000181</CNPJ></emit><valores><vLiq>{order.amount}</vLiq></valores>'
            f'<DPS><infDPS><nDPS>{nfse.rps_number}</nDPS><toma><{taker}>{doc}</{taker}></toma>'
            f'<valores><vServPrest><vServ>{order.amount}</vServ></vServPrest></valores></infDPS></DPS></infNFSe></NFSe>')


def os_event(config: FakeOmieConfig, order: FakeServiceOrder) -> dict[str, Any]:
    """``OrdemServico.*`` as recorded: camelCase, ``codigoIntegracao`` our key ("0" when none)."""
    event: dict[str, Any] = {
        "idOrdemServico": order.n_cod_os, "numeroOrdemServico": str(order.pk), "codigoIntegracao": order.c_cod_int_os or "0",
        "idCliente": order.customer.codigo_cliente_omie, "etapa": order.etapa, "valorOrdemServico": float(order.amount),
        "dataPrevisao": (order.payload.get("Cabecalho") or {}).get("dDtPrevisao", ""),
    }
    if order.faturada:
        event.update({"faturada": "S", "dataFaturado": _dmy(order.billed_at), "horaFaturado": _hms(order.billed_at),
                      "usuarioFaturado": "WEBSERVICE"})
    if order.cancelada:
        event.update({"cancelada": "S", "dataCancelado": _dmy(order.cancelled_at), "horaCancelado": _hms(order.cancelled_at),
                      "usuarioCancelado": "WEBSERVICE"})
    return event


def webhook_emit(config: FakeOmieConfig, topic: str, event: dict[str, Any]) -> None:
    """Queues one message (inside the caller's transaction), applying the configured loss and duplication."""
    if not config.webhook_url:
        return
    now = timezone.now()
    message_id = str(uuid.uuid4())
    body = {"messageId": message_id, "topic": topic, "event": event,
            "author": {"email": "omie@fake.invalid", "name": "Omie falso", "userId": 1},
            "appKey": settings.OMIE_APP_KEY, "appHash": "fake-app-hash", "origin": "omie-connect-1.6"}
    lost = random.random() < config.webhook_loss_rate
    due = now + timedelta(seconds=config.scaled(config.webhook_delay_seconds))
    state = FakeOmieWebhook.State.LOST if lost else FakeOmieWebhook.State.QUEUED
    rows = [FakeOmieWebhook(topic=topic, message_id=message_id, body=body, state=state, created_at=now, next_try_at=due)]
    if not lost and random.random() < config.webhook_duplicate_rate:
        rows.append(FakeOmieWebhook(topic=topic, message_id=message_id, body=body, created_at=now, next_try_at=due))
    FakeOmieWebhook.objects.bulk_create(rows)


# --------------------------------------------------------------------------------------------
# How Omie delivers it
# --------------------------------------------------------------------------------------------


def deliver_due(*, max_messages: int = 200) -> int:
    """Lets the city hall answer, then delivers due messages from the head of the queue; returns how many got a 2xx."""
    from sandbox.fake_omie.handlers import resolve_due_nfse
    from sandbox.fake_omie.services import fake_omie_config

    config = fake_omie_config()
    if not config.webhook_url:
        return 0
    resolve_due_nfse(config)
    delivered = 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [SENDER_LOCK])
        if not cursor.fetchone()[0]:
            return 0  # another sender has the queue: one at a time keeps it FIFO
    try:
        while delivered < max_messages:
            head = FakeOmieWebhook.objects.filter(state=FakeOmieWebhook.State.QUEUED).order_by("id").first()
            if head is None or head.next_try_at > timezone.now():
                break  # head-of-line blocking: nothing behind a waiting head goes first
            if not _try(config, head):
                break
            delivered += 1
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [SENDER_LOCK])
    return delivered


def _try(config: FakeOmieConfig, head: FakeOmieWebhook) -> bool:
    import requests

    timeout = DEAD_LETTER_TIMEOUT_SECONDS if head.dead_letter else MAIN_TIMEOUT_SECONDS
    now = timezone.now()
    status, error = None, ""
    try:
        response = requests.post(config.webhook_url, json=head.body, timeout=timeout)
        status = response.status_code
    except requests.RequestException as exc:
        error = type(exc).__name__
    head.attempts += 1
    head.last_status, head.last_error = status, error[:255]
    if status is not None and 200 <= status < 300:
        head.state, head.delivered_at = FakeOmieWebhook.State.DELIVERED, timezone.now()
        head.save()
        return True
    if not head.dead_letter and head.attempts >= MAIN_TRIES:
        head.dead_letter = True
    if head.dead_letter:
        if (now - head.created_at).total_seconds() > config.scaled(GIVE_UP_SECONDS):
            head.state = FakeOmieWebhook.State.EXPIRED
        head.next_try_at = now + timedelta(seconds=config.scaled(DEAD_LETTER_INTERVAL_SECONDS))
    else:
        head.next_try_at = now + timedelta(seconds=config.scaled(random.uniform(*MAIN_RETRY_SECONDS)))
    head.save()
    return head.state == FakeOmieWebhook.State.EXPIRED  # an expired head no longer blocks the queue


class WebhookSender:
    """The sender in a background thread (tests, benches); ``manage.py fake_omie_webhooks`` runs it as a process."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake-omie-webhooks", daemon=True)

    def start(self) -> WebhookSender:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    deliver_due()
                except Exception:
                    logger.exception("fake omie webhook sender")
                self._stop.wait(self.interval)
        finally:
            connection.close()
