"""`make run`'s engine (scripts/devstack.py run) brings the whole system up and down cleanly.

Two paths: the machine's local PostgreSQL/Redis, and the embedded ones (DEVSTACK_FORCE_EMBEDDED=1
makes devstack ignore the local services exactly as if they were stopped, and no URL is set).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

from testsupport.processes import free_port

ROOT = Path(__file__).resolve().parent.parent



def _ready(port: int) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=3) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")
    except OSError:
        return 0, {}


def _cmd(process: psutil.Process | None) -> str:
    """A process's command line, "" for one that is gone or a zombie."""
    try:
        return " ".join(process.cmdline()) if process is not None else ""
    except psutil.Error:
        return ""


def _supervised(process: psutil.Process) -> bool:
    try:
        return "supervisord" in _cmd(process.parent())
    except psutil.Error:
        return False


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


@pytest.mark.slow
@pytest.mark.parametrize("embedded", [False, True], ids=["local-services", "embedded"])
def test_make_run_serves_ready_and_stops_everything(tmp_path, embedded):
    web_port, flower_port, redis_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(
        WEB_PORT=str(web_port),
        FLOWER_PORT=str(flower_port),
        EMBEDDED_REDIS_PORT=str(redis_port),
        DEVSTACK_VAR_DIR=str(tmp_path / "var"),
        DEVSTACK_DB_NAME="blu_omie_runcheck",
        CELERY_CONCURRENCY="1",
        WEB_CONCURRENCY="1",
    )
    if embedded:
        env["DEVSTACK_FORCE_EMBEDDED"] = "1"
    log_path = tmp_path / "run.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "scripts/devstack.py", "run"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 240
        status, body = 0, {}
        while time.time() < deadline and proc.poll() is None:
            status, body = _ready(web_port)
            if status == 200:
                break
            time.sleep(1)
        assert status == 200, f"ready={status} {body}\n{log_path.read_text()[-4000:]}"
        assert {name: check["status"] for name, check in body["checks"].items()} == {
            "database": "ok", "redis": "ok", "broker": "ok", "beat": "ok", "workers": "ok"
        }
        started = _descendants(proc.pid)
        names = " ".join(" ".join(p.cmdline()) for p in started if p.is_running())
        for piece in ("gunicorn", "worker", "beat", "flower"):
            assert piece in names
        # A crashed worker is restarted (supervisord's autorestart) while the rest keeps serving.
        workers = [p for p in started if "celery" in _cmd(p) and " worker " in f" {_cmd(p)} " and _supervised(p)]
        assert len(workers) == 1, [_cmd(p) for p in workers]
        workers[0].kill()
        deadline = time.time() + 120
        restarted = False
        while time.time() < deadline and not restarted:
            time.sleep(1)
            restarted = any(p.pid != workers[0].pid and " worker " in f" {_cmd(p)} " and _supervised(p)
                            for p in _descendants(proc.pid) if "celery" in _cmd(p))
        assert restarted, "the killed worker was not restarted\n" + log_path.read_text()[-3000:]
        assert proc.poll() is None, "make run stopped when the worker died"
        assert "exited: worker" in log_path.read_text()
        wait_ready = time.time() + 90
        while time.time() < wait_ready and _ready(web_port)[0] != 200:
            time.sleep(1)
        assert _ready(web_port)[0] == 200
        started = _descendants(proc.pid)
        if embedded:
            assert "redis-server" in names
            assert (tmp_path / "var" / "pgdata" / "PG_VERSION").exists()
            assert "Demo superuser" in log_path.read_text()
    finally:
        proc.send_signal(signal.SIGINT)  # what Ctrl-C does
        try:
            proc.wait(90)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    time.sleep(1)
    leftovers = [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not leftovers, [" ".join(p.cmdline()) for p in leftovers]
    pg_left = [p for p in psutil.process_iter(["cmdline"]) if str(tmp_path) in " ".join(p.info["cmdline"] or [])]
    assert not pg_left, "embedded PostgreSQL still running"
    assert _ready(web_port)[0] == 0
