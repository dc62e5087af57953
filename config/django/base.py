"""Django settings shared by every environment.

Everything is configured here from the environment (SPEC §9); ``production.py`` only refuses to
start without the required values and hardens HTTP. The non-Django parts (Celery, DRF, logging,
Sentry, the external systems) live in ``config/settings/*`` and are star-imported at the end.
"""

from django.utils.translation import gettext_lazy as _

from config.env import BASE_DIR, env

# GENERAL
# ------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# An unset key is only acceptable in development; production.py refuses to start without one.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="insecure-development-only-key-change-me-0123456789abcdef")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])

# https://docs.djangoproject.com/en/5.2/topics/i18n/
TIME_ZONE = "America/Sao_Paulo"
USE_TZ = True
# Always pt-BR (SPEC §12): no LocaleMiddleware, so a browser set to English still gets the
# backoffice, the dates and the API's messages in the language ops and Bubble read.
LANGUAGE_CODE = "pt-br"
LANGUAGES = [("pt-br", _("Português (Brasil)")), ("en", _("English"))]
USE_I18N = True
LOCALE_PATHS = [BASE_DIR / "locale"]

# DATABASES
# ------------------------------------------------------------------------------
# https://django-environ.readthedocs.io/en/latest/types.html#environ-env-db-url
DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/blu_omie")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False  # services open their own transactions, explicitly
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# REDIS (broker, shared throttle state, caches)
# ------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "blu",
    }
}

# URLS
# ------------------------------------------------------------------------------
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
# The admin can live under another path in production (DJANGO_ADMIN_URL, e.g. "ops-7f3a/").
ADMIN_URL = env.str("DJANGO_ADMIN_URL", default="admin/")

# APPS
# ------------------------------------------------------------------------------
DJANGO_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.admin",
]
THIRD_PARTY_APPS = [
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "django_celery_beat",
    "django_celery_results",
]
LOCAL_APPS = [
    "common",
    "integrations",
    "integrations.omie",
    "integrations.bubble",
    "integrations.brasilapi",
    "integrations.pagarme",
    "orders",
    "billing",
]
# The fake Omie, Bubble and BrasilAPI: installed only in sandbox mode (`make run`, a demo server) and in
# the tests (test.py), so a production database never gets their tables.
SANDBOX_APPS = [
    "integrations.sandbox.fake_omie",
    "integrations.sandbox.fake_bubble",
    "integrations.sandbox.fake_brasilapi",
]
if env.bool("SANDBOX", default=False):
    LOCAL_APPS += SANDBOX_APPS
# The ops interface comes first: its templates/admin overrides must win over django.contrib.admin's.
INSTALLED_APPS = ["backoffice", *DJANGO_APPS, *THIRD_PARTY_APPS, *LOCAL_APPS]

# AUTHENTICATION
# ------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# MIDDLEWARE
# ------------------------------------------------------------------------------
MIDDLEWARE = [
    "common.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "common.middleware.BodySizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# The API's body limit (SPEC §7, nginx's client_max_body_size matches it).
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES

# STATIC
# ------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "var" / "static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# EXPORTS (admin "Exportar": files on disk, never in the database)
# ------------------------------------------------------------------------------
EXPORTS_ROOT = env.str("EXPORTS_ROOT", default=str(BASE_DIR / "var" / "exports"))
# Up to this many rows the file is written during the request; above it a Celery task writes it.
EXPORT_ASYNC_THRESHOLD = env.int("EXPORT_ASYNC_THRESHOLD", default=3000)
EXPORT_TTL_HOURS = env.int("EXPORT_TTL_HOURS", default=72)

# TEMPLATES
# ------------------------------------------------------------------------------
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SECURITY (hardened further in production.py)
# ------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

from config.settings.celery import *  # noqa: E402,F403
from config.settings.drf import *  # noqa: E402,F403
from config.settings.integrations import *  # noqa: E402,F403
from config.settings.logging import *  # noqa: E402,F403
from config.settings.sentry import *  # noqa: E402,F403
