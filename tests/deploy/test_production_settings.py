"""config.django.production with a realistic environment: `check --deploy` is clean, mistakes stop start-up."""

from __future__ import annotations

import re
import secrets
import subprocess
import sys

import pytest

from tests.deploy.files import ROOT, compose, env_example


def realistic_env(**overrides: str | None) -> dict[str, str]:
    """What a real deployment's .env gives the web container (no sandbox, real-looking secrets)."""
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.django.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "backoffice.example.com",
        "DJANGO_ADMIN_URL": "ops-7f3a/",
        "DATABASE_URL": "postgres://blu:pw@postgres:5432/blu",
        "REDIS_URL": "redis://redis:6379/0",
        "OMIE_APP_KEY": "1234567890",
        "OMIE_APP_SECRET": secrets.token_hex(16),
        "BUBBLE_BASE_URL": "https://blu.bubbleapps.io/api/1.1",
        "BUBBLE_API_TOKEN": secrets.token_hex(16),
        "PAGARME_SECRET_KEY": "sk_" + secrets.token_hex(16),
        "FLOWER_URL": "https://backoffice.example.com/flower/",
    }
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def show(env: dict[str, str], expression: str) -> str:
    result = manage(env, "shell", "-c", f"from django.conf import settings; print({expression})")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_check_deploy_has_no_warnings():
    result = manage(realistic_env(), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_hardening_is_on():
    env = realistic_env()
    expression = (
        "(settings.DEBUG, settings.SECURE_SSL_REDIRECT, settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, "
        "settings.SECURE_HSTS_SECONDS, settings.SECURE_PROXY_SSL_HEADER, settings.ADMIN_URL, settings.CSRF_TRUSTED_ORIGINS)"
    )
    assert show(env, expression) == (
        "(False, True, True, True, 31536000, ('HTTP_X_FORWARDED_PROTO', 'https'), 'ops-7f3a/', ['https://backoffice.example.com'])"
    )


def test_csrf_trusted_origins_follow_the_allowed_hosts_or_the_explicit_list():
    env = realistic_env(DJANGO_ALLOWED_HOSTS="backoffice.example.com,.blu.example.com,*")
    assert show(env, "settings.CSRF_TRUSTED_ORIGINS") == "['https://backoffice.example.com', 'https://*.blu.example.com']"
    env = realistic_env(DJANGO_CSRF_TRUSTED_ORIGINS="https://admin.example.com")
    assert show(env, "settings.CSRF_TRUSTED_ORIGINS") == "['https://admin.example.com']"


def test_the_admin_lives_at_the_configured_url():
    assert show(realistic_env(), "__import__('django.urls').urls.reverse('admin:index')") == "/ops-7f3a/"


MISSING = "Missing required environment variables for production: "


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"DJANGO_SECRET_KEY": None, "REDIS_URL": ""}, MISSING + "DJANGO_SECRET_KEY, REDIS_URL."),
        ({"OMIE_APP_SECRET": None, "BUBBLE_API_TOKEN": " "}, MISSING + "OMIE_APP_SECRET, BUBBLE_API_TOKEN."),
        ({"DJANGO_ADMIN_URL": "/ops"}, "DJANGO_ADMIN_URL must be a relative path ending in '/'"),
        ({"DJANGO_CSRF_TRUSTED_ORIGINS": "http://x.example.com"}, "DJANGO_CSRF_TRUSTED_ORIGINS must be https:// origins"),
        ({"PAGARME_WEBHOOK_AUTH": ""}, "PAGARME_WEBHOOK_AUTH está vazio"),
        ({"PAGARME_WEBHOOK_AUTH": " , "}, "PAGARME_WEBHOOK_AUTH está vazio"),
        ({"PAGARME_WEBHOOK_AUTH": "rs256,hmac"}, "PAGARME_WEBHOOK_AUTH inclui hmac mas PAGARME_WEBHOOK_SECRET está vazio"),
        ({"PAGARME_WEBHOOK_AUTH": "basic"}, "PAGARME_WEBHOOK_AUTH inclui basic mas PAGARME_WEBHOOK_BASIC_AUTH não é usuário:senha"),
        ({"PAGARME_WEBHOOK_AUTH": "basic", "PAGARME_WEBHOOK_BASIC_AUTH": "semsenha"}, "PAGARME_WEBHOOK_BASIC_AUTH não é usuário:senha"),
        ({"PAGARME_WEBHOOK_AUTH": "rs256,sha1"}, "PAGARME_WEBHOOK_AUTH: unknown scheme(s) sha1"),
        ({"PAGARME_SECRET_KEY": None}, "PAGARME_CONFIRM_WITH_API está ligado mas PAGARME_SECRET_KEY está vazio"),
    ],
)
def test_a_wrong_environment_stops_start_up_with_a_clear_message(overrides, message):
    result = manage(realistic_env(**overrides), "check")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr


def test_pagarme_webhook_auth_in_production_defaults_to_rs256_and_each_listed_scheme_needs_its_secret():
    assert show(realistic_env(), "(settings.PAGARME_WEBHOOK_AUTH, settings.PAGARME_CONFIRM_WITH_API)") == "(['rs256'], True)"
    env = realistic_env(PAGARME_WEBHOOK_AUTH="rs256,basic,hmac", PAGARME_WEBHOOK_BASIC_AUTH="pagarme:" + secrets.token_hex(8),
                        PAGARME_WEBHOOK_SECRET=secrets.token_hex(16))
    assert show(env, "settings.PAGARME_WEBHOOK_AUTH") == "['rs256', 'basic', 'hmac']"


def test_pagarme_confirmation_off_starts_with_a_warning_and_needs_no_secret_key():
    result = manage(realistic_env(PAGARME_CONFIRM_WITH_API="false", PAGARME_SECRET_KEY=None), "check")
    assert result.returncode == 0, result.stderr
    assert "WARNING: PAGARME_CONFIRM_WITH_API=false" in result.stderr
    assert "PAGARME_CONFIRM_WITH_API" not in manage(realistic_env(), "check").stderr


def test_sandbox_only_needs_the_core_variables():
    integrations = ("OMIE_APP_KEY", "OMIE_APP_SECRET", "BUBBLE_BASE_URL", "BUBBLE_API_TOKEN", "PAGARME_SECRET_KEY")
    env = realistic_env(**dict.fromkeys(integrations), SANDBOX="true", SANDBOX_FORCE="true")
    result = manage(env, "check")
    assert result.returncode == 0, result.stderr


def test_a_copy_of_env_example_passes_check_deploy_as_compose_would_pass_it():
    """`cp .env.example .env` plus what compose derives (DATABASE_URL, REDIS_URL) gives a bootable configuration."""
    env = {"PATH": "/usr/bin:/bin"}
    env.update({name: line.value for name, line in env_example().items() if not line.commented})

    def interpolate(match: re.Match[str]) -> str:
        return env.get(match.group(1)) or match.group(2) or ""

    for name, value in compose()["x-app-environment"].items():
        default = re.fullmatch(r"\$\{\w+:-(.*)\}", value)
        if name not in env and default:  # ${NAME:-default}, .env's values interpolated into the default
            env[name] = re.sub(r"\$\{(\w+)(?::-([^}]*))?\}", interpolate, default.group(1))
    assert env["DATABASE_URL"] == "postgres://blu:change-me-postgres-password@postgres:5432/blu"
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
