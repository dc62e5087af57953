"""Reads the facts the product needs from an NFS-e XML: number, verification code, access key, issue
date-time, amounts and the provider's and taker's documents.

The XML comes from outside (the ``nfse_xml`` of Omie's ``NFSe.NotaAutorizada`` event, whose only
authentication is a token in the URL), so it is parsed with ``defusedxml``: no DTDs, no entities, no
network. Element names are matched without their namespace, for the two layouts in use: NFS-e
Nacional (``infNFSe/@Id`` = "NFS" + the 50-digit access key, ``nNFSe``) and ABRASF-style municipal
layouts (``InfNfse/Numero``, ``CodigoVerificacao``).

What this returns is a hint for which NFS-e to confirm, never proof: Omie's own StatusOS decides.
The archived XML (billing.services.nfse_archive) is compared with StatusOS; a difference is a drift.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element
from zoneinfo import ZoneInfo

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

MAX_XML_BYTES = 512 * 1024
_ACCESS_KEY = re.compile(r"^(?:NFS)?(\d{50})$")
_NUMBER = re.compile(r"^\d{1,20}$")
_DOCUMENT = re.compile(r"^\d{11}$|^\d{14}$")
_SAO_PAULO = ZoneInfo("America/Sao_Paulo")


@dataclass(frozen=True)
class NfseXmlFacts:
    number: str = ""
    verification_code: str = ""
    access_key: str = ""  # NFS-e Nacional's 50-digit key
    issued_at: datetime | None = None
    service_amount: Decimal | None = None
    net_amount: Decimal | None = None
    iss_amount: Decimal | None = None
    provider_document: str = ""  # CNPJ (or CPF) of who issued the NFS-e
    taker_document: str = ""  # CPF/CNPJ of the customer
    problem: str = ""  # why nothing could be read (not XML, too big, unsafe, a link instead of content)


def nfse_xml_facts(text: object) -> NfseXmlFacts:
    """The facts of one NFS-e XML; never raises (a bad document is ``problem``)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            return NfseXmlFacts(problem="XML com codificação inválida (esperado UTF-8)")
    if not isinstance(text, str) or not text.strip():
        return NfseXmlFacts(problem="sem XML")
    text = text.strip()
    if text.startswith(("http://", "https://")):
        return NfseXmlFacts(problem="o campo traz um link, não o XML")
    if len(text.encode()) > MAX_XML_BYTES:
        return NfseXmlFacts(problem="XML grande demais")
    try:
        root = fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        return NfseXmlFacts(problem=f"XML inválido ou inseguro ({type(exc).__name__})")
    return NfseXmlFacts(
        number=_number(root), verification_code=_first_text(root, "CodigoVerificacao", "cVerif")[:80],
        access_key=_access_key(root), issued_at=_datetime(_first_text(root, "dhProc", "dhEmi", "DataEmissao", "DataEmissaoRps")),
        service_amount=_amount(_first_text(root, "vServ", "ValorServicos")),
        net_amount=_amount(_first_text(root, "vLiq", "ValorLiquidoNfse")),
        iss_amount=_amount(_first_text(root, "vISSQN", "ValorIss")),
        provider_document=_party_document(root, ("emit", "prest", "PrestadorServico", "Prestador", "IdentificacaoPrestador")),
        taker_document=_party_document(root, ("toma", "TomadorServico", "Tomador", "IdentificacaoTomador")),
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _first_text(root: Element, *names: str) -> str:
    wanted = set(names)
    for element in root.iter():
        if _local(element.tag) in wanted and (element.text or "").strip():
            return element.text.strip()
    return ""


def _number(root: Element) -> str:
    """``nNFSe`` (national), else the ``Numero`` directly under ``InfNfse`` (ABRASF: other blocks have a ``Numero`` too)."""
    national = _first_text(root, "nNFSe")
    if national:
        return national.lstrip("0") if _NUMBER.match(national) else ""
    for element in root.iter():
        if _local(element.tag) == "InfNfse":
            for child in element:
                if _local(child.tag) == "Numero" and _NUMBER.match((child.text or "").strip()):
                    return child.text.strip().lstrip("0")
    return ""


def _access_key(root: Element) -> str:
    for element in root.iter():
        if _local(element.tag) == "infNFSe":
            match = _ACCESS_KEY.match(element.get("Id", "").strip())
            if match:
                return match.group(1)
    match = _ACCESS_KEY.match(_first_text(root, "chNFSe"))
    return match.group(1) if match else ""


def _datetime(text: str) -> datetime | None:
    """ISO 8601 as both layouts write it; a time without offset is São Paulo's."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=_SAO_PAULO)


def _amount(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        return None
    return value.quantize(Decimal("0.01")) if value.is_finite() and abs(value) < Decimal("1e12") else None


def _party_document(root: Element, parents: tuple[str, ...]) -> str:
    """The first CNPJ/CPF (``CNPJ``/``CPF`` national, ``Cnpj``/``Cpf`` ABRASF) inside the first block named in ``parents``."""
    for element in root.iter():
        if _local(element.tag) in parents:
            for child in element.iter():
                if _local(child.tag) in {"CNPJ", "CPF", "Cnpj", "Cpf"}:
                    digits = re.sub(r"\D", "", child.text or "")
                    if _DOCUMENT.match(digits):
                        return digits
    return ""
