"""The one place that reads an Omie webhook payload.

What Omie is known to send (docs/omie_webhooks.md): the envelope ``messageId``, ``topic``, ``event``,
``author``, ``appKey``, ``appHash``, ``origin``; ``OrdemServico.*`` events in camelCase
(``idOrdemServico``, ``numeroOrdemServico``, ``codigoIntegracao`` — "0" when the OS has none,
``faturada``, ``cancelada``…); ``NFSe.*`` events with ``codigo_os``, ``numero_os``, ``id_nf``,
``numero_rps``, ``data_emis`` and ``nfse_xml`` — and no NFS-e number field: the number, when wanted,
is read from the XML. One public handler reads the NF id as ``idNf``/``codigo_nf`` instead, so those
are accepted too. Every candidate name of a fact is listed here, searched anywhere in ``event``, and
the names actually present are recorded on the stored event, so a new variant shows up in the admin.

Nothing read here is proof of anything: the token in the URL is the event's only authentication, so
what an event says only tells the product which OS to ask Omie about.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

from integrations.omie.nfse_xml import nfse_xml_facts

# Each fact and the names it goes by, in the order they are trusted.
OS_ID = ("idOrdemServico", "codigo_os", "nCodOS")
OS_INTEGRATION_KEY = ("codigoIntegracao", "cCodIntOS")
OS_NUMBER = ("numeroOrdemServico", "numero_os", "cNumOS")
NF_ID = ("id_nf", "idNf", "codigo_nf", "nCodNF")
NFSE_NUMBER = ("numeroNf", "numero_nf")  # one handler's names; Omie's documented NFS-e events carry the XML instead
RPS_NUMBER = ("numero_rps",)
NFSE_XML = "nfse_xml"

KNOWN_TOPICS = frozenset({
    "NFSe.NotaAutorizada", "NFSe.NotaCancelada", "NFSe.NotaSubstituida",
    "OrdemServico.Faturada", "OrdemServico.Cancelada", "OrdemServico.Excluida",
})

_SNAKE = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")
_CAMEL = re.compile(r"^[a-z]+[A-Z][A-Za-z0-9]*$")
_API = re.compile(r"^[ncd][A-Z][A-Za-z0-9]*$")  # Omie's API style: nCodOS, cCodIntOS, dDtFat


@dataclass(frozen=True)
class OmieEventFacts:
    topic: str
    message_id: str
    os_id: int | None = None
    c_cod_int_os: str = ""
    os_number: str = ""
    nf_id: str = ""
    nfse_number: str = ""  # from the event's XML (or a number field): a hint of which NFS-e, never proof
    access_key: str = ""  # NFS-e Nacional's 50-digit key, from the XML
    xml_problem: str = ""  # why the event's XML could not be read, when it has one
    app_key: str = ""  # the envelope's appKey: must be ours
    payload_format: str = ""
    fields_seen: list[str] = field(default_factory=list)
    valid: bool = True
    problem: str = ""


def message_id_of(payload: Any, raw: bytes) -> str:
    """Omie's messageId; an event without one is keyed by its body, so a redelivery still dedupes."""
    if isinstance(payload, dict):
        for name in ("messageId", "message_id", "messageID"):
            value = payload.get(name)
            if isinstance(value, (str, int)) and str(value).strip():
                return str(value).strip()[:200]
    return "sem-id:" + hashlib.sha256(raw).hexdigest()


def topic_of(payload: Any) -> str:
    if isinstance(payload, dict):
        value = payload.get("topic") or payload.get("topico")
        if isinstance(value, str):
            return value.strip()[:100]
    return ""


