"""Billing's periodic tasks (written to django-celery-beat by ``manage.py setup_periodic_tasks``)."""

from django.conf import settings

from common.periodic import Periodic, register

register(
    Periodic(
        name="Faturamento do dia 25",
        task="billing.tasks.billing_day_run",
        crontab={"minute": "0", "hour": "7", "day_of_month": str(settings.BILLING_DAY), "month_of_year": "*", "day_of_week": "*"},
        description="Envia à emissão todos os pedidos PJ agendados para hoje. Pode rodar de novo sem emitir duas vezes.",
    ),
    Periodic(
        name="Faturamento: varredura de pendências",
        task="billing.tasks.billing_due_sweep",
        every_seconds=600,
        description="A cada 10 minutos emite o que já venceu e o dia 25 não pegou (beat parado, aprovação depois da data).",
    ),
    Periodic(
        name="Faturamento: despacho das etapas de NFS-e",
        task="billing.tasks.invoices_dispatch",
        every_seconds=30,
        description="Entrega ao Omie as etapas vencidas (FaturarOS, StatusOS, CancelarOS…) no ritmo que os limites permitem.",
    ),
    Periodic(
        name="Faturamento: NFS-e emitidas confirmadas em lote",
        task="billing.tasks.omie.nfse_bulk_confirm",
        every_seconds=int(settings.BILLING_NFSE_BULK_INTERVAL_SECONDS),
        description="Lê a lista de NFS-e do Omie (páginas de 500) e confirma as notas emitidas de uma vez; "
        "o StatusOS fica para as que a lista não mostra (rejeitadas, atrasadas).",
    ),
    Periodic(
        name="Pagar.me: retenção dos webhooks (LGPD)",
        task="billing.tasks.pagarme_events_retention",
        crontab={"minute": "15", "hour": "4", "day_of_month": "*", "month_of_year": "*", "day_of_week": "*"},
        description="Todo dia reduz os webhooks mais antigos que PAGARME_EVENT_RETENTION_DAYS a ids, situação, valores e datas.",
    ),
    Periodic(
        name="Webhooks do Omie: reenvio dos não processados",
        task="billing.tasks.omie_webhooks.omie_webhooks_requeue",
        every_seconds=60,
        description="Reenvia ao processamento os webhooks do Omie guardados cuja tarefa se perdeu (Redis reiniciado).",
    ),
    Periodic(
        name="NFS-e: documentos pendentes",
        task="billing.tasks.nfse_documents.nfse_archives_sweep",
        every_seconds=120,
        description="Retoma o download do PDF e do XML das NFS-e cuja tarefa se perdeu (worker parado, Redis reiniciado).",
    ),
    Periodic(
        name="Conciliação diária com o Omie",
        task="billing.tasks.reconciliation_run",
        crontab={"minute": "30", "hour": "5", "day_of_month": "*", "month_of_year": "*", "day_of_week": "*"},
        description="Compara OS e NFS-e do Omie com o registro local e aponta divergências.",
    ),
)
