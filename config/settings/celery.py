"""Celery: broker, queues, routing, time limits and delivery guarantees (docs/contract.md#containers).

Every task in this project is idempotent and re-checks state, which is what makes
``acks_late`` + prefetch 1 safe: a worker that dies mid-task leaves the message to be redelivered.
"""

from kombu import Queue

from common import queues
from config.env import env

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=env.str("REDIS_URL", default="redis://127.0.0.1:6379/0"))
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_TRACK_STARTED = True
CELERY_RESULT_EXPIRES = 7 * 24 * 3600
CELERY_TIMEZONE = "America/Sao_Paulo"
CELERY_ENABLE_UTC = True

CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"

CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task's hard limit is its crash bound; each external call has its own HTTP timeouts far below.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=180)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = 10.0

# The longest countdown the project ever schedules (the Omie ban pause, 1800 s, plus jitter).
# Redis redelivers an unacked message after the visibility timeout, so it must stay above every
# countdown and every task's hard limit, or a waiting retry runs twice.
# https://docs.celeryq.dev/en/stable/getting-started/backends-and-brokers/redis.html#visibility-timeout
CELERY_MAX_COUNTDOWN_SECONDS = 2400
CELERY_VISIBILITY_TIMEOUT = 3 * 3600
# Bounded socket waits towards Redis: a half-open connection (Redis gone without a FIN) fails within
# socket_timeout instead of blocking the worker's event loop; BRPOP itself waits 1 s at a time.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "socket_connect_timeout": 5,
    "socket_timeout": 30,
    "socket_keepalive": True,
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# On a broker connection loss, the acks-late tasks running on the lost connection are cancelled and
# their messages left for redelivery, instead of finishing and trying to acknowledge them on a channel
# that no longer exists (the path behind the kombu "'NoneType' object has no attribute 'hostname'" crash,
# docs/reliability.md). Every task here is idempotent, so running one again is safe. (Celery 6's default.)
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True

# The consumption watchdog (common/worker_liveness.py): a probe through the worker's own queue every
# WORKER_PROBE_INTERVAL_SECONDS; a worker that published one but received none for
# WORKER_PROBE_STALE_SECONDS (WORKER_PROBE_BUSY_STALE_SECONDS when every slot is busy) exits with 70.
WORKER_PROBE_INTERVAL_SECONDS = env.float("WORKER_PROBE_INTERVAL_SECONDS", default=10.0)
WORKER_PROBE_STALE_SECONDS = env.float("WORKER_PROBE_STALE_SECONDS", default=60.0)
WORKER_PROBE_BUSY_STALE_SECONDS = env.float("WORKER_PROBE_BUSY_STALE_SECONDS", default=CELERY_TASK_TIME_LIMIT + 60.0)
WORKER_WATCHDOG_EXIT_GRACE_SECONDS = env.float("WORKER_WATCHDOG_EXIT_GRACE_SECONDS", default=30.0)
# /health/ready and the container health check: a worker whose last probe is older than this is not consuming.
WORKER_CONSUMING_MAX_AGE_SECONDS = env.float("WORKER_CONSUMING_MAX_AGE_SECONDS", default=60.0)

# Flower needs the workers' events (received, started, succeeded, failed, retried).
CELERY_WORKER_SEND_TASK_EVENTS = True
# The "task-sent" event is one more Redis publish per task, paid by the publisher: on the trigger that is
# ~0.3 ms of CPU per message (bench/trigger_profile.py). Without it Flower lists a task from the moment a
# worker receives it, not while it waits in the queue (Flower's Broker page still counts each queue), and
# shows no "sent" time. Turn it on to see queued tasks in Flower's task list.
CELERY_TASK_SEND_SENT_EVENT = env.bool("CELERY_TASK_SEND_SENT_EVENT", default=False)

# https://docs.celeryq.dev/en/stable/userguide/routing.html
# One queue per concern (common/queues.py): an export or a backfill never delays billing.
CELERY_TASK_DEFAULT_QUEUE = queues.DEFAULT
CELERY_TASK_QUEUES = tuple(Queue(name) for name in queues.ALL_QUEUES)
CELERY_TASK_ROUTES = {
    # The reconciliation's page reads before the broader billing.tasks.omie.* (first match wins).
    "billing.tasks.omie.reconciliation_step": {"queue": queues.OMIE_READS},
    "billing.tasks.omie.nfse_bulk_confirm": {"queue": queues.OMIE_READS},
    # ObterNFSe and the document downloads: reads, beside billing's writes, never in front of them.
    "billing.tasks.nfse_documents.nfse_archive_fetch": {"queue": queues.OMIE_READS},
    "orders.tasks.omie.*": {"queue": queues.OMIE_WRITES},
    "billing.tasks.omie.*": {"queue": queues.OMIE_WRITES},
    "integrations.tasks.bubble.*": {"queue": queues.BUBBLE},
    "billing.tasks.pagarme_event_process": {"queue": queues.WEBHOOKS},
    "billing.tasks.omie_webhooks.omie_webhook_process": {"queue": queues.WEBHOOKS},
    "backoffice.tasks.export_run": {"queue": queues.EXPORTS},
}

CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# A crontab that was missed by more than this is not fired late by beat; the due sweep catches up.
CELERY_BEAT_CRON_STARTING_DEADLINE = 3600

# Beat writes a heartbeat every minute; readiness fails when it is older than this.
BEAT_HEARTBEAT_MAX_AGE_SECONDS = env.int("BEAT_HEARTBEAT_MAX_AGE_SECONDS", default=180)
