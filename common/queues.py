"""The Celery queues, one per concern, so that one kind of work never waits behind another.

A million-row export or an NFS-e backfill takes minutes of a worker; the day-25 FaturarOS calls must
not queue behind it. Each concern has its own queue, and a deployment can give each its own workers
(docs/deploying.md, "Scaling workers"). Routing lives in config/settings/celery.py; this module has no
Django import, so start scripts' tests, test helpers and benches read the same list.
"""

from __future__ import annotations

DEFAULT = "default"  # beat's jobs: the day-25 run and its dispatch, sweeps, pruning
OMIE_WRITES = "omie"  # IncluirOS/UpsertCliente, the invoice steps (FaturarOS, StatusOS): paced by the central throttle
OMIE_READS = "omie_reads"  # the reconciliation's pages (ListarOS / ListarNFSEs): backfills and audits
BUBBLE = "bubble"  # the writeback outbox to Bubble
WEBHOOKS = "webhooks"  # Pagar.me and Omie webhook events, after they were stored
EXPORTS = "exports"  # the admin's exports (XLSX/CSV of up to a million rows)

ALL_QUEUES: tuple[str, ...] = (DEFAULT, OMIE_WRITES, OMIE_READS, BUBBLE, WEBHOOKS, EXPORTS)
# What a worker started without CELERY_QUEUES consumes: every queue.
ALL_QUEUES_CSV = ",".join(ALL_QUEUES)
