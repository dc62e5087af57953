"""A process started without DJANGO_SETTINGS_MODULE runs production, never the permissive base settings.

Second security review: gunicorn or a Celery worker started without the variable fell back to the
base settings, which accept placeholder secrets with the admin's second factor off.
"""

from __future__ import annotations

import pytest

from tests.deploy.test_production_settings import manage, realistic_env, start

ENTRY_POINTS = {
    "wsgi": "import config.wsgi",
    "asgi": "import config.asgi",
    "celery": "from config.celery import app; app.loader.import_default_modules()",
}
SHOW = "; from django.conf import settings; print('settings', settings.SETTINGS_MODULE, settings.ADMIN_REQUIRE_2FA, settings.DEBUG)"


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_an_entry_point_without_the_variable_refuses_placeholder_secrets(entry_point):
    env = realistic_env(DJANGO_SETTINGS_MODULE=None, DJANGO_SECRET_KEY="change-me-to-a-long-random-string-of-at-least-fifty-chars")
    result = start(env, ENTRY_POINTS[entry_point] + SHOW)
    assert result.returncode != 0, result.stdout
    assert "Refusing to start with weak secrets: DJANGO_SECRET_KEY (is a placeholder" in result.stderr
    assert "settings" not in result.stdout


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_an_entry_point_without_the_variable_runs_production_with_the_second_factor(entry_point):
    result = start(realistic_env(DJANGO_SETTINGS_MODULE=None, DJANGO_DEBUG="true"), ENTRY_POINTS[entry_point] + SHOW)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "settings config.django.production True False"


def test_manage_py_uses_the_base_settings_only_in_debug():
    env = realistic_env(DJANGO_SETTINGS_MODULE=None)
    code = "from django.conf import settings; print(settings.SETTINGS_MODULE)"
    assert manage(env, "shell", "-c", code).stdout.strip().splitlines()[-1] == "config.django.production"
    debug = {"PATH": env["PATH"], "DATABASE_URL": env["DATABASE_URL"], "DJANGO_DEBUG": "true"}
    assert manage(debug, "shell", "-c", code).stdout.strip().splitlines()[-1] == "config.django.base"
    placeholders = {**env, "DJANGO_SECRET_KEY": "change-me-to-a-long-random-string-of-at-least-fifty-chars"}
    result = manage(placeholders, "check")
    assert result.returncode != 0 and "DJANGO_SECRET_KEY (is a placeholder" in result.stderr
