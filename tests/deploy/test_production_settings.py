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
        "JWT_SIGNING_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "backoffice.example.com",
        "DJANGO_ADMIN_URL": "ops-7f3a/",
        "DATABASE_URL": "postgres://blu:pw@postgres:5432/blu",
        "REDIS_URL": "redis://redis:6379/0",
        "OMIE_APP_KEY": "1234567890",
        "OMIE_APP_SECRET": secrets.token_hex(16),
        "OMIE_SERVICE_ID": "2480000001",
        "BUBBLE_BASE_URL": "https://blu.bubbleapps.io/api/1.1",
        "BUBBLE_API_TOKEN": secrets.token_hex(16),
        "PAGARME_SECRET_KEY": "sk_" + secrets.token_hex(16),
        "OMIE_WEBHOOK_TOKEN": secrets.token_hex(20),
        "FLOWER_URL": "https://backoffice.example.com/flower/",
    }
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def start(env: dict[str, str], code: str = "import django; django.setup(); print('started')") -> subprocess.CompletedProcess[str]:
    """What every process does first (gunicorn's wsgi, celery, manage.py): load the settings and the apps."""
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


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
        ({"PAGARME_WEBHOOK_AUTH": "basic", "PAGARME_WEBHOOK_BASIC_AUTH": "usuario-sem-senha-" + "x" * 16},
         "PAGARME_WEBHOOK_BASIC_AUTH não é usuário:senha"),
        ({"PAGARME_WEBHOOK_AUTH": "rs256,sha1"}, "PAGARME_WEBHOOK_AUTH: unknown scheme(s) sha1"),
        ({"PAGARME_SECRET_KEY": None}, "PAGARME_CONFIRM_WITH_API está ligado mas PAGARME_SECRET_KEY está vazio"),
        ({"OMIE_SERVICE_ID": None}, "Omie: set OMIE_SERVICE_ID (recommended"),
        ({"OMIE_SERVICE_ID": "0", "OMIE_SERVICE_MUNICIPAL_CODE": " "}, "Every OS service line needs one of them"),
    ],
)
def test_a_wrong_environment_stops_start_up_with_a_clear_message(overrides, message):
    result = manage(realistic_env(**overrides), "check")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr


def test_the_service_line_may_come_from_the_municipal_code_alone():
    env = realistic_env(OMIE_SERVICE_ID=None, OMIE_SERVICE_MUNICIPAL_CODE="01015")
    expression = "(settings.OMIE_SERVICE_ID, settings.OMIE_SERVICE_MUNICIPAL_CODE, settings.OMIE_SERVICE_TAXATION)"
    assert show(env, expression) == "(0, '01015', '01')"
    assert show(realistic_env(), "settings.OMIE_SERVICE_ID") == "2480000001"


def test_pagarme_webhook_auth_in_production_defaults_to_rs256_and_each_listed_scheme_needs_its_secret():
    assert show(realistic_env(), "(settings.PAGARME_WEBHOOK_AUTH, settings.PAGARME_CONFIRM_WITH_API)") == "(['rs256'], True)"
    env = realistic_env(PAGARME_WEBHOOK_AUTH="rs256,basic,hmac", PAGARME_WEBHOOK_BASIC_AUTH="pagarme:" + secrets.token_hex(16),
                        PAGARME_WEBHOOK_SECRET=secrets.token_hex(16))
    assert show(env, "settings.PAGARME_WEBHOOK_AUTH") == "['rs256', 'basic', 'hmac']"


@pytest.mark.parametrize(("name", "url"), [
    ("PAGARME_JWKS_URL", "http://hubapi.pagar.me/.well-known/jwks.json"),
    ("PAGARME_API_BASE_URL", "http://api.pagar.me/core/v5"),
    ("PAGARME_API_BASE_URL", "https:///core/v5"),
    ("PAGARME_JWKS_URL", "hubapi.pagar.me/.well-known/jwks.json"),
])
def test_pagarme_jwks_and_api_urls_must_be_https_outside_the_sandbox(name, url):
    result = manage(realistic_env(**{name: url}), "check")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and f"{name} deve ser uma URL https://" in result.stderr
    # A forced sandbox talks to its own fakes over http.
    assert manage(realistic_env(**{name: url}, SANDBOX="true", SANDBOX_FORCE="true"), "check").returncode == 0
    # The https defaults start.
    assert show(realistic_env(), "(settings.PAGARME_JWKS_URL, settings.PAGARME_API_BASE_URL)") == (
        "('https://hubapi.pagar.me/.well-known/jwks.json', 'https://api.pagar.me/core/v5')")


