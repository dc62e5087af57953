"""How the action log reads to ops: the code's action names and actors, in Portuguese.

The log stores short English names (stable, greppable); the admin shows these labels. The ops
actions read as their buttons do (the outcome label says whether it was done or refused); what the
flows do reads as what happened. An action missing here is shown by its name.
"""

from __future__ import annotations

from billing.ops_actions import OPS_ACTIONS

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
}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def actor_label(actor: str) -> str:
    """'bubble:ana@x' → 'Bubble (ana@x)', 'system:billing' → 'Sistema', 'admin:paula' → 'paula (admin)'."""
    kind, _, who = actor.partition(":")
    if kind == "bubble":
        return f"Bubble ({who})" if who else "Bubble"
    if kind == "system":
        return "Sistema"
    if kind == "admin":
        return f"{who} (admin)"
    if actor == "pagarme":
        return "Pagar.me"
    return actor


def admin_actor(username: str) -> str:
    """The actor written to the log for a person using the admin (SPEC §4.6: the admin user)."""
    return f"admin:{username}"
