"""NFS-e documents in the admin: "Baixar PDF" / "Baixar XML" on the invoice and order pages, the
archive's state and the XML's facts, the customer's link (revoke / renew). Nothing here deletes a
document: they are kept for NFSE_RETENTION_YEARS (docs/nfse_documents.md)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from backoffice.admin.billing import ReadOnlyAdmin
from billing.models import Invoice, NfseArchive, NfseDocument
from billing.nfse_views import document_response
from billing.services.nfse_archive import nfse_archive_retry
from billing.services.nfse_links import document_link_renew, document_link_revoke, document_url
from orders.models import Order


def download_url(document: NfseDocument) -> str:
    return reverse("admin:billing_nfsedocument_download", args=[document.pk])


def download_links(archive: NfseArchive | None) -> SafeString:
    """ "Baixar PDF" · "Baixar XML" for what is stored, or why there is nothing yet."""
    if archive is None:
        return format_html("{}", "ainda não buscados")
    documents = sorted(archive.documents.all(), key=lambda d: d.kind, reverse=True)  # PDF before XML
    if not documents:
        return format_html("{}", archive.get_status_display() + (f": {archive.last_error}" if archive.last_error else ""))
    return format_html_join(" · ", '<a href="{}">Baixar {}</a>', ((download_url(d), d.kind) for d in documents))


def email_mask(address: str) -> str:
    """``j***@exemplo.com``: enough for ops to recognise the address, not to copy it."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def order_nfse_facts(order: Order, invoice: Invoice | None) -> list[tuple[str, str, str]]:
    """The order page's lines about the NF's documents and Omie's e-mail (label, text, link)."""
    facts: list[tuple[str, str, str]] = []
    archive = NfseArchive.objects.filter(invoice=invoice).first() if invoice is not None else None
    if archive is not None:
        for document in sorted(archive.documents.all(), key=lambda d: d.kind, reverse=True):
            facts.append((f"{document.kind} da NF", f"Baixar {document.kind}", download_url(document)))
        if not facts:
            facts.append(("Documentos da NF", download_links(archive), ""))
    email = (f"o Omie foi pedido para enviar a NFS-e a {email_mask(order.nfse_email_to)}" if order.nfse_email_to
             else "o Omie não foi pedido para enviar a NFS-e por e-mail")
    facts.append(("E-mail da NFS-e", email, ""))
    return facts


class NfseArchiveInline(admin.StackedInline):
    model = NfseArchive
    can_delete = False
    extra = 0
    max_num = 0
    verbose_name_plural = "documentos da NFS-e (PDF e XML)"
    fields = ("downloads", "status", "access_key", ("xml_number", "xml_issued_at"),
              ("xml_service_amount", "xml_net_amount", "xml_iss_amount"), ("provider_document", "taker_document"), "xml_drift",
              ("attempts", "last_error"), ("archived_at", "retain_until", "cancellation_recorded_at"))
    readonly_fields = tuple(name for row in fields for name in ((row,) if isinstance(row, str) else row))

    @admin.display(description="documentos")
    def downloads(self, obj: NfseArchive) -> SafeString:
        return download_links(obj)

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(NfseDocument)
class NfseDocumentAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "invoice_col", "size", "sha256", "stored_at", "retain_until", "revoked_at")
    list_filter = ("kind",)
    search_fields = ("=archive__invoice__nfse_number", "=archive__access_key", "=sha256")
    list_select_related = ("archive__invoice",)
    fields = ("kind", "invoice_col", "download", "customer_link", "storage_key", "sha256", "size", "content_type", "source",
              "stored_at", "retain_until", "revoked_at", "revoked_by")
    readonly_fields = fields
    actions = ["revoke_links", "renew_links"]

    @admin.display(description="nota fiscal")
    def invoice_col(self, obj: NfseDocument) -> str:
        return f"NFS-e {obj.archive.invoice.nfse_number} (pedido {obj.archive.invoice.order_id})"

    @admin.display(description="baixar")
    def download(self, obj: NfseDocument) -> SafeString:
        return format_html('<a href="{}">Baixar {}</a>', download_url(obj), obj.kind)

    @admin.display(description="link do cliente (Bubble)")
    def customer_link(self, obj: NfseDocument) -> str:
        return "revogado" if obj.revoked_at else document_url(obj.token)

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # documents are never deleted from here
        if not request.user.has_perm("billing.change_nfsedocument"):
            actions.pop("revoke_links", None)
            actions.pop("renew_links", None)
        return actions

    @admin.action(description="Revogar o link do cliente")
    def revoke_links(self, request: HttpRequest, queryset) -> None:
        for document in queryset.select_related("archive__invoice__order"):
            document_link_revoke(document=document, actor=request.user.get_username())
        messages.success(request, "Links revogados: passam a responder 404.")

    @admin.action(description="Gerar novo link do cliente (o anterior deixa de funcionar)")
    def renew_links(self, request: HttpRequest, queryset) -> None:
        for document in queryset.select_related("archive__invoice__order"):
            document_link_renew(document=document, actor=request.user.get_username())
        messages.success(request, "Novos links gerados e enviados ao Bubble.")

    def get_urls(self) -> list:
        return [path("<int:pk>/baixar/", self.admin_site.admin_view(self.download_view), name="billing_nfsedocument_download"),
                *super().get_urls()]

    def download_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not (request.user.has_perm("billing.view_invoice") or request.user.has_perm("billing.view_nfsedocument")):
            raise PermissionDenied
        document = get_object_or_404(NfseDocument.objects.select_related("archive__invoice"), pk=pk)
        return document_response(document, disposition="attachment")


@admin.register(NfseArchive)
class NfseArchiveAdmin(ReadOnlyAdmin):
    list_display = ("id", "invoice", "status", "attempts", "access_key", "archived_at", "last_error")
    list_filter = ("status",)
    search_fields = ("=invoice__nfse_number", "=access_key")
    list_select_related = ("invoice",)
    actions = ["retry"]

    @admin.action(description="Buscar os documentos de novo (as que falharam)")
    def retry(self, request: HttpRequest, queryset) -> HttpResponseRedirect | None:
        count = sum(nfse_archive_retry(archive=a, actor=request.user.get_username()) for a in queryset.select_related("invoice__order"))
        messages.success(request, f"{count} pedido(s) de novo download.")
        return None

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions
