"""The Omie client: every call goes through the central throttle, is classified and is recorded.

Use ``get_omie_client()``; each method returns a typed record or raises an ``OmieError`` that says
whether retrying can help (see errors.py). ``OmieNotNow`` means "call again in ``retry_after`` s":
Celery tasks turn it into ``self.retry(countdown=exc.retry_after)``; nothing here sleeps, except the
next caller in line for a busy write lease (``OmieThrottle.acquire_in_turn``, ≤ OMIE_TURN_WAIT_SECONDS).
``client.in_line(place)`` sends its writes first come, first served by the place's score.

Recoveries done here, so callers don't repeat them:
- IncluirOS answered "já cadastrada" (or REDUNDANT) → ConsultarOS by ``cCodIntOS``; the existing OS
  is returned (``already_existed=True``).
- A REDUNDANT answer to a write → consult by the integration key to learn whether it happened
  (UpsertCliente → ConsultarCliente, FaturarOS → ``cFaturada``, CancelarOS → ``cCancelada``);
  when it cannot be told, ``OmieNotNow(outcome_unknown=True)``.
- ListarOS/ListarNFSEs past the last page (Client-5113) → an empty page.
Call it outside database transactions: the call log row must survive the caller's rollback.
"""

from __future__ import annotations

import copy
import logging
import random
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, NoReturn

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError

from common.logging import redact
from common.metrics.counters import counter_add
from integrations.documents import document_compact, document_format, document_mask
from integrations.http import build_session, json_or_none, send
from integrations.omie.calls import ENDPOINTS, WRITE_CALLS
from integrations.omie.classify import classify, existing_customer
from integrations.omie.dryrun import dry_run_record, is_dry_run_write
from integrations.omie.errors import (
    OmieBusinessError,
    OmieCustomerExists,
    OmieDuplicate,
    OmieError,
    OmieNotFound,
    OmieNotNow,
    OmieTransientError,
)
from integrations.omie.models import OmieCall
from integrations.omie.throttle import LinePlace, OmieThrottle, ThrottleLimits, get_redis
from integrations.omie.types import (
    CallClass,
    ClienteInfo,
    NfseDocs,
    NfsePage,
    NfseStatus,
    OSCreated,
    OSInfo,
    OSPage,
    Outcome,
    UpsertClienteResult,
)
from integrations.omie.wire import NFSE_FILTERS, OS_FILTERS, dumps, list_filters, nfse_docs, nfse_info, nfse_status, os_info

logger = logging.getLogger(__name__)

