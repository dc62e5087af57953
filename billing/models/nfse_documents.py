"""The NFS-e documents kept for the retention period (docs/nfse_documents.md).

``NfseArchive`` is the invoice's archive job and what its XML says (one per invoice);
``NfseDocument`` is one stored file (the PDF or the XML) with its SHA-256 and its customer link.
A document row is written only after its bytes are stored and hashed, so a row always points at a
complete object: nothing half-written is ever served. Rows are protected (no delete in the admin,
``PROTECT`` from the invoice, ``delete()`` refused inside the retention period).
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone


class ArchiveStatus(models.TextChoices):
    PENDING = "PENDING", "Aguardando download"
    DONE = "DONE", "Arquivados"
    FAILED = "FAILED", "Falhou (ver erro)"


class NfseArchive(models.Model):
    Status = ArchiveStatus

    invoice = models.OneToOneField("billing.Invoice", on_delete=models.PROTECT, related_name="nfse_archive",
                                   verbose_name="nota fiscal")
    status = models.CharField("situação dos documentos", max_length=10, choices=ArchiveStatus.choices, default=ArchiveStatus.PENDING)
    # Omie's NF id (ObterNFSe's nIdNf): from the NFSe.NotaAutorizada webhook, ListarNFSEs or the backfill's list.
    omie_nf_id = models.BigIntegerField("id da NF no Omie (nIdNf)", null=True, blank=True)
    attempts = models.PositiveIntegerField("tentativas", default=0)
    next_attempt_at = models.DateTimeField("próxima tentativa em", null=True, blank=True, db_index=True)
    leased_until = models.DateTimeField("em uso até", null=True, blank=True)
    last_error = models.TextField("último erro", blank=True)
    obter_calls = models.PositiveIntegerField("chamadas ObterNFSe", default=0)
    portal_link = models.CharField("link no portal do Omie", max_length=500, blank=True)
    archived_at = models.DateTimeField("arquivados em", null=True, blank=True)
    retain_until = models.DateField("guardar até", null=True, blank=True)
    # The cancellation of an archived NFS-e: the documents stay, the fact is recorded.
    cancellation_recorded_at = models.DateTimeField("cancelamento registrado em", null=True, blank=True)

    # What the XML says (hardened parser: integrations/omie/nfse_xml.py)
    access_key = models.CharField("chave de acesso (NFS-e Nacional)", max_length=50, blank=True, db_index=True)
    xml_number = models.CharField("número (XML)", max_length=40, blank=True)
    xml_verification_code = models.CharField("código de verificação (XML)", max_length=80, blank=True)
    xml_issued_at = models.DateTimeField("emitida em (XML)", null=True, blank=True)
    xml_service_amount = models.DecimalField("valor dos serviços (XML)", max_digits=14, decimal_places=2, null=True, blank=True)
    xml_net_amount = models.DecimalField("valor líquido (XML)", max_digits=14, decimal_places=2, null=True, blank=True)
    xml_iss_amount = models.DecimalField("ISS (XML)", max_digits=14, decimal_places=2, null=True, blank=True)
    provider_document = models.CharField("CNPJ do prestador (XML)", max_length=14, blank=True)
    taker_document = models.CharField("CPF/CNPJ do tomador (XML)", max_length=14, blank=True)
    xml_drift = models.TextField("divergência XML × StatusOS", blank=True)

    created_at = models.DateTimeField("criado em", auto_now_add=True)
    updated_at = models.DateTimeField("atualizado em", auto_now=True)

    class Meta:
        verbose_name = "arquivo da NFS-e"
        verbose_name_plural = "arquivos das NFS-e"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="nfse_archive_due_idx",
                                condition=Q(status="PENDING"))]

    def __str__(self) -> str:
        return f"Documentos da NF {self.invoice_id}"


class DocumentKind(models.TextChoices):
    PDF = "PDF", "PDF"
    XML = "XML", "XML"


class NfseDocument(models.Model):
    Kind = DocumentKind

    archive = models.ForeignKey(NfseArchive, on_delete=models.PROTECT, related_name="documents", verbose_name="arquivo")
    kind = models.CharField("tipo", max_length=3, choices=DocumentKind.choices)
    storage_key = models.CharField("objeto no armazenamento", max_length=300, unique=True)
    sha256 = models.CharField("SHA-256", max_length=64)
    size = models.PositiveIntegerField("tamanho (bytes)")
    content_type = models.CharField("tipo de conteúdo", max_length=100)
    # The customer's link: /nf/<token>. 256 random bits; revoked = the link answers 404.
    token = models.CharField("token do link", max_length=64, unique=True)
    revoked_at = models.DateTimeField("link revogado em", null=True, blank=True)
    revoked_by = models.CharField("link revogado por", max_length=200, blank=True)
    source = models.CharField("origem", max_length=20, blank=True)  # "link" (downloaded) or "conteúdo" (XML in the answer)
    stored_at = models.DateTimeField("guardado em", default=timezone.now)
    retain_until = models.DateField("guardar até")

    class Meta:
        verbose_name = "documento da NFS-e"
        verbose_name_plural = "documentos das NFS-e"
        ordering = ["-stored_at"]
        constraints = [models.UniqueConstraint(fields=["archive", "kind"], name="nfse_document_one_per_kind")]

    def __str__(self) -> str:
        return f"{self.kind} da NF {self.archive.invoice_id}"

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        """Fiscal documents are kept NFSE_RETENTION_YEARS; no user action deletes one before that."""
        if self.retain_until and self.retain_until >= timezone.localdate():
            raise PermissionError(f"Documento fiscal guardado até {self.retain_until:%d/%m/%Y}: não pode ser apagado.")
        return super().delete(*args, **kwargs)
