"""Backoffice's periodic tasks (written to django-celery-beat by ``manage.py setup_periodic_tasks``)."""

from django.conf import settings

from common.periodic import Periodic, register

register(
    Periodic(
        name="Exportações: apagar arquivos vencidos",
        task="backoffice.tasks.exports_cleanup",
        every_seconds=3600,
        description="De hora em hora apaga os arquivos de exportação com mais de EXPORT_TTL_HOURS horas (o registro fica).",
    ),
    Periodic(
        name="Métricas: números de negócio",
        task="backoffice.tasks.metrics_snapshot",
        every_seconds=settings.METRICS_SNAPSHOT_SECONDS,
        description="Recalcula os números de negócio que o /metrics mostra (pedidos, notas, outbox, dia 25, webhooks).",
    ),
)