class OmieClient:
    def __init__(
        self,
        *,
        base_url: str,
        app_key: str,
        app_secret: str,
        timeout: tuple[float, float],
        throttle: OmieThrottle,
    ) -> None:
        if throttle.limits.lease_seconds < timeout[0] + timeout[1]:
            raise ImproperlyConfigured("OMIE_LEASE_SECONDS must cover OMIE_CONNECT_TIMEOUT + OMIE_READ_TIMEOUT")
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.app_key = app_key
        self.app_secret = app_secret
        self.timeout = timeout
        self.throttle = throttle
        self.session = build_session("omie")
        self.place: LinePlace | None = None
        self.on_woken: Callable[[tuple[str, ...]], None] | None = None

    def in_line(self, place: LinePlace, *, on_woken: Callable[[tuple[str, ...]], None] | None = None) -> OmieClient:
        """This client (same session and throttle) whose writes wait for their turn at ``place`` in
        each write method's line: first come, first served (docs/omie.md, "The line"). ``on_woken``
        gets the parked tickets a grant of ours brought to the waiting places (call their tasks)."""
        bound = copy.copy(self)
        bound.place = replace(place, wakeable=on_woken is not None)
        bound.on_woken = on_woken
        return bound

    # customers ----------------------------------------------------------------------------------
    def upsert_cliente(
        self, *, codigo_cliente_integracao: str, cliente: dict, order_id: int | None = None
    ) -> UpsertClienteResult:
        param = {**cliente, "codigo_cliente_integracao": codigo_cliente_integracao}
        outcome = self._call("UpsertCliente", param, key=codigo_cliente_integracao, order_id=order_id)
        if outcome.cls == CallClass.OK:
            body = outcome.body
            return UpsertClienteResult(
                codigo_cliente_omie=int(body["codigo_cliente_omie"]),
                codigo_cliente_integracao=str(body.get("codigo_cliente_integracao") or codigo_cliente_integracao),
                message=str(body.get("descricao_status", "")),
            )
        if outcome.cls == CallClass.REDUNDANT:
            info = self._confirm("UpsertCliente", outcome, lambda: self.consultar_cliente(
                codigo_cliente_integracao=codigo_cliente_integracao, order_id=order_id))
            if info is not None:
                return UpsertClienteResult(info.codigo_cliente_omie, codigo_cliente_integracao, "confirmado por consulta")
            raise self._not_now("UpsertCliente", outcome, outcome_unknown=False)
        if outcome.cls == CallClass.DUPLICATE and (existing := existing_customer(outcome.message)) is not None:
            # Another record holds this CPF/CNPJ: the caller links to it (docs/orders.md#customers-already-in-omie).
            raise OmieCustomerExists(redact(outcome.message), existing=existing, call="UpsertCliente",
                                     fault_code=outcome.fault_code, outcome=outcome.cls.value, status=outcome.http_status)
        self._raise("UpsertCliente", outcome)

    def associar_cod_int_cliente(
        self, *, codigo_cliente_omie: int, codigo_cliente_integracao: str, order_id: int | None = None
    ) -> UpsertClienteResult:
        """Gives a customer registered without an integration code ours (both keys are sent, as
        Omie's ``clientes_cadastro_chave`` documents). A write: one lease, and a REDUNDANT answer
        is settled by ConsultarCliente under the new code."""
        param = {"codigo_cliente_omie": codigo_cliente_omie, "codigo_cliente_integracao": codigo_cliente_integracao}
        outcome = self._call("AssociarCodIntCliente", param, key=codigo_cliente_integracao, order_id=order_id)
        if outcome.cls == CallClass.OK:
            # Only the status is read back: a recorded real answer echoed another code than the one sent.
            return UpsertClienteResult(codigo_cliente_omie, codigo_cliente_integracao, str(outcome.body.get("descricao_status", "")))
        if outcome.cls == CallClass.REDUNDANT:
            info = self._confirm("AssociarCodIntCliente", outcome, lambda: self.consultar_cliente(
                codigo_cliente_integracao=codigo_cliente_integracao, order_id=order_id))
            if info is not None and info.codigo_cliente_omie == codigo_cliente_omie:
                return UpsertClienteResult(codigo_cliente_omie, codigo_cliente_integracao, "confirmado por consulta")
            raise self._not_now("AssociarCodIntCliente", outcome, outcome_unknown=False)
        self._raise("AssociarCodIntCliente", outcome)

    def listar_clientes_por_documento(self, *, document: str, order_id: int | None = None) -> list[ClienteInfo]:
        """The Omie customers holding this CPF/CNPJ (normally one), hand-registered ones included.

        Filter shape: ``clientesFiltro.cnpj_cpf`` of ``ListarClientes``, as the type documentation
        generated from Omie's WSDL lists it; whether Omie matches the punctuated or the bare number
        is not documented, so the punctuated form it echoes in its faults is sent, and the answer is
        filtered again here (a filter Omie ignored would otherwise return someone else).
        """
        compact = document_compact(document)
        param = {"pagina": 1, "registros_por_pagina": 50, "apenas_importado_api": "N",
                 "clientesFiltro": {"cnpj_cpf": document_format(compact)}}
        outcome = self._call("ListarClientes", param, key=None, order_id=order_id, label=f"cnpj_cpf={document_mask(compact)}")
        if outcome.cls == CallClass.NOT_FOUND:
            return []  # Client-5113: no records for page 1
        if outcome.cls != CallClass.OK:
            self._raise("ListarClientes", outcome)
        return [
            _cliente_info(item) for item in outcome.body.get("clientes_cadastro") or []
            if isinstance(item, dict) and document_compact(str(item.get("cnpj_cpf") or "")) == compact
        ]

    def consultar_cliente(self, *, codigo_cliente_integracao: str, order_id: int | None = None) -> ClienteInfo | None:
        param = {"codigo_cliente_integracao": codigo_cliente_integracao}
        outcome = self._call("ConsultarCliente", param, key=codigo_cliente_integracao, order_id=order_id)
        if outcome.cls == CallClass.NOT_FOUND:
            return None
        if outcome.cls != CallClass.OK:
            self._raise("ConsultarCliente", outcome)
        body = outcome.body
        return ClienteInfo(
            codigo_cliente_omie=int(body["codigo_cliente_omie"]),
            codigo_cliente_integracao=str(body.get("codigo_cliente_integracao") or codigo_cliente_integracao),
            razao_social=str(body.get("razao_social", "")),
            email=str(body.get("email", "")),
            raw=body,
        )

    # service orders -----------------------------------------------------------------------------
    def incluir_os(self, *, os_payload: dict, order_id: int | None = None) -> OSCreated:
        c_cod_int_os = str(os_payload["Cabecalho"]["cCodIntOS"])
        outcome = self._call("IncluirOS", os_payload, key=c_cod_int_os, order_id=order_id)
        if outcome.cls == CallClass.OK:
            body = outcome.body
            return OSCreated(n_cod_os=int(body["nCodOS"]), c_num_os=str(body.get("cNumOS", "")), c_cod_int_os=c_cod_int_os)
        if outcome.cls in {CallClass.DUPLICATE, CallClass.REDUNDANT}:
            # "Already created" is the answer we wanted: read the OS back instead of failing.
            info = self._confirm("IncluirOS", outcome, lambda: self.consultar_os(c_cod_int_os=c_cod_int_os, order_id=order_id))
            if info is not None:
                return OSCreated(n_cod_os=info.n_cod_os, c_num_os=info.c_num_os, c_cod_int_os=c_cod_int_os, already_existed=True)
            if outcome.cls == CallClass.REDUNDANT:
                raise self._not_now("IncluirOS", outcome, outcome_unknown=False)
        self._raise("IncluirOS", outcome)

    def consultar_os(self, *, c_cod_int_os: str, order_id: int | None = None) -> OSInfo | None:
        outcome = self._call("ConsultarOS", {"cCodIntOS": c_cod_int_os}, key=c_cod_int_os, order_id=order_id)
        if outcome.cls == CallClass.NOT_FOUND:
            return None
        if outcome.cls != CallClass.OK:
            self._raise("ConsultarOS", outcome)
        return os_info(outcome.body)

    def status_os(self, *, c_cod_int_os: str, order_id: int | None = None) -> NfseStatus:
        # lMsg: every city-hall message of the RPS; lPdfDest: the recipient's PDF link (both typed boolean).
        param = {"cCodIntOS": c_cod_int_os, "lMsg": True, "lPdfDest": True}
        outcome = self._call("StatusOS", param, key=c_cod_int_os, order_id=order_id)
        if outcome.cls != CallClass.OK:
            self._raise("StatusOS", outcome)
        return nfse_status(outcome.body)

    def faturar_os(self, *, c_cod_int_os: str, order_id: int | None = None) -> None:
        self._os_action("FaturarOS", c_cod_int_os, order_id, done=lambda info: info.faturada)

    def cancelar_os(self, *, c_cod_int_os: str, order_id: int | None = None) -> None:
        self._os_action("CancelarOS", c_cod_int_os, order_id, done=lambda info: info.cancelada)

    def reenviar_os(self, *, c_cod_int_os: str, order_id: int | None = None) -> None:
        self._os_action("ReenviarOS", c_cod_int_os, order_id, done=None)

    def _os_action(self, call: str, c_cod_int_os: str, order_id: int | None, *, done: Any) -> None:
        outcome = self._call(call, {"cCodIntOS": c_cod_int_os}, key=c_cod_int_os, order_id=order_id)
        if outcome.cls == CallClass.OK:
            return
        if outcome.cls == CallClass.REDUNDANT and done is not None:
            info = self._confirm(call, outcome, lambda: self.consultar_os(c_cod_int_os=c_cod_int_os, order_id=order_id))
            if info is not None and done(info):
                return
            # Consulted: it did not happen, so waiting out the window and sending again is safe.
            raise self._not_now(call, outcome, outcome_unknown=False)
        self._raise(call, outcome)

    # NFS-e documents ----------------------------------------------------------------------------
    def obter_nfse(self, *, n_id_nf: int, order_id: int | None = None) -> NfseDocs:
        """The NFS-e's PDF/XML links (``servicos/osdocs/`` ObterNFSe) by Omie's NF id (``nCodNF``).

        A read: the guard key is the NF id, so the same document is not asked twice within Omie's
        REDUNDANT window. ``cCodStatus`` ≠ "0" is Omie's refusal (a business error)."""
        outcome = self._call("ObterNFSe", {"nIdNf": int(n_id_nf)}, key=f"nf:{int(n_id_nf)}", order_id=order_id)
        if outcome.cls != CallClass.OK:
            self._raise("ObterNFSe", outcome)
        return nfse_docs(outcome.body if isinstance(outcome.body, dict) else {})

    # service catalog ----------------------------------------------------------------------------
    def consultar_servico(self, *, n_cod_serv: int) -> dict[str, Any] | None:
        """The registered service ``n_cod_serv`` (the id OS lines send as ``nCodServico``): Omie's
        ``srvConsultarResponse`` (``intListar``, ``cabecalho``…), or None when Omie does not know it."""
        # No guard key: its only caller (check_integrations) already asks at most once a minute.
        outcome = self._call("ConsultarCadastroServico", {"nCodServ": int(n_cod_serv)}, key=None,
                             label=f"nCodServ={n_cod_serv}")
        if outcome.cls == CallClass.NOT_FOUND:
            return None
        if outcome.cls != CallClass.OK:
            self._raise("ConsultarCadastroServico", outcome)
        return outcome.body if isinstance(outcome.body, dict) else {}

    # lists --------------------------------------------------------------------------------------
    def listar_os(self, *, pagina: int, registros_por_pagina: int, **filters: Any) -> OSPage:
        param = {"pagina": pagina, "registros_por_pagina": registros_por_pagina, **list_filters(filters, OS_FILTERS)}
        return self._page("ListarOS", param, pagina, OSPage, ("pagina", "total_de_paginas", "total_de_registros", "osCadastro"), os_info)

    def listar_nfses(self, *, pagina: int, registros_por_pagina: int, **filters: Any) -> NfsePage:
        param = {"nPagina": pagina, "nRegPorPagina": registros_por_pagina, **list_filters(filters, NFSE_FILTERS)}
        return self._page("ListarNFSEs", param, pagina, NfsePage, ("nPagina", "nTotPaginas", "nTotRegistros", "nfseEncontradas"), nfse_info)

    def _page(self, call: str, param: dict[str, Any], pagina: int, page_cls: Any, keys: tuple[str, str, str, str], parse: Any) -> Any:
        """One page of a list call; past the last page (Client-5113) is an empty page, not an error."""
        outcome = self._call(call, param, key=None, label=f"pagina={pagina}")
        if outcome.cls == CallClass.NOT_FOUND:
            return page_cls(pagina=pagina, total_de_paginas=0, total_de_registros=0, items=[])
        if outcome.cls != CallClass.OK:
            self._raise(call, outcome)
        body = outcome.body
        page_key, pages_key, total_key, items_key = keys
        return page_cls(
            pagina=int(body.get(page_key) or pagina),
            total_de_paginas=int(body.get(pages_key) or 0),
            total_de_registros=int(body.get(total_key) or 0),
            items=[parse(item) for item in body.get(items_key) or []],
        )

    # the one path every call takes --------------------------------------------------------------
    def _call(self, call: str, param: dict, *, key: str | None, order_id: int | None = None, label: str = "") -> Outcome:
        if is_dry_run_write(call):
            # Dry run: built, validated and recorded, never sent (no lease, no token, no Omie call).
            raise dry_run_record(call=call, param=param, key=key or label, order_id=order_id)
        place = self.place if call in WRITE_CALLS else None
        lease = self.throttle.acquire_in_turn(call, guard_id=key, place=place)
        started = time.monotonic()
        outcome: Outcome | None = None
        try:
            outcome = self._post(call, param)
        finally:
            # Never keep a lease past the call, whatever happened (a crash frees it by TTL).
            self.throttle.finish(lease, outcome or Outcome(CallClass.TRANSIENT, transport="connection"))
            # After the call, not before: the line's lease never waits for the hand-off to Celery.
            self._wake(call, lease.woken)
        duration_ms = int((time.monotonic() - started) * 1000)
        self._record(call, outcome, key=key or label, order_id=order_id, duration_ms=duration_ms)
        return outcome

    def _wake(self, call: str, woken: tuple[str, ...]) -> None:
        """Hands the parked tickets our grant brought to the waiting places to ``on_woken``."""
        if woken and self.on_woken is not None:
            try:
                self.on_woken(woken)
            except Exception:
                # Their safety countdowns bring them back; this call's answer matters more.
                logger.exception("could not call the tasks of the tickets woken by %s", call)

    def _post(self, call: str, param: dict) -> Outcome:
        body = {"call": call, "app_key": self.app_key, "app_secret": self.app_secret, "param": [param]}
        data = dumps(body).encode()
        url = f"{self.base_url}{ENDPOINTS[call]}"
        try:
            response = send(self.session, "POST", url, timeout=self.timeout, error_class=OmieTransientError,
                            data=data, headers={"Content-Type": "application/json"})
        except OmieTransientError as exc:
            kind = exc.details.get("kind", "connection")
            # A read timeout may have reached Omie; a refused connection did not.
            return Outcome(CallClass.TRANSIENT, message=exc.message, transport="timeout" if kind == "timeout" else "connection")
        return classify(response.status_code, json_or_none(response), response.headers)

    def _record(self, call: str, outcome: Outcome, *, key: str, order_id: int | None, duration_ms: int) -> None:

        message = redact(outcome.message)[:2000]
        logger.info("omie %s → %s (HTTP %s, %d ms)", call, outcome.cls.value, outcome.http_status, duration_ms)
        counter_add("blu_omie_calls", {"method": call, "outcome": outcome.cls.value})
        counter_add("blu_omie_call_duration_seconds", {"method": call}, duration_ms / 1000.0)
        try:
            OmieCall.objects.create(
                call=call, integration_key=(key or "")[:100], order_id=order_id, http_status=outcome.http_status,
                outcome=outcome.cls.value, fault_code=outcome.fault_code[:80], fault_message=message,
                duration_ms=duration_ms, request_id=outcome.request_id[:80],
            )
        except DatabaseError:
            # The answer matters more than its log line: an IncluirOS that succeeded must not fail here.
            logger.exception("could not record the Omie call %s", call)

    # outcomes → results or errors ---------------------------------------------------------------
    def _confirm(self, call: str, outcome: Outcome, consult: Any) -> Any:
        """Runs the consult that tells whether a write happened; a consult that cannot run now
        leaves the outcome unknown."""
        try:
            return consult()
        except OmieNotNow as exc:
            wait = max(exc.retry_after or 0, outcome.wait_seconds or 0)
            raise OmieNotNow(f"{call}: resultado incerto; consultar após {int(wait)} s", retry_after=wait,
                             reason=exc.reason, outcome_unknown=True, call=call) from exc

    def _not_now(self, call: str, outcome: Outcome, *, outcome_unknown: bool) -> OmieNotNow:
        lim = self.throttle.limits
        reason = outcome.cls.value
        if outcome.cls == CallClass.RATE_LIMITED:
            wait = max(lim.rate_limited_pause_seconds, outcome.wait_seconds or 0)
        elif outcome.cls == CallClass.BANNED:
            wait = outcome.wait_seconds or lim.ban_default_seconds
        elif outcome.cls == CallClass.CONCURRENT:
            wait = (outcome.wait_seconds or lim.concurrent_retry_seconds) * random.uniform(1.0, 1.5)
        else:  # REDUNDANT
            wait = outcome.wait_seconds or max(lim.redundant_seconds, 60)
        return OmieNotNow(redact(f"{call}: {outcome.message}"), retry_after=wait, reason=reason, outcome_unknown=outcome_unknown,
                          call=call, fault_code=outcome.fault_code, outcome=outcome.cls.value, status=outcome.http_status)

    def _raise(self, call: str, outcome: Outcome) -> NoReturn:
        kw: dict[str, Any] = {
            "call": call, "fault_code": outcome.fault_code, "outcome": outcome.cls.value, "status": outcome.http_status,
        }
        message = redact(outcome.message) or f"Omie: {outcome.cls.label}"
        cls = outcome.cls
        if cls in {CallClass.RATE_LIMITED, CallClass.BANNED, CallClass.CONCURRENT, CallClass.REDUNDANT}:
            raise self._not_now(call, outcome, outcome_unknown=cls == CallClass.REDUNDANT and call in WRITE_CALLS)
        if cls == CallClass.DUPLICATE:
            raise OmieDuplicate(message, existing_id=outcome.existing_id, **kw)
        if cls == CallClass.NOT_FOUND:
            raise OmieNotFound(message, **kw)
        if cls == CallClass.BUSINESS:
            raise OmieBusinessError(message, **kw)
        if cls == CallClass.TRANSIENT:
            raise OmieTransientError(message, **kw)
        raise OmieError(f"{call}: resposta inesperada", **kw)


