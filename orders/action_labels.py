"""How the action log reads to ops: the code's action names and actors, in Portuguese.

The log stores short English names (stable, greppable); the admin shows these labels. The ops
actions read as their buttons do (the outcome label says whether it was done or refused); what the
flows do reads as what happened. An action missing here is shown by its name.
"""

from __future__ import annotations

ACTION_LABELS: dict[str, str] = {
    "sync_trigger": "Sincronização pedida",
    "sync_fetch": "Dados lidos do Bubble",
    "omie_customer_upsert": "Cliente enviado ao Omie",
    "omie_os_create": "OS criada no Omie",
    "sync_complete": "Sincronização concluída",
    "sync_resume": "Sincronização retomada",
    "retry": "Reprocessar",
    "billing_decide": "Decisão de faturamento",
    "billing_emit": "Emissão da NFS-e iniciada",
    "billing_issued": "NFS-e emitida",
    "billing_failed": "Falha na emissão",
    "payment_update": "Pagamento atualizado",
    "nf_cancel": "Cancelar NF",
    "nf_cancelled": "NF cancelada",
    "nf_cancel_failed": "Cancelamento da NF falhou",
    "nf_mark_manual": "Registrar NF manual",
    "billing_hold_approve": "Aprovar retenção",
    "billing_override_day25": "Antecipar faturamento",
    "cc_transfer": "Transferir para conta corrente",
    "cc_use": "Usar conta corrente",
    "omie_drift": "Divergência com o Omie",
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