def test_pagarme_confirmation_off_starts_with_a_warning_and_needs_no_secret_key():
    result = manage(realistic_env(PAGARME_CONFIRM_WITH_API="false", PAGARME_SECRET_KEY=None), "check")
    assert result.returncode == 0, result.stderr
    assert "WARNING: PAGARME_CONFIRM_WITH_API=false" in result.stderr
    assert "PAGARME_CONFIRM_WITH_API" not in manage(realistic_env(), "check").stderr


def test_a_forced_sandbox_needs_only_the_core_variables_but_never_the_sandbox_public_secrets():
    env = realistic_env(**dict.fromkeys(("OMIE_APP_KEY", "BUBBLE_BASE_URL")), SANDBOX="true", SANDBOX_FORCE="true")
    result = manage(env, "check")
    assert result.returncode == 0, result.stderr
    # Before: the sandbox's defaults (public, in this repository) were used and a webhook signed with
    # "sandbox-pagarme-secret" was accepted by a forced-sandbox server.
    public = ("OMIE_APP_SECRET", "BUBBLE_API_TOKEN", "PAGARME_WEBHOOK_SECRET", "PAGARME_WEBHOOK_BASIC_AUTH", "OMIE_WEBHOOK_TOKEN")
    env = realistic_env(**dict.fromkeys(public), SANDBOX="true", SANDBOX_FORCE="true", PAGARME_WEBHOOK_AUTH="rs256,basic,hmac")
    result = manage(env, "check")
    assert result.returncode != 0
    assert "Refusing the sandbox's public secrets under production settings: set OMIE_APP_SECRET, BUBBLE_API_TOKEN, " \
           "PAGARME_WEBHOOK_SECRET, PAGARME_WEBHOOK_BASIC_AUTH, OMIE_WEBHOOK_TOKEN to random values." in result.stderr


def test_sandbox_without_force_is_refused_at_settings_load():
    """Before: production started and every request then answered 500 (the refusal was in urls.py)."""
    result = start(realistic_env(SANDBOX="true"))
    assert result.returncode != 0
    assert "SANDBOX=true under production settings: set SANDBOX_FORCE=true" in result.stderr
    assert "started" not in result.stdout


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        # .env.example's placeholders
        ({"DJANGO_SECRET_KEY": "change-me-to-a-long-random-string-of-at-least-fifty-characters-0123456789"},
         "DJANGO_SECRET_KEY (is a placeholder (starts with 'change-me'))"),
        ({"PAGARME_WEBHOOK_SECRET": "change-me-pagarme-webhook-secret"}, "PAGARME_WEBHOOK_SECRET (is a placeholder"),
        ({"OMIE_APP_KEY": "change-me-omie-app-key"}, "OMIE_APP_KEY (is a placeholder"),
        # values shipped in the repository
        ({"DJANGO_SECRET_KEY": "insecure-development-only-key-change-me-0123456789abcdef"}, "DJANGO_SECRET_KEY (is a value shipped"),
        ({"PAGARME_WEBHOOK_SECRET": "sandbox-pagarme-secret"}, "PAGARME_WEBHOOK_SECRET (is a value shipped in the repository)"),
        ({"BUBBLE_API_TOKEN": "sandbox-bubble-token"}, "BUBBLE_API_TOKEN (is a value shipped in the repository)"),
        # too short
        ({"DJANGO_SECRET_KEY": "x" * 49}, "DJANGO_SECRET_KEY (is shorter than 50 characters)"),
        ({"JWT_SIGNING_KEY": "j" * 30}, "JWT_SIGNING_KEY (is shorter than 50 characters)"),
        ({"OMIE_APP_SECRET": "s" * 23}, "OMIE_APP_SECRET (is shorter than 24 characters)"),
        # the JWT key is its own secret
        ({"DJANGO_SECRET_KEY": "k" * 60, "JWT_SIGNING_KEY": "k" * 60}, "JWT_SIGNING_KEY (must differ from DJANGO_SECRET_KEY)"),
    ],
)
def test_weak_secrets_stop_start_up_naming_the_variable(overrides, named):
    result = manage(realistic_env(**overrides), "check", "--deploy")
    assert result.returncode != 0
    assert "Refusing to start with weak secrets: " in result.stderr and named in result.stderr
    for value in overrides.values():
        if "change-me" not in value and "sandbox" not in value:
            assert value not in result.stderr  # the message names the variable, never the value


