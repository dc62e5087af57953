"""Backoffice's periodic tasks (written to django-celery-beat by ``manage.py setup_periodic_tasks``)."""

from common.periodic import Periodic, register

register(
    Periodic(
        name="Exportações: apagar arquivos vencidos",
        task="backoffice.tasks.exports_cleanup",
        every_seconds=3600,
        description="De hora em hora apaga os arquivos de exportação com mais de EXPORT_TTL_HOURS horas (o registro fica).",
    ),
)
