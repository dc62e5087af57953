"""The runbook's commands against `make run`: `scripts/devstack.py env` exports what the running stack
uses (sandbox mode, debug, the fakes' address, the demo timings, Flower's password), and
`make manage ARGS=...` (devstack.py manage) runs a command with exactly that environment.

The "running stack" here is the test's live server (it serves the fakes, as `make run`'s web does) on
the test database; the commands run as subprocesses with a shell's environment: no DJANGO_* variable.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from sandbox.demo_timings import DEMO_ENV
from testsupport.processes import subprocess_env

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _shell_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A newcomer's shell: the database and Redis of the stack, nothing of Django's."""
    base = subprocess_env()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SANDBOX", "OMIE_", "FLOWER_", "BILLING_"))}
    env.pop("CELERY_BROKER_URL", None)
    env.update(DATABASE_URL=base["DATABASE_URL"], REDIS_URL=settings.REDIS_URL, DEVSTACK_VAR_DIR=str(tmp_path / "var"),
               PYTHONUNBUFFERED="1", **extra)
    return env


def _exports(env: dict[str, str]) -> dict[str, str]:
    out = subprocess.run([sys.executable, "scripts/devstack.py", "env"], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True, timeout=60).stdout
    values = {}
    for line in out.splitlines():
        assert line.startswith("export "), line
        key, _, value = line[len("export "):].partition("=")
        values[key] = shlex.split(value)[0] if value else ""
    return values


def test_env_exports_what_make_run_uses(tmp_path):
    env = _shell_env(tmp_path, WEB_PORT="8123")
    exported = _exports(env)
    assert exported["DJANGO_SETTINGS_MODULE"] == "config.django.base"
    assert exported["SANDBOX"] == "true" and exported["DJANGO_DEBUG"] == "true"
    assert exported["SANDBOX_BASE_URL"] == "http://127.0.0.1:8123"
    assert exported["DATABASE_URL"] == env["DATABASE_URL"] and exported["REDIS_URL"] == settings.REDIS_URL
    assert exported["CELERY_BROKER_URL"] == settings.REDIS_URL
    assert {k: exported[k] for k in DEMO_ENV} == DEMO_ENV
    # Flower's password is chosen once and kept: `make run` and `env` agree on it.
    assert exported["FLOWER_BASIC_AUTH"].startswith("flower:") and _exports(env)["FLOWER_BASIC_AUTH"] == exported["FLOWER_BASIC_AUTH"]


def test_the_runbook_commands_work_against_make_run(live_server, settings, tmp_path, user_factory):
    """check_integrations checks the sandbox's Omie (not the real one) and issue_service_token issues a
    token, both with the README's wording: `eval "$(... env)"` then manage.py, and `make manage`."""
    settings.SANDBOX_OMIE_APP_KEYS = ["sandbox-app-key"]
    from sandbox.fake_omie.services import fake_omie_reset

    fake_omie_reset()
    port = str(urlsplit(live_server.url).port)
    env = _shell_env(tmp_path, WEB_PORT=port)

    shell = f'eval "$({shlex.quote(sys.executable)} scripts/devstack.py env 2>/dev/null)" && ' \
            f'{shlex.quote(sys.executable)} manage.py check_integrations --only omie --json'
    done = subprocess.run(["bash", "-c", shell], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert "DJANGO_SECRET_KEY is not set" not in done.stderr, done.stderr
    report = json.loads(done.stdout)
    keys = next(i for s in report["systems"] for i in s["items"] if i["name"].startswith("chaves de acesso"))
    assert keys["verdict"] == "ok", keys
    assert "app.omie.com.br" not in done.stdout

    user_factory("bubble")  # the Bubble service user (docs/deploying.md creates it first)
    made = subprocess.run([sys.executable, "scripts/devstack.py", "manage", "issue_service_token", "bubble", "--days", "1"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    from common.api.models import ServiceToken

    assert ServiceToken.objects.filter(user__username="bubble").count() == 1


def test_make_manage_is_the_documented_wrapper():
    makefile = (ROOT / "Makefile").read_text()
    assert "scripts/devstack.py manage $(ARGS)" in makefile
    readme = (ROOT / "README.md").read_text()
    assert 'make manage ARGS="check_integrations' in readme and "make demo-reset" in readme


def test_the_sandboxs_processes_run_only_in_sandbox_mode(tmp_path):
    """The Procfile's sandbox processes run sandbox/ commands: without SANDBOX=true they do not exist, so
    `make run` leaves them out instead of restarting a command that is not there."""
    from scripts import devstack

    assert set(devstack.SANDBOX_PROCESSES) <= set(devstack.procfile_entries(ROOT / "Procfile"))
    every = devstack.supervisor_config(ROOT / "Procfile", tmp_path / "sandbox").read_text()
    without = devstack.supervisor_config(ROOT / "Procfile", tmp_path / "plain", skip=devstack.SANDBOX_PROCESSES).read_text()

    assert "[program:omiehooks]" in every and "fake_omie_webhooks" in every
    assert "[program:omiehooks]" not in without and "fake_omie_webhooks" not in without
    assert all(f"[program:{name}]" in without for name in ("web", "worker", "beat", "flower"))
