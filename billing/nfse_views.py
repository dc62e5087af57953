"""The customer's link to an NFS-e document: ``GET /nf/<token>`` (no login; docs/nfse_documents.md).

The token is the only credential: 256 random bits, looked up as a whole. A wrong, malformed or
revoked token gets the same plain 404. Every request, right or wrong, counts against the client
address's budget (NFSE_LINK_RATE_PER_MINUTE): a flood gets 429 before any database work. The bytes
served are re-hashed and must match the recorded SHA-256.
"""

from __future__ import annotations

import logging
import re
import time

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from billing.models import NfseDocument
from billing.services.nfse_storage import object_read, sha256_of
from common.client_ip import client_ip

logger = logging.getLogger(__name__)

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{40,64}$")
WINDOW_SECONDS = 60


def _over_limit(request: HttpRequest) -> int:
    """Seconds until the address may ask again (0: within its budget). A fixed window in Redis."""
    window = int(time.time() // WINDOW_SECONDS)
    key = f"nfse-link:{client_ip(request)}:{window}"
    if cache.add(key, 1, timeout=WINDOW_SECONDS + 5):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=WINDOW_SECONDS + 5)
            count = 1
    if count > settings.NFSE_LINK_RATE_PER_MINUTE:
        return WINDOW_SECONDS - int(time.time()) % WINDOW_SECONDS
    return 0


def document_response(document: NfseDocument, *, disposition: str) -> HttpResponse:
    """The stored bytes with their type and file name; refuses bytes that do not match the recorded hash."""
    content = object_read(document.storage_key)
    if sha256_of(content) != document.sha256:
        logger.error("nfse document %s: stored bytes do not match the recorded SHA-256", document.pk)
        raise Http404("Documento indisponível.")
    number = document.archive.invoice.nfse_number or str(document.archive.invoice_id)
    extension = "pdf" if document.kind == NfseDocument.Kind.PDF else "xml"
    response = HttpResponse(content, content_type=document.content_type)
    response["Content-Disposition"] = f'{disposition}; filename="NFS-e-{number}.{extension}"'
    response["Content-Length"] = str(len(content))
    response["X-Content-SHA256"] = document.sha256
    return response


@require_GET
def nfse_document_public(request: HttpRequest, token: str) -> HttpResponse:
    wait = _over_limit(request)
    if wait:
        response = HttpResponse("Muitas requisições. Tente de novo em instantes.", status=429, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(wait)
        return response
    document = None
    if _TOKEN.match(token):
        document = (NfseDocument.objects.select_related("archive__invoice")
                    .filter(token=token, revoked_at__isnull=True).first())
    if document is None:
        return HttpResponse("Documento não encontrado.", status=404, content_type="text/plain; charset=utf-8")
    response = document_response(document, disposition="inline" if document.kind == NfseDocument.Kind.PDF else "attachment")
    # The link is a secret: not cached by shared caches, not indexed, not leaked as a Referer.
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response
