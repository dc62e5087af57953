"""Which settings a process loads when ``DJANGO_SETTINGS_MODULE`` is not set.

Second security review: a gunicorn, uvicorn or Celery process started without the variable ran the
base settings, which accept placeholder secrets and leave the admin's second factor off. So the
server entry points (config/wsgi.py, config/asgi.py, config/celery.py) default to production, which
refuses to start without its real values; only ``manage.py`` on a developer's machine
(``DJANGO_DEBUG=true``) or a code-only command (makemigrations…) falls back to the base settings
(manage.py decides that itself: importing this package starts the Celery app, which calls
``server_default``).
An explicit ``DJANGO_SETTINGS_MODULE`` always wins (the containers, devstack and the tests set it).
"""

from __future__ import annotations

import os

PRODUCTION = "config.django.production"


def server_default() -> None:
    """For wsgi, asgi and Celery: production unless the environment names other settings."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", PRODUCTION)
