from __future__ import annotations

from typing import Any

from billing.permissions import FINANCE_GROUP


def may_check_integrations(user: Any) -> bool:
    """Superusers and the Financeiro group (the page may spend an Omie call and test-write to Bubble)."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    return bool(user.is_superuser or user.groups.filter(name=FINANCE_GROUP).exists())
