#!/usr/bin/env python
import os
import secrets
import sys

# Commands that only read the code and the migration history: they never serve a request nor sign
# anything, so without DJANGO_SECRET_KEY they get a random key of this process (never the public
# built-in one). Every other command refuses to start without a key unless DJANGO_DEBUG=true
# (config/django/base.py).
CODE_ONLY_COMMANDS = {"makemigrations", "showmigrations", "sqlmigrate"}


# django-environ's true values (config/env.py is not imported here: importing the config package
# starts the Celery app, whose entry point defaults to production).
TRUE_VALUES = {"true", "on", "ok", "y", "yes", "1"}


def default_settings(*, code_only: bool) -> str:
    """Without DJANGO_SETTINGS_MODULE: production, like the server entry points (config/settings_module.py);
    the base settings only on a developer's machine (DJANGO_DEBUG=true) or for a code-only command."""
    debug = os.environ.get("DJANGO_DEBUG", "").strip().lower() in TRUE_VALUES
    return "config.django.base" if debug or code_only else "config.django.production"


def main() -> None:
    code_only = len(sys.argv) > 1 and sys.argv[1] in CODE_ONLY_COMMANDS
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", default_settings(code_only=code_only))
    if code_only:
        os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
