"""The start scripts: syntax, shellcheck (Debian's), and how they fail when something is missing."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.deploy.files import ROOT, load_script, tool
from testsupport.processes import subprocess_env

BASH_SCRIPTS = [*sorted((ROOT / "docker").glob("start-*")), ROOT / "docker" / "common.sh"]
# nginx/ runs in the nginx:alpine image, which has no bash.
POSIX_SCRIPTS = [ROOT / "nginx" / "render", ROOT / "nginx" / "start"]
PYTHON_SCRIPTS = sorted((ROOT / "docker").glob("*.py"))


def _ids(paths: list) -> list[str]:
    return [str(path.relative_to(ROOT)) for path in paths]


@pytest.mark.parametrize("script", BASH_SCRIPTS, ids=_ids(BASH_SCRIPTS))
def test_bash_scripts_parse(script):
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("script", POSIX_SCRIPTS, ids=_ids(POSIX_SCRIPTS))
def test_posix_scripts_parse_with_a_plain_sh(script):
    shell = "/bin/dash" if os.path.exists("/bin/dash") else "sh"  # Debian's sh: POSIX, no bash extensions
    result = subprocess.run([shell, "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("script", BASH_SCRIPTS + POSIX_SCRIPTS, ids=_ids(BASH_SCRIPTS + POSIX_SCRIPTS))
def test_shellcheck_is_clean(script):
    # -x follows `source`; the scripts' own directives say where common.sh is.
    result = subprocess.run([tool("shellcheck"), "-x", "--severity=style", str(script)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


RUNNABLE = [*BASH_SCRIPTS[:-1], *POSIX_SCRIPTS, *PYTHON_SCRIPTS]  # common.sh is sourced, not run


@pytest.mark.parametrize("script", RUNNABLE, ids=_ids(RUNNABLE))
def test_scripts_are_executable(script):
    assert os.access(script, os.X_OK), f"chmod +x {script.relative_to(ROOT)}"


@pytest.mark.parametrize("script", BASH_SCRIPTS[:-1], ids=_ids(BASH_SCRIPTS[:-1]))
def test_start_scripts_stop_at_the_first_error(script):
    assert "set -euo pipefail" in script.read_text()


def _production_env(**extra: str) -> dict[str, str]:
    env = subprocess_env(
        DJANGO_SETTINGS_MODULE="config.django.production",
        DJANGO_SECRET_KEY="x" * 60,
        JWT_SIGNING_KEY="j" * 60,
        # A forced sandbox under production settings still refuses the sandbox's public secrets.
        OMIE_APP_SECRET="o" * 32,
        BUBBLE_API_TOKEN="b" * 32,
        PAGARME_WEBHOOK_SECRET="p" * 32,
        OMIE_WEBHOOK_TOKEN="w" * 40,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        SANDBOX="true",
        SANDBOX_FORCE="true",
        PYTHON=sys.executable,
        PATH=f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    env.update(extra)
    return env


def test_a_start_script_refuses_to_start_naming_the_missing_variables(db):
    env = _production_env()
    del env["DJANGO_SECRET_KEY"]
    result = subprocess.run([str(ROOT / "docker" / "start-worker")], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "Missing required environment variables for production: DJANGO_SECRET_KEY" in result.stderr


def test_waiting_for_services_gives_up_naming_the_one_that_never_answered(db):
    env = _production_env(REDIS_URL="redis://:hunter2@127.0.0.1:1/0", CELERY_BROKER_URL="redis://:hunter2@127.0.0.1:1/0")
    command = [sys.executable, "docker/wait_for_services.py", "--timeout", "2"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 1
    assert "gave up: Redis (127.0.0.1:1) did not answer within 2 s" in result.stderr
    assert "PostgreSQL" not in result.stderr.split("gave up")[1]  # the database answered
    assert "hunter2" not in result.stderr


def test_flower_refuses_to_start_without_basic_auth():
    env = _production_env(FLOWER_BASIC_AUTH="")
    result = subprocess.run([str(ROOT / "docker" / "start-flower")], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "refusing to start Flower without auth" in result.stderr
    env["FLOWER_BASIC_AUTH"] = "no-password"
    assert subprocess.run([str(ROOT / "docker" / "start-flower")], env=env, capture_output=True, timeout=30).returncode == 1


@pytest.mark.parametrize(
    ("basic_auth", "reason"),
    [
        ("ops:change-me-flower-password", "is a placeholder"),  # .env.example's value: before, Flower started with it
        ("ops:short-pass", "is shorter than 16 characters"),
        (f"ops:{'x' * 20},admin:change-me-too-0000000", "is a placeholder"),
    ],
)
def test_flower_refuses_placeholder_or_short_passwords(basic_auth, reason):
    env = _production_env(FLOWER_BASIC_AUTH=basic_auth, WAIT_FOR_SERVICES_TIMEOUT="1")
    result = subprocess.run([str(ROOT / "docker" / "start-flower")], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert f"refusing to start Flower: FLOWER_BASIC_AUTH: a password {reason}" in result.stderr
    assert basic_auth.split(":", 1)[1] not in result.stderr


def test_the_web_health_check_sends_a_host_django_accepts(monkeypatch):
    healthcheck = load_script("docker/healthcheck.py")
    for allowed, expected in [("backoffice.example.com,x.example.com", "backoffice.example.com"), (".example.com", "example.com"),
                              ("*", "localhost"), ("", "localhost")]:
        monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", allowed)
        assert healthcheck._allowed_host() == expected


@pytest.mark.parametrize(("setting", "expected"), [(None, len(os.sched_getaffinity(0)) + 1), ("7", 7)])
def test_web_runs_one_gunicorn_worker_per_cpu_plus_one_unless_told(setting, expected):
    """The API is CPU-bound: more sync workers than that only add context switches (docs/benchmarks.md)."""
    line = next(x for x in (ROOT / "docker" / "start-web").read_text().splitlines() if x.startswith("workers="))
    env = {k: v for k, v in os.environ.items() if k != "WEB_CONCURRENCY"} | ({"WEB_CONCURRENCY": setting} if setting else {})
    result = subprocess.run(["bash", "-c", f'{line}; echo "$workers"'], capture_output=True, text=True, env=env, check=True)
    assert int(result.stdout) == expected
    assert '--workers "$workers"' in (ROOT / "docker" / "start-web").read_text()
