"""The Redis broker transport: kombu's, with one fix for the worker crash after a broker loss.

kombu 5.7.0 (with celery 5.7.0, redis-py 8.1.0) can end a worker with ``Unrecoverable error:
AttributeError("'NoneType' object has no attribute 'hostname'")`` in ``Channel._connparams`` right after
``Restoring N unacknowledged message(s)``. The chain (reproduced step by step, deterministically, in
common/tests/test_broker_transport.py):

1. Redis goes away while the task channel has a BRPOP outstanding and acks-late messages delivered
   but not acknowledged; the loss is first seen on another socket (the remote-control "pidbox"
   channel's), so the task channel's first close re-raises from its pending BRPOP read and stops
   before the channel is marked closed;
2. ``Connection.collect()`` closes the channels newest first: the pidbox channel's close raises a
   ConnectionError (deleting its auto-delete queue needs Redis), which ends the loop before the task
   channel, and then sets ``transport.client = None``;
3. Celery then calls ``connection.close()`` under ``ignore_errors`` (connection and channel errors
   only): the task channel is closed for real, disconnects its pools and restores its unacked
   messages; restoring needs a new pool, ``_connparams`` reads ``self.connection.client.hostname``,
   the client is None, and the AttributeError escapes every handler up to the worker.

The fix: a channel whose transport has already dropped its client raises a redis ``ConnectionError``
from ``_connparams`` — it *is* a closed connection — which kombu and Celery already handle (the
restore is reported as failed and the worker reconnects). The unacked messages are not lost by it:
with Redis persisting they stay in its ``unacked`` hash and are redelivered after the visibility
timeout; with Redis restarted empty they were gone anyway and the sweeps re-drive the work from the
database. Installed by config/celery.py as the transport of ``redis://`` and ``rediss://`` URLs
(kombu's transport aliases), so URLs, logs and Flower's broker view stay as they were.
"""

from __future__ import annotations

import redis
from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import redis as kombu_redis


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous: bool = False) -> dict:
        transport = self.connection
        if transport is None or transport.client is None:
            raise redis.exceptions.ConnectionError("broker connection already closed (kombu transport has no client)")
        return super()._connparams(asynchronous=asynchronous)


class Transport(kombu_redis.Transport):
    Channel = Channel


def install() -> None:
    """redis:// and rediss:// broker URLs use this transport (idempotent)."""
    for scheme in ("redis", "rediss"):
        TRANSPORT_ALIASES[scheme] = "common.broker:Transport"