def _cliente_info(body: dict) -> ClienteInfo:
    """One ``clientes_cadastro`` record as listed (its integration code may be empty)."""
    return ClienteInfo(
        codigo_cliente_omie=int(body["codigo_cliente_omie"]),
        codigo_cliente_integracao=str(body.get("codigo_cliente_integracao") or "").strip(),
        razao_social=str(body.get("razao_social", "")),
        email=str(body.get("email", "")),
        raw=body,
    )


_clients: dict[tuple, OmieClient] = {}


def get_omie_client() -> OmieClient:
    """The client for the current settings (one per configuration and process, sessions reused)."""
    limits = ThrottleLimits.from_settings()
    timeout = (float(settings.OMIE_CONNECT_TIMEOUT), float(settings.OMIE_READ_TIMEOUT))
    key = (settings.OMIE_BASE_URL, settings.OMIE_APP_KEY, settings.OMIE_APP_SECRET, timeout, limits, settings.REDIS_URL)
    client = _clients.get(key)
    if client is None:
        throttle = OmieThrottle(client=get_redis(), app_key=settings.OMIE_APP_KEY, limits=limits)
        client = OmieClient(base_url=settings.OMIE_BASE_URL, app_key=settings.OMIE_APP_KEY,
                            app_secret=settings.OMIE_APP_SECRET, timeout=timeout, throttle=throttle)
        close_clients()  # settings changed (tests, reloads): drop the old sessions
        _clients[key] = client
    return client


def close_clients() -> None:
    """Closes every cached client's HTTP connections."""
    for client in _clients.values():
        client.session.close()
    _clients.clear()
