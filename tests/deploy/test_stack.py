"""The production start scripts, run here without Docker, with nginx in front.

gunicorn (docker/start-web), a worker, beat and Flower run with the production settings against the
test PostgreSQL and Redis; nginx runs from nginx/start with the same template compose uses,
rendered for a local port and local paths. Then the stack is asked what a load balancer, an
operator and Bubble would ask. Every process started here is stopped at the end.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from tests.deploy.files import ROOT, tool
from testsupport.processes import free_port, subprocess_env, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]



class Stack:
    """The processes of one run; each in its own session so it can be signalled with its children."""

    def __init__(self, *, logs: Path, env: dict[str, str], ports: dict[str, int], static_root: Path) -> None:
        self.logs = logs
        self.env = env
        self.ports = ports
        self.static_root = static_root
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        logs.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, command: list[str], **extra_env: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("wb")
        proc = subprocess.Popen(command, cwd=ROOT, env={**self.env, **extra_env}, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def logs_tail(self) -> str:
        return "\n".join(f"--- {name}.log\n{self.log(name)[-3000:]}" for name in self.procs)

    def alive(self, name: str) -> bool:
        return self.procs[name].poll() is None

    def stop(self, name: str, timeout: float = 30) -> int | None:
        """SIGTERM to the script's process (as `docker stop` does); SIGKILL to its group if it lingers."""
        proc = self.procs[name]
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        self._kill_group(proc)
        return proc.returncode

    def stop_all(self) -> None:
        for name in reversed(list(self.procs)):
            self.stop(name)

    @staticmethod
    def _kill_group(proc: subprocess.Popen[bytes]) -> None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # children left behind (gunicorn/celery workers)
        except ProcessLookupError:
            pass
        if proc.returncode is None:
            proc.wait(10)


@pytest.fixture
def stack(tmp_path, settings):
    # nginx's workers run as an unprivileged user: the static files must be world-readable, which
    # pytest's tmp_path (0700) is not.
    static_root = Path(tempfile.mkdtemp(prefix="blu-static-"))
    static_root.chmod(0o755)
    ports = {"web": free_port(), "flower": free_port(), "nginx": free_port()}
    env = subprocess_env(
        DJANGO_SETTINGS_MODULE="config.django.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        JWT_SIGNING_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_ADMIN_URL="ops-e2e/",
        REDIS_URL=settings.REDIS_URL,  # the test Redis database (TEST_REDIS_DB)
        CELERY_BROKER_URL=settings.REDIS_URL,
        OMIE_APP_KEY="e2e-key",
        OMIE_APP_SECRET=secrets.token_hex(16),
        OMIE_SERVICE_ID="2480000001",
        BUBBLE_BASE_URL="https://e2e.bubbleapps.io/api/1.1",
        BUBBLE_API_TOKEN=secrets.token_hex(16),
        PAGARME_SECRET_KEY="sk_" + secrets.token_hex(16),
        DJANGO_STATIC_ROOT=str(static_root),
        WEB_BIND=f"127.0.0.1:{ports['web']}",
        WEB_CONCURRENCY="2",
        CELERY_CONCURRENCY="2",
        CELERY_WORKER_HOSTNAME=f"e2e-{secrets.token_hex(4)}",
        FLOWER_BASIC_AUTH=f"ops:{secrets.token_urlsafe(12)}",
        FLOWER_PORT=str(ports["flower"]),
        FLOWER_ADDRESS="127.0.0.1",
        NGINX_BIN=tool("nginx"),
        NGINX_CONF=str(tmp_path / "nginx" / "nginx.conf"),
        NGINX_RUNTIME_DIR=str(tmp_path / "nginx" / "run"),
        NGINX_LISTEN_PORT=str(ports["nginx"]),
        NGINX_WEB_UPSTREAM=f"127.0.0.1:{ports['web']}",
        NGINX_FLOWER_UPSTREAM=f"127.0.0.1:{ports['flower']}",
        NGINX_STATIC_ROOT=str(static_root),
        PYTHON=sys.executable,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    stack = Stack(logs=tmp_path / "logs", env=env, ports=ports, static_root=static_root)
    try:
        yield stack
    finally:
        stack.stop_all()
        subprocess.run(["rm", "-rf", str(static_root)], check=False)


def _start(stack: Stack) -> str:
    """Builds and starts the stack in compose's order; returns nginx's base URL."""
    from django.utils import timezone
    from django_celery_beat.models import PeriodicTask

    # What the image build does.
    collect = subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=stack.env,
                             capture_output=True, text=True, timeout=120)
    assert collect.returncode == 0, collect.stderr

    web_url = f"http://127.0.0.1:{stack.ports['web']}"
    stack.start("web", ["docker/start-web"])

    def web_live() -> bool:
        assert stack.alive("web"), stack.logs_tail()
        try:
            return requests.get(f"{web_url}/health/live", timeout=5).status_code == 200
        except requests.RequestException:  # refused or slow while starting: not up yet
            return False

    wait_for(web_live, timeout=90, interval=0.3, message="gunicorn never answered /health/live")

    # The web start ran setup_periodic_tasks, so beat's first heartbeat would come one interval
    # (60 s) after it; date it back as on a stack that has been running, so a (re)started beat
    # fires it at once.
    heartbeat = PeriodicTask.objects.filter(task="common.tasks.beat_heartbeat")
    assert heartbeat.update(last_run_at=timezone.now() - timedelta(minutes=5)) == 1

    stack.start("worker", ["docker/start-worker"])
    stack.start("beat", ["docker/start-beat"])
    stack.start("flower", ["docker/start-flower"])
    stack.start("nginx", ["nginx/start"])
    return f"http://127.0.0.1:{stack.ports['nginx']}"


