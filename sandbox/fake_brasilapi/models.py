"""State of the fake BrasilAPI (docs/contract.md#sandbox): companies, misbehaviour, and every lookup received."""

from django.db import models
from django.utils import timezone


class FakeCompany(models.Model):
    class Situacao(models.IntegerChoices):
        NULA = 1, "NULA"
        ATIVA = 2, "ATIVA"
        SUSPENSA = 3, "SUSPENSA"
        INAPTA = 4, "INAPTA"
        BAIXADA = 8, "BAIXADA"

    cnpj = models.CharField(max_length=14, primary_key=True)
    razao_social = models.CharField(max_length=200)
    nome_fantasia = models.CharField(max_length=200, blank=True, default="")
    situacao_cadastral = models.PositiveSmallIntegerField(choices=Situacao.choices, default=Situacao.ATIVA)
    email = models.CharField(max_length=200, blank=True, default="")
    telefone = models.CharField(max_length=20, blank=True, default="")
    cep = models.CharField(max_length=8, blank=True, default="")
    logradouro = models.CharField(max_length=200, blank=True, default="")
    numero = models.CharField(max_length=20, blank=True, default="")
    complemento = models.CharField(max_length=200, blank=True, default="")
    bairro = models.CharField(max_length=100, blank=True, default="")
    municipio = models.CharField(max_length=100, blank=True, default="")
    uf = models.CharField(max_length=2, blank=True, default="")
    # BrasilAPI's false 404s (docs/integrations.md#evidence): the next N lookups of this CNPJ answer 404.
    false_404_left = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "empresa (BrasilAPI falsa)"
        verbose_name_plural = "empresas (BrasilAPI falsa)"

    def __str__(self) -> str:
        return self.razao_social


class FakeLookup(models.Model):
    cnpj = models.CharField(max_length=32)
    status_code = models.PositiveSmallIntegerField()
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"#{self.pk} → {self.status_code}"


class FakeControl(models.Model):
    """One row (pk=1). ``fail_status`` (429 or 5xx) for every call, or for the next ``fail_calls_left``."""

    fail_status = models.PositiveSmallIntegerField(null=True, blank=True)
    fail_calls_left = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return "controle da BrasilAPI falsa"
