"""Counters kept in Redis hashes: one hash per metric, one field per label set.

Why Redis and not prometheus-client's per-process counters: the events counted here (an Omie answer, a
throttle wait, a refused webhook) happen in Celery workers and gunicorn workers in separate containers,
none of which is scraped on its own. A Redis ``HINCRBYFLOAT`` is one round trip (~0.1 ms), next to an
HTTP call that takes hundreds; the series survive a worker restart, and Prometheus' ``rate()`` handles
the rare reset (Redis flushed).

Label values must never carry personal data (CPF/CNPJ, e-mail), tokens or ids of orders: callers pass
method names, outcome classes and sources, all from closed sets.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

KEY_PREFIX = "blu:metrics:counter:"
_clients: dict[str, redis.Redis] = {}


def _redis() -> redis.Redis:
    url = settings.REDIS_URL
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    return _clients[url]


def _field(labels: dict[str, str]) -> str:
    return json.dumps(labels, sort_keys=True, separators=(",", ":"))


def counter_add(name: str, labels: dict[str, str], amount: float = 1.0) -> None:
    """Adds ``amount`` to the series ``name{labels}``. Never raises: a lost count beats a failed task."""
    try:
        _redis().hincrbyfloat(KEY_PREFIX + name, _field(labels), amount)
    except redis.RedisError:
        logger.warning("metrics: could not add to %s", name)


def counter_read(client: redis.Redis, name: str) -> Iterator[tuple[dict[str, str], float]]:
    """Every series of ``name`` as (labels, value)."""
    for field, value in client.hgetall(KEY_PREFIX + name).items():
        yield json.loads(field), float(value)


def counters_read_many(client: redis.Redis, names: list[str]) -> dict[str, list[tuple[dict[str, str], float]]]:
    """All series of several counters in one round trip (the scrape reads them all)."""
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.hgetall(KEY_PREFIX + name)
    return {name: [(json.loads(f), float(v)) for f, v in raw.items()] for name, raw in zip(names, pipe.execute(), strict=True)}