def test_the_production_stack_is_ready_through_nginx_and_nginx_serves_the_static_files(stack, redis_client):
    base = _start(stack)
    flower_user, flower_password = stack.env["FLOWER_BASIC_AUTH"].split(":", 1)

    def ready() -> requests.Response | None:
        for name in stack.procs:
            assert stack.alive(name), f"{name} died\n{stack.logs_tail()}"
        try:
            response = requests.get(f"{base}/health/ready", timeout=5)
        except requests.ConnectionError:
            return None
        return response if response.status_code == 200 else None

    # 1. Readiness through nginx: database, Redis, broker, the beat heartbeat (beat → worker) and a
    #    worker's consumption probe.
    response = wait_for(ready, timeout=90, interval=0.5, message="/health/ready never became 200 through nginx")
    assert response.json() == {
        "status": "ok",
        "checks": {
            "database": {"status": "ok"},
            "redis": {"status": "ok"},
            "broker": {"status": "ok"},
            "beat": {"status": "ok", "age_seconds": response.json()["checks"]["beat"]["age_seconds"]},
            "workers": {"status": "ok", "consuming": 1, "age_seconds": response.json()["checks"]["workers"]["age_seconds"]},
        },
    }
    assert "no-store" in response.headers["Cache-Control"]  # never cached on the way
    assert response.headers["Server"] == "nginx"

    # 2. A static admin asset comes from nginx's disk, and gunicorn never sees the request.
    asset = requests.get(f"{base}/static/admin/css/base.css", timeout=5)
    assert asset.status_code == 200
    assert asset.content == (stack.static_root / "admin" / "css" / "base.css").read_bytes()
    assert asset.headers["Content-Type"].startswith("text/css")
    assert asset.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"  # nginx's headers.conf
    manifest = json.loads((stack.static_root / "staticfiles.json").read_text())
    hashed = requests.get(f"{base}/static/{manifest['paths']['admin/css/base.css']}", timeout=5)
    assert hashed.status_code == 200 and hashed.headers["Cache-Control"] == "max-age=315360000"
    assert asset.headers["Cache-Control"] == "max-age=3600"

    # 3. The request id: the caller's is passed to Django and back; gunicorn logs it.
    request_id = f"e2e-{secrets.token_hex(6)}"
    live = requests.get(f"{base}/health/live", headers={"X-Request-ID": request_id}, timeout=5)
    assert live.status_code == 200 and live.headers["X-Request-ID"] == request_id

    # 4. Bodies over the API's limit stop at nginx, in the API's error envelope.
    too_big = requests.post(f"{base}/v1/auth/token/", data=b"x" * (1024 * 1024 + 1), headers={"Content-Type": "application/json"},
                            timeout=10)
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "payload_too_large"

    # 5. Plain http to the admin is redirected to https, and a client cannot fake the scheme:
    #    nginx overwrites X-Forwarded-Proto.
    for headers in ({}, {"X-Forwarded-Proto": "https"}):
        admin = requests.get(f"{base}/ops-e2e/", headers=headers, allow_redirects=False, timeout=5)
        assert admin.status_code == 301 and admin.headers["Location"].startswith("https://127.0.0.1"), headers

    # 6. Flower is proxied under /flower/, behind its basic auth; its unauthenticated endpoints are not.
    flower_direct = f"http://127.0.0.1:{stack.ports['flower']}/flower"

    def flower_up() -> bool:
        assert stack.alive("flower"), stack.logs_tail()
        try:
            return requests.get(f"{flower_direct}/healthcheck", timeout=5).status_code == 200
        except requests.RequestException:  # refused or slow while starting: not up yet
            return False

    wait_for(flower_up, timeout=90, interval=0.5, message="Flower never started")
    assert requests.get(f"{base}/flower/", timeout=10).status_code == 401
    assert requests.get(f"{base}/flower/metrics", timeout=10).status_code == 404
    assert requests.get(f"{base}/flower/healthcheck", timeout=10).status_code == 404
    flower = requests.get(f"{base}/flower/", auth=(flower_user, flower_password), timeout=10)
    assert flower.status_code == 200 and "Flower" in flower.text

    time.sleep(1)  # gunicorn's access log is line-buffered; give it a moment
    gunicorn_log = stack.log("web")
    assert "/health/ready" in gunicorn_log and f"request_id={request_id}" in gunicorn_log
    assert "/static/" not in gunicorn_log, "gunicorn served a static file: nginx should have"
    assert "/v1/auth/token/" not in gunicorn_log, "an oversized body reached gunicorn"

    # 7. The containers' health checks pass against the running processes.
    for check in ("web", "worker", "beat", "flower"):
        result = subprocess.run([sys.executable, "docker/healthcheck.py", check], cwd=ROOT, env=stack.env,
                                capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, f"{check}: {result.stdout}{result.stderr}"

    # 8. A second beat waits as a standby instead of scheduling.
    stack.start("beat-standby", ["docker/start-beat"])
    wait_for(lambda: "waiting as a standby" in stack.log("beat-standby"), timeout=60,
             message="the second beat did not report itself as a standby\n" + stack.logs_tail())
    assert "beat: Starting" not in stack.log("beat-standby")
    assert redis_client.get("blu:singleton:beat").decode().split(":")[1] == str(stack.procs["beat"].pid)

    # 9. Every process stops on SIGTERM (what `docker stop` sends), and beat gives its lock back.
    for name in ("nginx", "flower", "beat-standby", "beat", "worker", "web"):
        code = stack.stop(name)
        assert code is not None, f"{name} did not stop"
    assert redis_client.get("blu:singleton:beat") is None
