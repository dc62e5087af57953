from common.periodic import Periodic, register

register(
    Periodic(
        name="Limpeza das chamadas ao Omie",
        task="integrations.omie.tasks.omie_call_prune",
        crontab={"minute": "17", "hour": "3"},
        description="Apaga o registro de chamadas ao Omie com mais de 90 dias (OMIE_CALL_RETENTION_DAYS).",
    ),
)
