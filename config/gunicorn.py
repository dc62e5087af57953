"""gunicorn's settings file (``gunicorn -c python:config.gunicorn``): its error and access logs go through
the project's logging config, so every line has the same UTC ISO 8601 timestamp as Django's and
Celery's. The access line has the path without the query string (no personal data in logs) and the
request id nginx passes on."""

import os
import shutil
import tempfile
from pathlib import Path

from prometheus_client import multiprocess

# prometheus-client's multiprocess mode (docs/observability.md): each gunicorn worker writes its metrics to
# files in this directory and /metrics adds them up, whichever worker answers. Set before anything imports
# prometheus_client (it picks its storage at import), emptied when the master starts (stale files would
# count twice) and pruned of a worker's live gauges when it exits.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(Path(tempfile.gettempdir()) / f"blu-prometheus-{os.getpid()}"))

from config.settings.logging import GUNICORN_LOGGING

logconfig_dict = GUNICORN_LOGGING
access_log_format = '%({x-forwarded-for}i)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}i)s'
# The Omie webhook token is a path segment: masked in the access log like everywhere else.
logger_class = "config.gunicorn_logging.RedactingLogger"


def on_starting(_server: object) -> None:
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)


def child_exit(_server: object, worker: object) -> None:
    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
