"""The one place settings read the environment (django-environ).

Every module does ``from config.env import env, BASE_DIR``. Nothing else reads ``os.environ`` for
configuration, so ``.env.example`` can list every variable the project knows.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

# A local `.env` is read only when asked for, so a stray file never overrides a deployment's
# real environment (cookiecutter-django's DJANGO_READ_DOT_ENV_FILE rule).
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=False):
    environ.Env.read_env(str(BASE_DIR / ".env"))
