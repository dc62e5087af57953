"""What the Omie client returns: small typed records, with Omie's raw answer kept in ``raw``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models


class CallClass(models.TextChoices):
    """The answer classes of docs/omie.md#classification-classifypy of an Omie answer (stored on every ``OmieCall``)."""

    OK = "ok", "OK"
    BUSINESS = "business", "Erro de negócio"
    NOT_FOUND = "not_found", "Não encontrado"
    DUPLICATE = "duplicate", "Já cadastrado"
    CONCURRENT = "concurrent", "Requisição concorrente"
    REDUNDANT = "redundant", "Consumo redundante"
    RATE_LIMITED = "rate_limited", "Limite de requisições (429)"
    BANNED = "banned", "API bloqueada (425)"
    TRANSIENT = "transient", "Falha transitória"


@dataclass(frozen=True)
class Outcome:
    """One classified answer (or transport failure) of one call."""

    cls: CallClass
    http_status: int | None = None
    body: Any = None
    fault_code: str = ""
    message: str = ""  # Omie's text without "ERROR: "; may contain a document: redact before storing
    wait_seconds: float | None = None  # REDUNDANT "Aguarde N", 425 "Tente novamente em N", Client-1100 time
    existing_id: int | None = None  # Client-102 "… com o nCod [n]" / "com o Id [n]"
    transport: str = ""  # "timeout" / "connection" when no answer came back
    request_id: str = ""

    @property
    def answered_by_omie(self) -> bool:
        """Omie processed (or may have processed) the request: it counts for REDUNDANT and errors."""
        return self.transport != "connection"


@dataclass(frozen=True)
class UpsertClienteResult:
    codigo_cliente_omie: int
    codigo_cliente_integracao: str
    message: str = ""


@dataclass(frozen=True)
class ClienteInfo:
    codigo_cliente_omie: int
    codigo_cliente_integracao: str
    razao_social: str
    email: str
    raw: dict[str, Any] = field(repr=False, default_factory=dict)


@dataclass(frozen=True)
class ExistingCustomer:
    """What Omie's "Cliente já cadastrado …" fault says about the record that is already there.

    ``integration_code``: ``""`` when the record has none (Omie writes ``[ ]``), ``None`` when the
    text does not say (the older wording). ``document`` is as Omie formatted it (never log it)."""

    omie_id: int | None
    integration_code: str | None
    document: str = ""

    @property
    def needs_lookup(self) -> bool:
        """The text alone does not tell which record it is or whether it carries a code."""
        return self.omie_id is None or self.integration_code is None


@dataclass(frozen=True)
class OSCreated:
    n_cod_os: int
    c_num_os: str
    c_cod_int_os: str
    already_existed: bool = False  # True when a duplicate-key answer was read back with ConsultarOS


@dataclass(frozen=True)
class OSInfo:
    n_cod_os: int
    c_num_os: str
    c_cod_int_os: str
    faturada: bool
    cancelada: bool
    etapa: str = ""
    billed_on: date | None = None
    amount: Decimal | None = None
    raw: dict[str, Any] = field(repr=False, default_factory=dict)


@dataclass(frozen=True)
class NfseStatus:
    """StatusOS read as one of ``pending`` / ``issued`` / ``rejected`` / ``cancelled``, from the
    latest item of ``ListaRpsNfse[]``; the OS-level flags ride along."""

    state: str
    number: str | None = None
    verification_code: str = ""
    url: str = ""  # the city hall's page of the NFS-e (cUrlNfse)
    pdf_url: str = ""  # the recipient's PDF (cUrlPdfDest, asked with lPdfDest)
    rps_number: str = ""
    rps_status: str = ""
    lot_status: str = ""
    message: str = ""  # the city hall's messages on a rejection, as ops read them
    os_billed: bool = False  # cFaturada
    os_cancelled: bool = False  # cCancelada
    raw: dict[str, Any] = field(repr=False, default_factory=dict)


@dataclass(frozen=True)
class NfseInfo:
    """One ListarNFSEs entry. ``status``: Omie's ``cStatusNFSe`` letter (F faturada, C cancelada,
    N não faturada); ``c_cod_int_os`` is always empty (the list does not carry it)."""

    number: str
    status: str
    n_cod_os: int | None
    c_num_os: str
    c_cod_int_os: str
    verification_code: str
    amount: Decimal | None
    issued_on: date | None
    n_cod_nf: int | None = None  # Omie's NF id (ObterNFSe's nIdNf)
    rps_status: str = ""
    raw: dict[str, Any] = field(repr=False, default_factory=dict)
    issued_at: datetime | None = None  # Emissao cDataEmissao + cHoraEmissao, in America/Sao_Paulo


@dataclass(frozen=True)
class NfseDocs:
    """ObterNFSe (``servicos/osdocs/``): the NFS-e's links. ``xml`` is the XML itself or a link to it
    (documented as content, unverified: both are handled); every URL here is plain http(s) or ''."""

    number: str
    verification_code: str
    series: str
    pdf_url: str
    xml: str
    city_hall_url: str
    portal_url: str
    raw: dict[str, Any] = field(repr=False, default_factory=dict)


@dataclass(frozen=True)
class OSPage:
    pagina: int
    total_de_paginas: int
    total_de_registros: int
    items: list[OSInfo]

    @property
    def has_next(self) -> bool:
        return self.pagina < self.total_de_paginas


@dataclass(frozen=True)
class NfsePage:
    pagina: int
    total_de_paginas: int
    total_de_registros: int
    items: list[NfseInfo]

    @property
    def has_next(self) -> bool:
        return self.pagina < self.total_de_paginas
