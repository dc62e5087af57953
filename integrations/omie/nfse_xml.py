"""Reads the few facts the product needs from an NFS-e XML: number, verification code, access key.

The XML comes from outside (the ``nfse_xml`` of Omie's ``NFSe.NotaAutorizada`` event, whose only
authentication is a token in the URL), so it is parsed with ``defusedxml``: no DTDs, no entities, no
network. Element names are matched without their namespace, for the two layouts in use: NFS-e
Nacional (``infNFSe/@Id`` = "NFS" + the 50-digit access key, ``nNFSe``) and ABRASF-style municipal
layouts (``InfNfse/Numero``, ``CodigoVerificacao``).

What this returns is a hint for which NFS-e to confirm, never proof: Omie's own StatusOS decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

MAX_XML_BYTES = 512 * 1024
_ACCESS_KEY = re.compile(r"^(?:NFS)?(\d{50})$")
_NUMBER = re.compile(r"^\d{1,20}$")


@dataclass(frozen=True)
class NfseXmlFacts:
    number: str = ""
    verification_code: str = ""
    access_key: str = ""  # NFS-e Nacional's 50-digit key
    problem: str = ""  # why nothing could be read (not XML, too big, unsafe, a link instead of content)


def nfse_xml_facts(text: object) -> NfseXmlFacts:
    """The facts of one NFS-e XML; never raises (a bad document is ``problem``)."""
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
    return NfseXmlFacts(number=_number(root), verification_code=_first_text(root, "CodigoVerificacao", "cVerif")[:80],
                        access_key=_access_key(root))


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
