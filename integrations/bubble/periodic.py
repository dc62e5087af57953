from django.conf import settings

from common.periodic import Periodic, register

register(
    Periodic(
        name="Bubble: entregar escritas pendentes",
        task="integrations.tasks.bubble.writeback_sweep",
        every_seconds=settings.BUBBLE_WRITEBACK_SWEEP_SECONDS,
        description="Entrega ao Bubble as escritas vencidas do outbox (também as que perderam a mensagem da fila).",
    ),
    Periodic(
        name="Bubble: limpar escritas entregues",
        task="integrations.tasks.bubble.writeback_purge",
        crontab={"minute": "40", "hour": "3"},
        description="Apaga escritas entregues há mais de BUBBLE_WRITEBACK_RETENTION_DAYS dias.",
    ),
)
