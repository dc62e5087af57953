"""The one exponential backoff of the project: how long to wait before the next try of something that failed.

    delay(attempt) = min(cap, base × 2^(max(attempt, 1) − 1)) × U(low, high)

``attempt`` counts from 1 (the first retry waits ``base``); each further attempt doubles the wait until it
reaches ``cap``; then the jitter multiplies it by a number drawn uniformly from ``[low, high]``. The cap
applies before the jitter, so a jitter above 1 can exceed ``cap`` by that factor (at most ``cap × high``).

Each caller keeps its own numbers, read from its settings:

| caller | base, cap | jitter |
|---|---|---|
| Bubble writeback outbox (``integrations/bubble/services.py``) | ``BUBBLE_WRITEBACK_RETRY_*`` | 0.5–1.0 |
| order sync, transient failures (``orders/services/sync_state.py``) | ``ORDERS_SYNC_BACKOFF_*`` | 0.5–1.0 |
| invoice steps and reconciliation pages (``billing/services/work.py``) | ``BILLING_RETRY_*`` | 1.0–1.15 |
| Pagar.me confirmation (``billing/services/webhooks.py``) | ``PAGARME_CONFIRM_RETRY_*`` | 0.5–1.0 |
| NFS-e documents archive (``billing/services/nfse_archive.py``) | ``NFSE_ARCHIVE_RETRY_*`` | 1.0–1.15 |
| Omie webhook event task (``billing/tasks/omie_webhooks.py``) | 5 s, 600 s | 1.0–1.2 |
| BrasilAPI "CNPJ not found yet" (``integrations/brasilapi/services.py``) | ``BRASILAPI_NOT_FOUND_RETRY_SECONDS``, none | none |

A jitter below 1 ("half to full") spreads many retries that failed together; one above 1 keeps a floor
(never sooner than the plain delay, e.g. Omie's same-OS window). Pure apart from the random draw, which a
test can replace with ``uniform=``.
"""

from __future__ import annotations

import random
from collections.abc import Callable

NO_JITTER = (1.0, 1.0)


def backoff_seconds(
    attempt: int,
    *,
    base: float,
    cap: float,
    jitter: tuple[float, float] = NO_JITTER,
    uniform: Callable[[float, float], float] = random.uniform,
) -> float:
    """Seconds to wait before try ``attempt`` (1, 2, …): ``min(cap, base × 2^(attempt − 1)) × U(jitter)``."""
    low, high = jitter
    if base < 0 or cap < 0 or not 0 <= low <= high:
        raise ValueError(f"backoff: base {base}, cap {cap}, jitter {jitter}")
    # 2.0 ** 1024 raises OverflowError; base × 2^1023 is already past any cap (or inf, which min() caps).
    delay = min(cap, base * 2.0 ** min(max(attempt, 1) - 1, 1023))
    if low == high:
        return delay * low
    return delay * uniform(low, high)
