"""``GET /metrics``: the Prometheus text format, behind a bearer token or basic auth from settings.

The answer joins two expositions: the process's own metrics (django-prometheus' requests, database and
cache; in gunicorn the sum over every worker, through prometheus-client's multiprocess directory) and
the system's metrics read from Redis (backoffice/metrics/collectors.py), which are the same whichever
web process answers. A collector that fails (Redis down) is left out and reported by
``blu_metrics_collector_up`` = 0 instead of failing the whole scrape.

Credentials: ``METRICS_TOKEN`` (``Authorization: Bearer …``) and/or ``METRICS_BASIC_AUTH``
(``user:password``). With neither set the endpoint answers 404, except with DEBUG on (``make run``).
nginx never proxies it (nginx/nginx.conf.template): Prometheus scrapes the web container directly.
"""

from __future__ import annotations

import base64
import hmac
import logging
import os

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from backoffice.metrics.collectors import COLLECTORS
from common.exceptions import handler404

logger = logging.getLogger(__name__)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def metrics_auth_configured() -> bool:
    return bool(settings.METRICS_TOKEN or settings.METRICS_BASIC_AUTH)


def metrics_request_allowed(request: HttpRequest) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if settings.METRICS_TOKEN and scheme.lower() == "bearer" and _same(value.strip(), settings.METRICS_TOKEN):
        return True
    if settings.METRICS_BASIC_AUTH and scheme.lower() == "basic":
        try:
            given = base64.b64decode(value.strip(), validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return False
        return _same(given, settings.METRICS_BASIC_AUTH)
    return False


def _process_exposition() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


class _Guarded(Collector):
    """Runs one collector; its failure becomes ``blu_metrics_collector_up{collector} 0``."""

    def __init__(self, collectors: tuple[Collector, ...]) -> None:
        self.collectors = collectors

    def collect(self):  # type: ignore[no-untyped-def]
        up = GaugeMetricFamily("blu_metrics_collector_up", "1 quando o coletor leu seus dados nesta coleta.", labels=["collector"])
        for collector in self.collectors:
            name = type(collector).__name__
            try:
                families = list(collector.collect())
            except Exception:
                logger.exception("metrics: collector %s failed", name)
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from families
        yield up


def system_exposition() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Guarded(tuple(cls() for cls in COLLECTORS)))
    return generate_latest(registry)


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not metrics_auth_configured():
        if not settings.DEBUG:
            return handler404(request)
    elif not metrics_request_allowed(request):
        response = HttpResponse("credenciais de métricas ausentes ou inválidas\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"' if settings.METRICS_TOKEN else 'Basic realm="metrics"'
        return response
    return HttpResponse(_process_exposition() + system_exposition(), content_type=CONTENT_TYPE_LATEST)
