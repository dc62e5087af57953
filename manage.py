#!/usr/bin/env python
import os
import secrets
import sys

# Commands that only read the code and the migration history: they never serve a request nor sign
# anything, so without DJANGO_SECRET_KEY they get a random key of this process (never the public
# built-in one). Every other command refuses to start without a key unless DJANGO_DEBUG=true
# (config/django/base.py).
CODE_ONLY_COMMANDS = {"makemigrations", "showmigrations", "sqlmigrate"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.django.base")
    if len(sys.argv) > 1 and sys.argv[1] in CODE_ONLY_COMMANDS:
        os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
