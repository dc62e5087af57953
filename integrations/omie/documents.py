"""Downloads the NFS-e's PDF and XML from the links ObterNFSe returns (docs/nfse_documents.md).

The links point at Omie's (or the city hall's) servers, so everything about the answer is checked
before its bytes are trusted: http(s) only, bounded timeouts, a size limit enforced while reading
(not only from Content-Length), and a content check — a PDF must start with ``%PDF-`` and an XML
with ``<``. An HTML page (a login page, a captcha, an error page behind a 200) is an error, never a
document. Retrying is the caller's decision (``DocumentFetchError.permanent``).
"""

from __future__ import annotations

from dataclasses import dataclass

import requests
from django.conf import settings

from common.safe_urls import http_url_or_empty
from integrations.http import IntegrationError, build_session, send

_PDF_TYPES = {"application/pdf", "application/x-pdf", "application/octet-stream", "binary/octet-stream", "application/download",
              "application/force-download"}
_XML_TYPES = {"application/xml", "text/xml", "application/octet-stream", "binary/octet-stream", "text/plain",
              "application/download", "application/force-download"}


class DocumentFetchError(IntegrationError):
    system = "nfse-documentos"


@dataclass(frozen=True)
class Downloaded:
    content: bytes
    content_type: str


def _session_for(kind: str) -> requests.Session:
    session = build_session("nfse-documents")
    session.headers["Accept"] = "application/pdf" if kind == "PDF" else "application/xml, text/xml"
    return session


_sessions: dict[str, requests.Session] = {}


def document_download(url: str, *, kind: str) -> Downloaded:
    """The bytes behind ``url`` if they are a ``kind`` ("PDF" or "XML") document; else DocumentFetchError."""
    safe = http_url_or_empty(url)
    if not safe:
        raise DocumentFetchError(f"Link do {kind} ausente ou inválido", permanent=True)
    session = _sessions.get(kind) or _sessions.setdefault(kind, _session_for(kind))
    timeout = (float(settings.NFSE_DOWNLOAD_CONNECT_TIMEOUT), float(settings.NFSE_DOWNLOAD_READ_TIMEOUT))
    limit = int(settings.NFSE_DOWNLOAD_MAX_BYTES)
    response = send(session, "GET", safe, timeout=timeout, error_class=DocumentFetchError, stream=True)
    with response:
        if response.status_code >= 400:
            permanent = response.status_code in (404, 410)
            raise DocumentFetchError(f"O link do {kind} respondeu HTTP {response.status_code}", permanent=permanent,
                                     status=response.status_code)
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise DocumentFetchError(f"{kind} maior que o limite ({int(declared)} > {limit} bytes)", permanent=True)
        content = _read_bounded(response, limit, kind)
        content_type = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    _check(content, content_type, kind)
    return Downloaded(content=content, content_type="application/pdf" if kind == "PDF" else "application/xml")


def _read_bounded(response: requests.Response, limit: int, kind: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(chunk_size=64 * 1024):
            size += len(chunk)
            if size > limit:
                raise DocumentFetchError(f"{kind} maior que o limite ({limit} bytes)", permanent=True)
            chunks.append(chunk)
    except DocumentFetchError:
        raise
    except Exception as exc:  # a broken or timed-out stream: transient
        raise DocumentFetchError(f"Download do {kind} interrompido ({type(exc).__name__})") from exc
    return b"".join(chunks)


def looks_like_html(content: bytes) -> bool:
    head = content[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in head[:200]


def _check(content: bytes, content_type: str, kind: str) -> None:
    """The answer is the document asked for, not a page about it."""
    if not content:
        raise DocumentFetchError(f"O link do {kind} devolveu um corpo vazio")
    if "html" in content_type or looks_like_html(content):
        raise DocumentFetchError(f"O link do {kind} devolveu uma página HTML, não o documento")
    if kind == "PDF":
        if content_type and content_type not in _PDF_TYPES:
            raise DocumentFetchError(f"O link do PDF devolveu {content_type}, não um PDF")
        if not content.lstrip()[:5] == b"%PDF-":
            raise DocumentFetchError("O link do PDF devolveu algo que não é um PDF")
        return
    if content_type and content_type not in _XML_TYPES:
        raise DocumentFetchError(f"O link do XML devolveu {content_type}, não um XML")
    if not content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<":
        raise DocumentFetchError("O link do XML devolveu algo que não é XML")
