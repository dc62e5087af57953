from django.conf import settings
from django.db import models
from django.utils import timezone


class IntegrationCheckRun(models.Model):
    """One run of the go-live check started from the admin page "Verificar integrações".

    The page only creates the row and enqueues the run; a Celery worker runs the checks (each system
    bounded in time) and writes its progress and the report here, so no web request ever waits on an
    external system. The row is the record of who checked what, and when.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "na fila"
        RUNNING = "running", "em andamento"
        DONE = "done", "concluída"
        FAILED = "failed", "não concluída"

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name="pedida por",
    )
    requested_by_name = models.CharField("pedida por (nome)", max_length=150, blank=True)
    options = models.JSONField("opções", default=dict, blank=True)
    status = models.CharField("situação", max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.JSONField("andamento", default=list, blank=True)
    report = models.JSONField("resultado", null=True, blank=True)
    verdict = models.CharField("resultado geral", max_length=16, blank=True)
    failure = models.TextField("motivo (quando não concluída)", blank=True)
    created_at = models.DateTimeField("pedida em", default=timezone.now)
    started_at = models.DateTimeField("iniciada em", null=True, blank=True)
    finished_at = models.DateTimeField("concluída em", null=True, blank=True)

    class Meta:
        verbose_name = "verificação de integrações"
        verbose_name_plural = "verificações de integrações"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"verificação {self.pk} ({self.get_status_display()})"
