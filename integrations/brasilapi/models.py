from django.db import models
from django.utils import timezone


class CompanyRecord(models.Model):
    """BrasilAPI's answer for one CNPJ (the 30-day cache) and its run of 404s (the false-404 rule)."""

    cnpj = models.CharField("CNPJ", max_length=14, primary_key=True)
    data = models.JSONField("dados normalizados", null=True, blank=True)
    fetched_at = models.DateTimeField("consultado em", null=True, blank=True)
    # 404s since the last success; reset by a success and when the 404 becomes final.
    not_found_count = models.PositiveIntegerField("404 seguidos", default=0)
    last_not_found_at = models.DateTimeField("último 404", null=True, blank=True)
    updated_at = models.DateTimeField("atualizado em", default=timezone.now)

    class Meta:
        verbose_name = "cadastro de CNPJ (cache da BrasilAPI)"
        verbose_name_plural = "cadastros de CNPJ (cache da BrasilAPI)"

    def __str__(self) -> str:
        name = (self.data or {}).get("razao_social") or "—"
        return f"{self.cnpj} · {name}"
