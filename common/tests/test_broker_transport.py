"""The kombu Redis-transport crash after a broker loss, reproduced step by step, and the fix (common/broker.py).

The steps are the ones Celery's consumer takes when Redis goes away (``on_connection_error_after_connected``:
``connection.collect()`` then ``ignore_errors(connection, connection.close)``), with the state a worker
is in: acks-late messages delivered and unacknowledged on the task channel, a BRPOP outstanding on it,
and the remote-control (pidbox) channel with its auto-delete fanout queue. Real redis-server, SIGKILLed.
"""

from __future__ import annotations

import pytest
from kombu import Connection, Consumer, Exchange, Producer, Queue
from kombu.common import ignore_errors

from testsupport.processes import RedisServerProcess

STOCK = "kombu.transport.redis:Transport"
FIXED = "common.broker:Transport"


def _lose_redis_like_a_worker(server: RedisServerProcess, transport: str) -> Connection:
    conn = Connection(server.url(0), transport=transport)
    conn.connect()
    task_channel = conn.default_channel  # Celery's task consumer uses the default channel
    task_channel.basic_qos(0, 3, False)
    queue = Queue("default", Exchange("default"), "default")
    producer = Producer(task_channel, exchange=queue.exchange, routing_key="default")
    for i in range(4):
        producer.publish({"i": i}, declare=[queue])
    held = []
    Consumer(task_channel, [queue], callbacks=[lambda body, message: held.append(message)]).consume()
    pidbox = conn.channel()  # remote control: a fanout, auto-delete queue on its own channel
    Consumer(pidbox, [Queue("w@h.celery.pidbox", Exchange("celery.pidbox", type="fanout"), auto_delete=True)],
             no_ack=True, callbacks=[lambda body, message: None]).consume()
    while len(held) < 3:
        conn.drain_events(timeout=5)  # three acks-late messages in flight
    task_channel._brpop_start()  # the next BRPOP outstanding ...
    server.kill()  # ... when Redis dies
    try:
        conn.collect(socket_timeout=5)
    except Exception:  # Celery ignores every error here too
        pass
    return conn


def test_stock_kombu_transport_crashes_the_consumer_cleanup_with_the_hostname_attribute_error(tmp_path):
    """The bug as shipped in kombu 5.7.0: when this starts failing, kombu fixed it and common/broker.py can go."""
    server = RedisServerProcess(tmp_path).start()
    try:
        conn = _lose_redis_like_a_worker(server, STOCK)
        with pytest.raises(AttributeError, match="'NoneType' object has no attribute 'hostname'"):
            ignore_errors(conn, conn.close)
    finally:
        server.kill()


def test_fixed_transport_turns_it_into_a_connection_error_that_the_cleanup_ignores_and_reconnects(tmp_path):
    server = RedisServerProcess(tmp_path).start()
    try:
        conn = _lose_redis_like_a_worker(server, FIXED)
        ignore_errors(conn, conn.close)  # no AttributeError escapes: the worker goes on to reconnect
        server.start()  # Redis back (empty): a new connection works end to end
        with Connection(server.url(0), transport=FIXED) as fresh:
            queue = Queue("default", Exchange("default"), "default")
            Producer(fresh.default_channel, exchange=queue.exchange, routing_key="default").publish({"after": 1}, declare=[queue])
            got = []
            Consumer(fresh.default_channel, [queue], callbacks=[lambda body, message: (got.append(body), message.ack())]).consume()
            fresh.drain_events(timeout=5)
            assert got == [{"after": 1}]
    finally:
        server.kill()


def test_redis_broker_urls_use_the_fixed_transport():
    import config.celery  # noqa: F401 - installs it

    assert type(Connection("redis://127.0.0.1:1/0").transport).__module__ == "common.broker"
    assert type(Connection("rediss://127.0.0.1:1/0").transport).__module__ == "common.broker"
