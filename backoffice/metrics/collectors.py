"""What a scrape reads live: all from Redis, a few pipelined round trips, no database query.

- the business snapshot a worker writes every 30 s (backoffice/metrics/snapshot.py);
- Celery: each queue's length on the broker, unacknowledged messages, each worker's last proof of
  consumption (common/worker_liveness.py), beat's heartbeat and each periodic task's last start/success/failure;
- the Omie throttle (paused, why, how long still, errors in the window, leases held), read like
  ``manage.py omie_throttle`` reads it;
- the counters every process adds to in Redis (common/metrics/counters.py).

Per-task Celery counters and runtimes come from Flower's own ``/metrics`` (a maintained exporter, scraped
separately); this adds only what Flower cannot see.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import redis
from django.conf import settings
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from backoffice.metrics.snapshot import domain_snapshot_read
from common.health import BEAT_HEARTBEAT_KEY
from common.metrics.counters import counters_read_many
from common.metrics.periodic_runs import periodic_entries, read_run_events
from common.worker_liveness import KEY_PREFIX as CONSUMING_PREFIX
from integrations.omie.throttle import get_throttle

logger = logging.getLogger(__name__)

# Kombu's Redis transport keeps priorities 3, 6 and 9 in lists named "<queue>\x06\x16<priority>".
_PRIORITY_SEP = "\x06\x16"
_PRIORITIES = ("3", "6", "9")

# (metric, help, labels) of the Redis counters; written by common.metrics.counters.counter_add callers.
REDIS_COUNTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "blu_omie_calls": ("Chamadas ao Omie respondidas, por método e classe da resposta (ok, banned=425, rate_limited=429, redundant…).",
                       ("method", "outcome")),
    "blu_omie_call_duration_seconds": ("Soma das durações das chamadas ao Omie, por método.", ("method",)),
    "blu_omie_throttle_denied": ("Chamadas ao Omie adiadas pelo controle de consumo, por método e motivo.", ("method", "reason")),
    "blu_omie_throttle_wait_seconds": ("Tempo esperado na fila do controle de consumo do Omie, por método.", ("method",)),
    "blu_omie_throttle_waits": ("Esperas na fila do controle de consumo do Omie, por método.", ("method",)),
    "blu_webhook_auth_failures": ("Webhooks recusados por assinatura/token inválido, por origem.", ("source",)),
}

_clients: dict[str, redis.Redis] = {}


def _client(url: str) -> redis.Redis:
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    return _clients[url]


def queue_names() -> list[str]:
    return [q.name for q in settings.CELERY_TASK_QUEUES]


class SnapshotCollector(Collector):
    """The business gauges as last written by the snapshot task."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snap = domain_snapshot_read(client=_client(settings.REDIS_URL))
        if snap is None:
            return
        families: dict[str, GaugeMetricFamily] = {}
        for s in snap["series"]:
            labels = s["labels"]
            family = families.get(s["name"])
            if family is None:
                family = families[s["name"]] = GaugeMetricFamily(s["name"], s["help"], labels=sorted(labels))
            family.add_metric([labels[k] for k in sorted(labels)], float(s["value"]))
        yield from families.values()
        yield GaugeMetricFamily("blu_domain_snapshot_timestamp_seconds", "Quando os números de negócio foram calculados.",
                                value=snap["at"])
        yield GaugeMetricFamily("blu_domain_snapshot_duration_seconds", "Quanto levou o cálculo dos números de negócio.",
                                value=snap["duration"])