def _walk(value: Any, prefix: str = "", depth: int = 0) -> list[tuple[str, str, Any]]:
    """(path, name, value) of every scalar field, breadth first, a few levels deep (the XML is read apart)."""
    found: list[tuple[str, str, Any]] = []
    nested: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}{key}"
            if key == NFSE_XML:
                found.append((path, str(key), "<xml>"))
            elif isinstance(item, (dict, list)):
                nested.append((f"{path}.", item))
            else:
                found.append((path, str(key), item))
    elif isinstance(value, list):
        nested.extend((f"{prefix}{i}.", item) for i, item in enumerate(value[:20]))
    if depth < 4:
        for path, item in nested:
            found.extend(_walk(item, path, depth + 1))
    return found


def _first(fields: list[tuple[str, str, Any]], names: tuple[str, ...]) -> str:
    by_name: dict[str, Any] = {}
    for _path, name, value in fields:
        if value not in (None, "", 0, "0") and name not in by_name:
            by_name[name] = value
    for name in names:
        if name in by_name:
            return str(by_name[name]).strip()
    return ""


def _format(names: list[str]) -> str:
    snake = sum(1 for n in names if _SNAKE.match(n))
    api = sum(1 for n in names if _API.match(n))
    camel = sum(1 for n in names if _CAMEL.match(n) and not _API.match(n))
    best = max((snake, "legado"), (camel, "connect2"), (api, "api"))
    return best[1] if best[0] else ""


def event_facts(payload: Any, *, message_id: str) -> OmieEventFacts:
    """What an event says, whatever its format. Never raises: an unreadable event is ``valid=False``."""
    topic = topic_of(payload)
    if not isinstance(payload, dict):
        return OmieEventFacts(topic=topic, message_id=message_id, valid=False, problem="O corpo não é um objeto JSON.")
    event = payload.get("event")
    if not isinstance(event, dict):
        event = payload.get("evento")
    if not isinstance(event, dict):
        return OmieEventFacts(topic=topic, message_id=message_id, valid=False, problem="Sem o objeto 'event'.",
                              fields_seen=sorted(str(k) for k in payload)[:100])
    fields = _walk(event)
    xml = nfse_xml_facts(event.get(NFSE_XML)) if NFSE_XML in event else None
    os_raw = _first(fields, OS_ID)
    try:
        os_id = int(float(os_raw)) if os_raw else None
    except ValueError:
        os_id = None
    facts = OmieEventFacts(
        topic=topic,
        message_id=message_id,
        os_id=os_id,
        c_cod_int_os=_first(fields, OS_INTEGRATION_KEY)[:100],
        os_number=_first(fields, OS_NUMBER)[:40],
        nf_id=_first(fields, NF_ID)[:40],
        nfse_number=_clean_number((xml.number if xml else "") or _first(fields, NFSE_NUMBER))[:40],
        access_key=xml.access_key if xml else "",
        xml_problem=xml.problem if xml else "",
        app_key=str(payload.get("appKey") or "").strip()[:200],
        payload_format=_format([name for _p, name, _v in fields]),
        fields_seen=sorted({path for path, _n, _v in fields})[:200],
    )
    if not topic:
        return _invalid(facts, "Sem 'topic'.")
    if topic in KNOWN_TOPICS and not (facts.os_id or facts.c_cod_int_os or facts.nf_id or facts.nfse_number):
        return _invalid(facts, "Nenhum identificador de OS ou NF reconhecido no evento.")
    return facts


def _invalid(facts: OmieEventFacts, problem: str) -> OmieEventFacts:
    return replace(facts, valid=False, problem=problem)


def _clean_number(value: str) -> str:
    """NFS-e numbers come as 123, "123", "000123" or 123.0: kept as the digits Omie's StatusOS shows."""
    text = value.strip()
    if re.fullmatch(r"\d+\.0+", text):
        text = text.split(".")[0]
    return text.lstrip("0") or ("0" if text else "")


def storable(payload: Any) -> bool:
    """True when PostgreSQL's jsonb can hold it: no NUL character, no lone surrogate."""
    try:
        json.dumps(payload, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, RecursionError, ValueError):
        return False
    return "\\u0000" not in json.dumps(payload)