def test_the_jwt_signing_key_is_required_and_used_for_the_api_tokens():
    result = manage(realistic_env(JWT_SIGNING_KEY=None), "check")
    assert result.returncode != 0 and MISSING + "JWT_SIGNING_KEY." in result.stderr
    env = realistic_env()
    assert show(env, "settings.SIMPLE_JWT['SIGNING_KEY'] == settings.SECRET_KEY") == "False"
    assert show(env, "settings.SIMPLE_JWT['SIGNING_KEY']") == env["JWT_SIGNING_KEY"]


def test_the_built_in_key_is_only_allowed_with_debug():
    """Without DJANGO_SETTINGS_MODULE the processes ran the base settings: before, with a public key.
    Now they run production (tests/deploy/test_settings_module.py), which refuses to start without a key."""
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": "postgres://blu:pw@postgres:5432/blu"}
    refusal = "Missing required environment variables for production: DJANGO_SECRET_KEY"
    for entry_point in ("import config.wsgi", "from config.celery import app; app.loader.import_default_modules()"):
        result = start(env, entry_point + "; print('started')")
        assert result.returncode != 0 and refusal in result.stderr, entry_point
        assert "started" not in result.stdout
    result = manage(env, "check")
    assert result.returncode != 0 and refusal in result.stderr
    base = {**env, "DJANGO_SETTINGS_MODULE": "config.django.base"}
    result = manage(base, "check")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set: the built-in development key is only allowed with DJANGO_DEBUG=true." in result.stderr
    assert show({**env, "DJANGO_DEBUG": "true"}, "settings.SECRET_KEY.startswith('insecure-development-only')") == "True"


def test_code_only_commands_run_without_a_key_and_never_with_the_public_one():
    """makemigrations reads code, serves nothing, signs nothing: it runs with a random key of its own."""
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": "postgres://postgres@127.0.0.1:1/nothing"}
    result = manage(env, "makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout
    result = manage(env, "migrate", "--plan")  # a command that changes things still refuses (production's settings)
    assert result.returncode != 0 and "Missing required environment variables for production: DJANGO_SECRET_KEY" in result.stderr


def test_a_copy_of_env_example_is_refused_until_its_secrets_are_replaced():
    """`cp .env.example .env` plus what compose derives (DATABASE_URL, REDIS_URL): refused while the
    placeholders stay (before, it started and a JWT forged with the placeholder key was accepted);
    with real secrets it passes check --deploy."""
    env = {"PATH": "/usr/bin:/bin"}
    env.update({name: line.value for name, line in env_example().items() if not line.commented})

    def interpolate(match: re.Match[str]) -> str:
        return env.get(match.group(1)) or match.group(2) or ""

    for name, value in compose()["x-app-environment"].items():
        default = re.fullmatch(r"\$\{\w+:-(.*)\}", value)
        if name not in env and default:  # ${NAME:-default}, .env's values interpolated into the default
            env[name] = re.sub(r"\$\{(\w+)(?::-([^}]*))?\}", interpolate, default.group(1))
    assert env["DATABASE_URL"] == "postgres://blu_app:change-me-postgres-app-password@postgres:5432/blu"
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    for name in ("DJANGO_SECRET_KEY", "JWT_SIGNING_KEY", "OMIE_APP_KEY", "OMIE_APP_SECRET", "BUBBLE_API_TOKEN", "PAGARME_SECRET_KEY"):
        assert f"{name} (is a placeholder" in result.stderr, name
    for name in ("DJANGO_SECRET_KEY", "JWT_SIGNING_KEY"):
        env[name] = secrets.token_urlsafe(50)
    for name in ("OMIE_APP_SECRET", "BUBBLE_API_TOKEN"):
        env[name] = secrets.token_hex(16)
    env["PAGARME_SECRET_KEY"] = "sk_" + secrets.token_hex(16)
    env["OMIE_APP_KEY"] = "1234567890"
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0 and "Omie: set OMIE_SERVICE_ID" in result.stderr  # the service line is not optional
    env["OMIE_SERVICE_ID"] = "2480000001"
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
