"""The fake Omie's NFS-e documents: ``servicos/osdocs/`` ObterNFSe and the links it returns.

ObterNFSe answers with every field Omie documents (all strings): ``cPdfNFSe`` is a link the fake
serves (a small real PDF, built here by hand), ``cXmlNFSe`` is the NFS-e Nacional XML itself — as
documented — or, with the config's ``nfse_xml_as_link``, a link to it (Omie's behaviour is
unverified; the product handles both). The links honour injections named ``nfse.pdf`` /
``nfse.xml``: ``html_502`` answers a 200 HTML page (what a captcha or login page looks like),
``broken_response`` a 500, ``slow`` waits ``seconds``.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from sandbox.fake_omie.models import FakeNfse, FakeOmieConfig, FakeOmieInjection

Answer = tuple[int, dict[str, Any]]
# The fake's own address as the current request reached it (set by views.omie_api).
request_base: ContextVar[str] = ContextVar("fake_omie_request_base", default="http://127.0.0.1:8000/sandbox/omie/")


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def nfse_pdf(nfse: FakeNfse) -> bytes:
    """A one-page PDF 1.4 with the NFS-e's number, code and amount (a valid xref, readable by any viewer)."""
    order = nfse.service_order
    lines = [f"NFS-e no {nfse.number or '-'} (sandbox)", f"Codigo de verificacao: {nfse.verification_code}",
             f"Valor: R$ {order.amount}", f"OS {order.c_num_os}"]
    text = "BT /F1 14 Tf 72 760 Td 18 TL " + " ".join(f"({_pdf_escape(line)}) Tj T*" for line in lines) + " ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(text.encode("latin-1")) + text.encode("latin-1") + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _links(nfse: FakeNfse) -> tuple[str, str]:
    base = request_base.get().rstrip("/")
    return f"{base}/docs/nfse/{nfse.pk}.pdf", f"{base}/docs/nfse/{nfse.pk}.xml"


def obter_nfse(param: dict[str, Any], config: FakeOmieConfig) -> Answer:
    """ObterNFSe by ``nIdNf`` (the NF id ListarNFSEs lists as ``nCodNF``)."""
    from sandbox.fake_omie.handlers import Fault
    from sandbox.fake_omie.webhooks import nfse_xml

    try:
        nfse = FakeNfse.objects.select_related("service_order").get(pk=int(param.get("nIdNf")))
    except (TypeError, ValueError, FakeNfse.DoesNotExist):
        raise Fault("SOAP-ENV:Client-103", f"Nota fiscal não encontrada para o ID [{param.get('nIdNf')}]!") from None
    if nfse.status not in (FakeNfse.Status.ISSUED, FakeNfse.Status.CANCELLED):
        return 200, {"cNumOs": nfse.service_order.c_num_os, "cCodStatus": "2",
                     "cDesStatus": "A NFS-e ainda não foi autorizada pela prefeitura."}
    pdf_link, xml_link = _links(nfse)
    return 200, {
        "cNumOs": nfse.service_order.c_num_os, "cNumNFSe": str(nfse.number), "cSerieNFSe": "1",
        "cLinkPortal": f"https://portal.omie.example.invalid/nfse/{nfse.pk}", "cCodVerif": nfse.verification_code,
        "cUrlNFSe": nfse.url, "cPdfNFSe": pdf_link, "cXmlNFSe": xml_link if config.nfse_xml_as_link else nfse_xml(nfse),
        "cCodStatus": "0", "cDesStatus": "Solicitação executada com sucesso.",
    }


@require_GET
def nfse_document(request: HttpRequest, nf_id: int, ext: str) -> HttpResponse:
    """The document behind ObterNFSe's links (``ext`` pdf or xml), subject to injections."""
    from sandbox.fake_omie.services import take_injection
    from sandbox.fake_omie.webhooks import nfse_xml

    injection = take_injection(f"nfse.{ext}")
    if injection is not None:
        if injection.kind == FakeOmieInjection.Kind.HTML_502:
            page = "<!DOCTYPE html><html><head><title>Portal NFS-e</title></head><body>Digite o captcha</body></html>"
            return HttpResponse(page, content_type="text/html; charset=utf-8")
        if injection.kind == FakeOmieInjection.Kind.BROKEN_RESPONSE:
            return HttpResponse("erro interno", status=500, content_type="text/plain")
        if injection.kind in (FakeOmieInjection.Kind.SLOW, FakeOmieInjection.Kind.SLOW_ANSWER):
            time.sleep(injection.seconds)
    nfse = FakeNfse.objects.select_related("service_order").filter(
        pk=nf_id, status__in=[FakeNfse.Status.ISSUED, FakeNfse.Status.CANCELLED]).first()
    if nfse is None:
        return HttpResponse("não encontrado", status=404, content_type="text/plain")
    if ext == "pdf":
        response = HttpResponse(nfse_pdf(nfse), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="nfse-{nfse.number}.pdf"'
        return response
    return HttpResponse(nfse_xml(nfse).encode(), content_type="application/xml")
