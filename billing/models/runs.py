from django.db import models


class BillingRun(models.Model):
    """One billing day's run (docs/contract.md#billing-and-emission), for ops to watch; repeated firings land on the same row.

    The run itself is safe to fire any number of times: every order is claimed individually. This
    row only records what happened (how often it fired, how many orders it moved to emission).
    """

    billing_date = models.DateField("dia de faturamento", unique=True)
    first_fired_at = models.DateTimeField("primeira execução", auto_now_add=True)
    last_fired_at = models.DateTimeField("última execução", null=True, blank=True)
    finished_at = models.DateTimeField("terminada em", null=True, blank=True)
    firings = models.PositiveIntegerField("execuções", default=0)
    claimed = models.PositiveIntegerField("pedidos enviados à emissão", default=0)

    class Meta:
        verbose_name = "execução do faturamento"
        verbose_name_plural = "execuções do faturamento"
        ordering = ["-billing_date"]

    def __str__(self) -> str:
        return f"Faturamento de {self.billing_date:%d/%m/%Y}"
