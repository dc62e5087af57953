import json
from decimal import Decimal

from django.db import models
from django.utils import timezone

from integrations.omie.types import CallClass

# The read-only CPF/CNPJ field's help on the admin pages.
DOCUMENT_HELP = "Como guardado: só números e letras, sem pontos, barras ou traços."

class OmieCall(models.Model):
    """One request sent to Omie and how it was answered (docs/omie.md), kept 90 days.

    ``order_id`` is a plain number on purpose: integrations never import the orders app. The
    credentials are never stored; fault messages are stored with CPF/CNPJ masked.
    """

    call = models.CharField("método", max_length=40)
    integration_key = models.CharField("chave de integração", max_length=100, blank=True, db_index=True)
    order_id = models.BigIntegerField("pedido (id)", null=True, blank=True, db_index=True)
    http_status = models.PositiveSmallIntegerField("HTTP", null=True, blank=True)
    outcome = models.CharField("resultado", max_length=20, choices=CallClass.choices)
    fault_code = models.CharField("código do erro", max_length=80, blank=True)
    fault_message = models.TextField("mensagem do Omie", blank=True)
    duration_ms = models.PositiveIntegerField("duração (ms)")
    request_id = models.CharField("x-omie-request-id", max_length=80, blank=True)
    created_at = models.DateTimeField("em", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "chamada ao Omie"
        verbose_name_plural = "chamadas ao Omie"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["call", "-created_at"], name="omiecall_call_created"),
            models.Index(fields=["outcome", "-created_at"], name="omiecall_outcome_created"),
        ]

    def __str__(self) -> str:
        return f"{self.call} {self.integration_key} · {self.get_outcome_display()}"


class OmieDryRunCall(models.Model):
    """An Omie write built during a dry run (``OMIE_DRY_RUN``): what would have been sent, not sent.

    One row per (call, integration key) while it waits: a later build of the same write replaces the
    payload instead of adding a row. ``replayed_at`` is set once, when dry run is off and the order
    is re-run for real; the row is then kept as history. ``payload`` is the exact ``param`` object as
    JSON text, in the order it would travel (jsonb would reorder the keys); ``data`` reads it back
    (credentials are never part of it); ``problems`` lists what the local validation found.
    """

    call = models.CharField("método", max_length=40)
    integration_key = models.CharField("chave de integração", max_length=100, db_index=True)
    order_id = models.BigIntegerField("pedido (id)", null=True, blank=True, db_index=True)
    payload = models.TextField("payload (JSON exato)")
    problems = models.JSONField("problemas encontrados", default=list, blank=True)
    built_count = models.PositiveIntegerField("vezes montado", default=1)
    created_at = models.DateTimeField("em", default=timezone.now, db_index=True)
    updated_at = models.DateTimeField("atualizado em", default=timezone.now)
    replayed_at = models.DateTimeField("reenviado de verdade em", null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = "ensaio (chamada não enviada ao Omie)"
        verbose_name_plural = "ensaios (chamadas não enviadas ao Omie)"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["call", "integration_key"], condition=models.Q(replayed_at__isnull=True),
                name="omiedryrun_one_waiting_per_call_key",
            ),
        ]

    def __str__(self) -> str:
        return f"Ensaio {self.call} {self.integration_key}"

    @property
    def data(self) -> dict:
        """The payload as a dict, amounts as exact Decimals."""
        return json.loads(self.payload, parse_float=Decimal)
from integrations.omie.webhooks.models import OmieEventStatus, OmieWebhookEvent  # noqa: E402,F401  (the webhook events)


class OmieCustomerLink(models.Model):
    """Which Omie customer bills a CPF/CNPJ, and the integration code that record carries.

    Omie keeps one customer per document and refuses a second ("Cliente já cadastrado para o
    CPF/CNPJ …"), so a document already known here is never sent again under another Bubble
    customer: the next order of that document goes straight to IncluirOS with this id. Kept per
    document (not per Bubble customer) because two Bubble customers can share one CNPJ.
    ``codigo_cliente_integracao`` is blank while the Omie record has none (not yet associated).
    A wrong or stale row (a customer merged or deleted in Omie by hand) is deleted in the admin;
    the next order then learns the truth from Omie again.
    """

    class How(models.TextChoices):
        CREATED = "created", "cadastrado por nós (UpsertCliente)"
        ASSOCIATED = "associated", "já existia; código de integração associado"
        FOUND = "found", "já existia com outro código de integração"

    document = models.CharField("CPF/CNPJ", max_length=14, unique=True, help_text=DOCUMENT_HELP)
    codigo_cliente_omie = models.BigIntegerField("código do cliente no Omie")
    codigo_cliente_integracao = models.CharField("código de integração no Omie", max_length=100, blank=True)
    how = models.CharField("origem", max_length=12, choices=How.choices)
    created_at = models.DateTimeField("criado em", default=timezone.now)
    updated_at = models.DateTimeField("alterado em", auto_now=True)

    class Meta:
        verbose_name = "cliente do Omie por CPF/CNPJ"
        verbose_name_plural = "clientes do Omie por CPF/CNPJ"

    def __str__(self) -> str:
        return f"{self.codigo_cliente_omie} ({self.get_how_display()})"
