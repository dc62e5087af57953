"""Optimistic locking: the ONE place a row's ``version`` moves on (docs/architecture.md#state-and-transitions).

Every state change of an order (its sync state, written by ``orders``; its billing and payment state,
written by ``billing/services/state.py``) bumps the row's ``version``, which the API returns so a
caller can tell that what it read is stale. It lives in ``common`` because both ``orders`` and
``billing`` use it and ``orders`` may not import ``billing`` (docs/architecture.md#which-way-imports-go).
"""

from __future__ import annotations

from typing import Any

from django.db.models import F
from django.db.models.expressions import CombinedExpression

VERSION_FIELD = "version"


def version_bump(row: Any) -> str:
    """Moves the (locked) row's ``version`` on by one in memory; returns the field to add to ``update_fields``."""
    row.version = (row.version or 0) + 1
    return VERSION_FIELD


def version_next() -> CombinedExpression:
    """The same step for a set-based ``UPDATE`` of rows the caller holds locked: ``.update(version=version_next())``."""
    return F(VERSION_FIELD) + 1
