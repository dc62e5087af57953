"""The Celery app (docs/contract.md#containers). Settings come from Django's, namespace CELERY_.

The request id of the HTTP request that enqueued a task travels in the message headers and is put
back in the log context while the task runs (common.request_context).
"""

import logging.config

from celery import Celery, signals
from django.conf import settings

from common.broker import install as install_broker_transport
from common.health import record_beat_heartbeat
from common.request_context import get_request_id, set_request_id
from config.settings_module import server_default

# kombu's Redis transport with the fix for the worker crash after a broker loss (common/broker.py).
install_broker_transport()

server_default()  # production unless DJANGO_SETTINGS_MODULE says otherwise (config/settings_module.py)

app = Celery("blu_omie")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every worker proves it is consuming (a probe through its own queue) and stops when it is not, so
# that its supervisor restarts it (common/worker_liveness.py, docs/reliability.md).
from common.worker_liveness import ConsumptionWatchdog  # noqa: E402

app.steps["consumer"].add(ConsumptionWatchdog)

# Each periodic task's last start/success/failure in Redis, and Sentry Crons check-ins (docs/observability.md).
from common.metrics import periodic_runs  # noqa: E402

periodic_runs.connect(signals)


@signals.setup_logging.connect
def _setup_logging(**_kwargs: object) -> None:
    logging.config.dictConfig(settings.LOGGING)


@signals.before_task_publish.connect
def _carry_request_id(headers: dict | None = None, **_kwargs: object) -> None:
    request_id = get_request_id()
    if headers is not None and request_id and "request_id" not in headers:
        headers["request_id"] = request_id


@signals.task_prerun.connect
def _restore_request_id(task: object = None, **_kwargs: object) -> None:
    request = getattr(task, "request", None)
    set_request_id(getattr(request, "request_id", None) or (request and request.id) or None)


@signals.task_postrun.connect
def _clear_request_id(**_kwargs: object) -> None:
    set_request_id(None)


@signals.beat_init.connect
def _first_heartbeat(**_kwargs: object) -> None:
    # Beat is alive from its first second; the periodic heartbeat keeps it fresh afterwards.

    record_beat_heartbeat()
