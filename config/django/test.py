"""Tests: real PostgreSQL and Redis (URLs from the environment, see scripts/devstack.py).

Celery is NOT eager here: tests that need task execution start a real worker against the real
broker (tests/conftest.py ``celery_worker_process``), because acks, retries and countdowns only
behave truthfully there. Tests use their own Redis database (TEST_REDIS_DB, default 15) so a
running `make run` is not disturbed.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

# The test settings run without DEBUG: give them a key of their own (base refuses its built-in one then).
os.environ.setdefault("DJANGO_SECRET_KEY", "test-settings-only-key-not-used-anywhere-else-0123456789")

from config.django.base import *  # noqa: F403
from config.env import env


def _with_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


TEST_REDIS_DB = env.int("TEST_REDIS_DB", default=15)
REDIS_URL = _with_db(REDIS_URL, TEST_REDIS_DB)  # noqa: F405
CELERY_BROKER_URL = REDIS_URL
# Celery reads the CELERY_BROKER_URL *environment variable* before this setting (celery.app.utils), and
# devstack exports it pointing at Redis DB 0: without this, tests would publish to (and test workers,
# which inherit the environment, consume from) DB 0, shared with `make run` and other test runs.
os.environ["CELERY_BROKER_URL"] = CELERY_BROKER_URL
CACHES["default"]["LOCATION"] = REDIS_URL  # noqa: F405

# The fake external systems are mounted; tests point the clients at a live server's /sandbox/.
SANDBOX = True
SANDBOX_FORCE = True
INSTALLED_APPS = [*INSTALLED_APPS, *(app for app in SANDBOX_APPS if app not in INSTALLED_APPS)]  # noqa: F405
# The service line as in the sandbox: the fake Omie's registered service (tests of the municipal-code
# mode override it with the settings fixture).
OMIE_SERVICE_ID = env.int("OMIE_SERVICE_ID", default=SANDBOX_OMIE_SERVICE_ID)  # noqa: F405

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
LOGGING["handlers"]["console"]["formatter"] = "text"  # noqa: F405
LOGGING["root"]["level"] = env.str("TEST_LOG_LEVEL", default="WARNING")  # noqa: F405

Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # noqa: F405 - whitenoise warns when it is missing
