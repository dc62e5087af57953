"""The consumption watchdog (common/worker_liveness.py) against real workers and real Redis servers.

- Redis SIGKILLed under a running worker with acks-late tasks in flight: the same worker process
  consumes again afterwards, and /health/ready reports "workers" down while it was not consuming
  (Redis already back, the worker not yet consuming) and up again once it is.
- A worker that is alive but consumes nothing exits with 70 for its supervisor.
- The container health check reads the worker's own record and kills a wedged worker.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from celery import Celery

from common.worker_liveness import EXIT_CODE, liveness_file
from testsupport.processes import ROOT, RedisServerProcess, wait_for

FAST_WATCHDOG = {"WORKER_PROBE_INTERVAL_SECONDS": "1", "WORKER_PROBE_STALE_SECONDS": "20",
                 "WORKER_CONSUMING_MAX_AGE_SECONDS": "3"}


def _ready(client) -> dict:
    return client.get("/health/ready").json()["checks"]


# The killed Redis server leaves this process's Celery connections broken for the tests after it:
# `make test` runs it after the rest, in a pytest process of its own.
@pytest.mark.isolated
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_worker_consumes_again_after_redis_is_killed_under_acks_late_tasks_and_ready_says_when_it_did_not(
        celery_worker_process, client, settings, tmp_path):
    from django_celery_results.models import TaskResult

    from common.health import record_beat_heartbeat

    server = RedisServerProcess(tmp_path / "redis").start()
    url = server.url(settings.TEST_REDIS_DB)
    try:
        settings.REDIS_URL = settings.CELERY_BROKER_URL = url
        settings.WORKER_CONSUMING_MAX_AGE_SECONDS = 3
        worker = celery_worker_process(queues="default", concurrency=2, REDIS_URL=server.url(0), **FAST_WATCHDOG)
        # (the test settings export CELERY_BROKER_URL, which Celery prefers: the private server is named per call)
        # Not the current app: shared tasks published later in this process must keep the real broker.
        producer = Celery("test-producer", broker=url, set_as_current=False)

        def send(*args: object) -> None:
            with producer.connection_for_write(url) as connection:
                producer.send_task("common.tasks.ping", args=list(args), queue="default", connection=connection)

        record_beat_heartbeat()
        wait_for(lambda: _ready(client)["workers"]["status"] == "ok", timeout=30,
                 message="the worker never proved consumption\n" + worker.output())

        # Two acks-late tasks running when Redis dies.
        for i in range(2):
            send(f"in-flight-{i}", 8)
        wait_for(lambda: TaskResult.objects.filter(task_name="common.tasks.ping", status="STARTED").count() == 2,
                 timeout=30, message="the tasks did not start\n" + worker.output())
        server.kill()
        time.sleep(6)  # the worker is in its reconnect back-off
        server.start()

        # Redis answers again (empty) while the worker is not consuming yet: readiness says so.
        seen_down = False
        deadline = time.time() + 60
        while time.time() < deadline:
            record_beat_heartbeat()
            checks = _ready(client)
            if checks["redis"]["status"] == "ok" and checks["workers"]["status"] == "error":
                seen_down = True
            if checks["workers"]["status"] == "ok":
                break
            time.sleep(0.2)
        assert seen_down, "readiness never reported the worker down while Redis was back"
        assert _ready(client)["workers"]["status"] == "ok", "the worker never consumed again\n" + worker.output()

        # It consumes real tasks again, in the same process: no crash, no restart.
        for i in range(3):
            send(f"after-{i}")
        wait_for(lambda: TaskResult.objects.filter(task_name="common.tasks.ping", status="SUCCESS",
                                                   result__startswith='"pong:after').count() == 3,
                 timeout=60, message="tasks sent after the outage did not run\n" + worker.output())
        assert worker.proc.poll() is None
        log = worker.output()
        assert "Connection to broker lost" in log and "Unrecoverable error" not in log
        assert "parou de consumir" not in log  # an outage alone never makes the watchdog exit
        producer.close()
    finally:
        server.kill()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_alive_but_not_consuming_exits_with_70_for_its_supervisor(celery_worker_process):
    from config.celery import app

    worker = celery_worker_process(queues="default", concurrency=1, WORKER_PROBE_INTERVAL_SECONDS="1",
                                   WORKER_PROBE_STALE_SECONDS="4", WORKER_WATCHDOG_EXIT_GRACE_SECONDS="20")
    record = liveness_file(worker.node, worker.env["WORKER_LIVENESS_DIR"])
    wait_for(lambda: record.exists() and json.loads(record.read_text())["last_received"], timeout=30,
             message="no probe received\n" + worker.output())
    # Alive (answers the broadcast below) but consuming from nothing: the state the known
    # Redis-transport bugs leave a worker in.
    for queue in ("default", f"blu.probe.{worker.node}"):
        replies = app.control.cancel_consumer(queue, destination=[worker.node], reply=True, timeout=5)
        assert replies, worker.output()
    assert worker.proc.wait(60) == EXIT_CODE
    assert "parou de consumir" in worker.output()
    assert json.loads(record.read_text())["stuck"] is True


def _healthcheck(node: str, directory, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "docker/healthcheck.py", "worker"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "CELERY_WORKER_NODE": node, "WORKER_LIVENESS_DIR": str(directory), **env},
                          timeout=30)


def test_container_health_check_reads_the_consumption_record_and_kills_a_wedged_worker(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKER_LIVENESS_DIR", str(tmp_path))
    node = "worker@box"
    path = liveness_file(node)
    now = time.time()

    def write(**fields: object) -> None:
        path.write_text(json.dumps({"hostname": node, "pid": 1, "written_at": now, "last_received": now - 5,
                                    "started": now - 100, "stuck": False} | fields))

    assert _healthcheck(node, tmp_path).returncode == 1  # no record yet
    write()
    assert _healthcheck(node, tmp_path).returncode == 0
    write(last_received=now - 120)
    result = _healthcheck(node, tmp_path)
    assert result.returncode == 1 and "last probe received" in result.stdout
    write(stuck=True)
    assert _healthcheck(node, tmp_path).returncode == 1

    # The watchdog itself silent (the process is wedged): the check ends it so the restart policy acts.
    wedged = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "celery-wedged"])
    try:
        write(pid=wedged.pid, written_at=now - 600)
        result = _healthcheck(node, tmp_path, WORKER_WATCHDOG_DEAD_SECONDS="180")
        assert result.returncode == 1 and "killed" in result.stdout
        assert wedged.wait(10) == -9
    finally:
        if wedged.poll() is None:
            wedged.kill()
