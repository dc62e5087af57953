"""How the action log reads to ops: the code's action names and actors, in Portuguese.

The log stores short English names (stable, greppable); the admin shows these labels. The ops
actions read as their buttons do (the outcome label says whether it was done or refused); what the
flows do reads as what happened. An action missing here is shown by its name.
"""

from __future__ import annotations

from billing.ops_actions import OPS_ACTIONS
from orders.display import actor_display

ACTION_LABELS: dict[str, str] = {
    # The ops actions read as their buttons (the catalog's labels).
    **{action.log_name: action.label for action in OPS_ACTIONS},
    "sync_trigger": "Sincronização pedida",
    "sync_fetch": "Dados lidos do Bubble",
    "omie_customer_upsert": "Cliente enviado ao Omie",
    "omie_os_create": "OS criada no Omie",
    "sync_complete": "Sincronização concluída",
    "omie_dry_run": "Ensaio: seria enviado ao Omie",
    "dry_run_replay": "Ensaio encerrado: reenvio real",
    "sync_resume": "Sincronização retomada",
    "billing_decide": "Decisão de faturamento",
    "billing_emit": "Emissão da NFS-e iniciada",
    "billing_issued": "NFS-e emitida",
    "billing_failed": "Falha na emissão",
    "payment_update": "Pagamento atualizado",
    "nf_cancelled": "NF cancelada",
    "nf_cancel_failed": "Cancelamento da NF falhou",
    "reconciliation_drift_resolve": "Divergência marcada como resolvida",
    "pagarme_event_reprocess": "Evento Pagar.me reprocessado",
    "nfse_archived": "PDF e XML da NFS-e guardados",
    "nfse_archive_failed": "Falha ao guardar os documentos da NFS-e",
    "nfse_archive_retry": "Documentos da NFS-e pedidos de novo",
    "nfse_xml_drift": "XML da NFS-e divergente",
    "nfse_link_revoke": "Link da NFS-e revogado",
    "nfse_link_renew": "Novo link da NFS-e",
    "omie_drift": "Divergência com o Omie",
    "omie_webhook_reprocess": "Webhook do Omie reprocessado",
}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def actor_label(actor: str) -> str:
    """'bubble:ana@x' → 'Bubble (ana@x)', 'system:billing' → 'Sistema', 'admin:paula' → the user's name ('Paula Souza')."""
    return actor_display(actor)


def admin_actor(username: str) -> str:
    """The actor written to the log for a person using the admin (docs/contract.md#action-log: the admin user)."""
    return f"admin:{username}"


# What each Celery task does, as ops say it: the timeline and the task admins show these, never the
# dotted path. Every registered task has one (backoffice/tests/test_task_labels.py); an unknown name reads
# as "tarefa automática".
TASK_LABELS: dict[str, str] = {
    "backoffice.tasks.metrics_snapshot": "calcular os números do monitoramento (Prometheus)",
    "billing.tasks.nfse_documents.nfse_archive_fetch": "guardar o PDF e o XML de uma NFS-e",
    "billing.tasks.nfse_documents.nfse_archives_sweep": "retomar o arquivamento de NFS-e pendentes",
    "billing.tasks.omie.nfse_bulk_confirm": "confirmar NFS-e emitidas em lote (lista do Omie)",
    "orders.tasks.order_sync_fetch": "ler o pedido e o cliente no Bubble",
    "orders.tasks.omie.order_sync_omie": "enviar o cliente e a OS ao Omie",
    "orders.tasks.sweeps.order_sync_sweep": "retomar sincronizações paradas",
    "orders.tasks.sweeps.idempotency_records_prune": "limpar chaves de idempotência antigas",
    "billing.tasks.billing_day_run": "faturamento do dia",
    "billing.tasks.billing_run_continue": "continuação do faturamento do dia",
    "billing.tasks.billing_due_sweep": "faturar pedidos pendentes",
    "billing.tasks.invoices_dispatch": "despachar as etapas de NFS-e",
    "billing.tasks.omie.invoice_step": "etapa da NFS-e no Omie",
    "billing.tasks.omie.reconciliation_step": "etapa da conciliação com o Omie",
    "billing.tasks.pagarme_event_process": "processar evento do Pagar.me",
    "billing.tasks.reconciliation_run": "conciliação com o Omie",
    "common.tasks.beat_heartbeat": "sinal de vida do agendador",
    "common.tasks.ping": "teste do worker",
    "integrations.omie.tasks.omie_call_prune": "limpar o registro de chamadas ao Omie",
    "integrations.tasks.bubble.writeback_deliver": "enviar atualização ao Bubble",
    "integrations.tasks.bubble.writeback_purge": "limpar atualizações antigas do Bubble",
    "integrations.tasks.bubble.writeback_sweep": "reenviar atualizações pendentes ao Bubble",
    "integrations.tasks.checks.integrations_check_run": "verificar integrações (página de go-live)",
    "backoffice.tasks.export_run": "gerar arquivo de exportação",
    "backoffice.tasks.exports_cleanup": "apagar exportações vencidas",
    "billing.tasks.omie_webhooks.omie_webhook_process": "processar evento (webhook) do Omie",
    "billing.tasks.omie_webhooks.omie_webhooks_requeue": "reprocessar eventos do Omie parados",
    "billing.tasks.pagarme_events_retention": "limpar eventos antigos do Pagar.me",
    "common.tasks.worker_probe": "teste de consumo do worker",
    "celery.backend_cleanup": "limpar resultados antigos de tarefas",
}
TASK_STATES: dict[str, str] = {"SUCCESS": "concluída", "FAILURE": "falhou", "RETRY": "vai tentar de novo", "STARTED": "em andamento",
                               "PENDING": "na fila", "REVOKED": "cancelada", "RECEIVED": "recebida"}


def task_label(task_name: str | None) -> str:
    return TASK_LABELS.get(task_name or "", "tarefa automática")


def sentence(label: str) -> str:
    """First letter up, the rest untouched (``str.capitalize`` would write "os ao omie")."""
    return label[:1].upper() + label[1:]
