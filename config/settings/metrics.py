"""Metrics, alerts and dashboards (docs/observability.md).

``/metrics`` is protected by a bearer token (``METRICS_TOKEN``) and/or basic auth
(``METRICS_BASIC_AUTH``, ``user:password``); with neither it answers 404 unless DEBUG is on.
"""

from config.env import env

METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_BASIC_AUTH = env.str("METRICS_BASIC_AUTH", default="")
# How often a worker recomputes the business gauges (backoffice/metrics/snapshot.py).
METRICS_SNAPSHOT_SECONDS = env.int("METRICS_SNAPSHOT_SECONDS", default=30)
# "Billed but no NFS-e number": an OS whose FaturarOS was accepted longer ago than this.
METRICS_NFSE_MISSING_AFTER_MINUTES = env.int("METRICS_NFSE_MISSING_AFTER_MINUTES", default=30)
# Sentry Crons monitor the periodic tasks that run at most this often (the 30 s dispatcher is watched by Prometheus).
SENTRY_CRONS_MIN_INTERVAL_SECONDS = env.int("SENTRY_CRONS_MIN_INTERVAL_SECONDS", default=300)
# The admin dashboard links here when set (e.g. https://grafana.example.com/d/blu-omie).
GRAFANA_URL = env.str("GRAFANA_URL", default="")