class CeleryCollector(Collector):
    """Queue lengths, unacked messages, consuming workers, beat and the periodic tasks' last runs."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        broker = _client(settings.CELERY_BROKER_URL)
        names = queue_names()
        pipe = broker.pipeline(transaction=False)
        for name in names:
            pipe.llen(name)
            for p in _PRIORITIES:
                pipe.llen(f"{name}{_PRIORITY_SEP}{p}")
        pipe.hlen("unacked")
        lengths = pipe.execute()
        queues = GaugeMetricFamily("blu_celery_queue_length", "Mensagens esperando na fila do broker.", labels=["queue"])
        step = 1 + len(_PRIORITIES)
        for i, name in enumerate(names):
            queues.add_metric([name], sum(lengths[i * step:(i + 1) * step]))
        yield queues
        yield GaugeMetricFamily("blu_celery_unacked_messages", "Mensagens entregues a workers e ainda não confirmadas.", value=lengths[-1])

        store = _client(settings.REDIS_URL)
        now = time.time()
        keys = list(store.scan_iter(match=CONSUMING_PREFIX + "*", count=200))
        values = store.mget(keys) if keys else []
        ages = GaugeMetricFamily("blu_celery_worker_consumption_age_seconds",
                                 "Há quanto tempo cada worker provou consumir da fila (sonda pelo broker).", labels=["worker"])
        limit = settings.WORKER_CONSUMING_MAX_AGE_SECONDS
        consuming = 0
        for key, value in zip(keys, values, strict=True):
            if value is None:
                continue
            age = max(0.0, now - float(value))
            consuming += age <= limit
            ages.add_metric([key.decode()[len(CONSUMING_PREFIX):]], age)
        yield ages
        yield GaugeMetricFamily("blu_celery_workers_consuming", f"Workers que provaram consumo nos últimos {int(limit)} s.",
                                value=consuming)

        beat = store.get(BEAT_HEARTBEAT_KEY)
        if beat is not None:
            yield GaugeMetricFamily("blu_beat_heartbeat_timestamp_seconds", "Último batimento do Celery beat.", value=float(beat))
        yield from self._periodic(store)

    def _periodic(self, store: redis.Redis) -> Iterator[GaugeMetricFamily]:
        events = read_run_events(store)
        entries = periodic_entries()
        helps = {"start": "Último início", "success": "Último sucesso", "failure": "Última falha"}
        for event, by_task in events.items():
            family = GaugeMetricFamily(f"blu_periodic_task_last_{event}_timestamp_seconds",
                                       f"{helps[event]} de cada tarefa periódica do beat.", labels=["task"])
            for task, when in sorted(by_task.items()):
                if task in entries:
                    family.add_metric([task], when)
            yield family
        interval = GaugeMetricFamily("blu_periodic_task_interval_seconds", "Intervalo agendado das tarefas periódicas de intervalo fixo.",
                                     labels=["task"])
        for task, entry in sorted(entries.items()):
            if entry.every_seconds:
                interval.add_metric([task], entry.every_seconds)
        yield interval


class OmieThrottleCollector(Collector):
    """The shared throttle's state per Omie method (integrations/omie/throttle.py)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = time.time()
        paused = GaugeMetricFamily("blu_omie_throttle_paused",
                                   "1 quando o método está pausado, com o motivo (banned=425, rate_limited=429…).",
                                   labels=["method", "reason"])
        remaining = GaugeMetricFamily("blu_omie_throttle_pause_remaining_seconds", "Segundos até o método voltar a ser chamado.",
                                      labels=["method"])
        errors = GaugeMetricFamily("blu_omie_throttle_errors_in_window", "Erros do método na janela do orçamento de erros.",
                                   labels=["method"])
        leases = GaugeMetricFamily("blu_omie_throttle_leases_held", "Chamadas do método em andamento.", labels=["method"])
        for state in get_throttle().state():
            is_paused = state.paused_until is not None
            paused.add_metric([state.call, state.pause_reason or "none"], float(is_paused))
            remaining.add_metric([state.call], max(0.0, state.paused_until.timestamp() - now) if is_paused else 0.0)
            errors.add_metric([state.call], state.errors_in_window)
            leases.add_metric([state.call], state.leases_held)
        yield from (paused, remaining, errors, leases)


class RedisCountersCollector(Collector):
    def collect(self) -> Iterator[CounterMetricFamily]:
        read = counters_read_many(_client(settings.REDIS_URL), list(REDIS_COUNTERS))
        for name, (help_text, label_names) in REDIS_COUNTERS.items():
            family = CounterMetricFamily(name, help_text, labels=list(label_names))
            for labels, value in read[name]:
                family.add_metric([labels.get(k, "") for k in label_names], value)
            yield family


COLLECTORS: tuple[type[Collector], ...] = (SnapshotCollector, CeleryCollector, OmieThrottleCollector, RedisCountersCollector)
