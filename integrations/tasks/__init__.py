"""Celery tasks of the integrations app, one module per queue (config/settings/celery.py routes them
by module: ``integrations.tasks.bubble`` → the ``bubble`` queue). Importing the submodules here is what
lets ``app.autodiscover_tasks()`` (which imports ``integrations.tasks``) register them."""

from integrations.tasks import bubble, checks  # noqa: F401
