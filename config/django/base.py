"""Django settings shared by every environment.

Everything is configured here from the environment (docs/contract.md#configuration); ``production.py`` only refuses to
start without the required values and hardens HTTP. The non-Django parts (Celery, DRF, logging,
Sentry, the external systems) live in ``config/settings/*`` and are star-imported at the end.
"""

from datetime import timedelta
from importlib.util import find_spec

from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import BASE_DIR, env
from config.secret_rules import DEV_SECRET_KEY

# GENERAL
# ------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# The built-in key is public (it is in this file): only a DEBUG process may run with it. A process
# started without DJANGO_SETTINGS_MODULE runs these settings, so it must not quietly sign sessions
# and tokens with a key anyone can read; production.py also refuses weak keys.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is not set: the built-in development key is only allowed with DJANGO_DEBUG=true.")
    SECRET_KEY = DEV_SECRET_KEY
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])

# https://docs.djangoproject.com/en/5.2/topics/i18n/
TIME_ZONE = "America/Sao_Paulo"
USE_TZ = True
# Always pt-BR (docs/backoffice.md): no LocaleMiddleware, so a browser set to English still gets the
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
# django-prometheus' wrapper of the same backend: query counts, errors and latency per connection.
DATABASES["default"]["ENGINE"] = "django_prometheus.db.backends.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# REDIS (broker, shared throttle state, caches)
# ------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        # Django's RedisCache with hit/miss counters (django-prometheus).
        "BACKEND": "common.metrics.cache.InstrumentedRedisCache",
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
    # PostgreSQL's index operator classes (the order search's trigram index: orders/models.py).
    "django.contrib.postgres",
    # django.contrib.admin with the TOTP login (common/admin_site.py)
    "common.admin_apps.BluAdminConfig",
]
THIRD_PARTY_APPS = [
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served from here (no CDN)
    "csp",
    "django_celery_beat",
    "django_celery_results",
]
LOCAL_APPS = [
    "common",
    "common.twofa",  # the admin's second factor: enrolment page, recovery codes (common/admin_site.py)
    "common.api",  # the API's plumbing: service tokens, idempotency keys (common/api/)
    "integrations",
    "integrations.omie",
    "integrations.bubble",
    "integrations.brasilapi",
    "integrations.pagarme",
    "orders",
    "billing",
]
# The sandbox (the top-level sandbox/ package): the fake Omie, Bubble and BrasilAPI, and the sandbox's own
# commands (seed, demo flow, the fake Omie's webhook sender). Installed only in sandbox mode (`make run`, a
# demo server) and in the tests (test.py), so a production database never gets their tables; the production
# image does not even contain the package (.dockerignore).
SANDBOX_APPS = [
    "sandbox",
    "sandbox.fake_omie",
    "sandbox.fake_bubble",
    "sandbox.fake_brasilapi",
]
if env.bool("SANDBOX", default=False):
    if find_spec("sandbox") is None:
        raise ImproperlyConfigured("SANDBOX=true, but this tree has no sandbox/ package (the production image does not "
                                   "contain it, .dockerignore): run the sandbox from a checkout.")
    LOCAL_APPS += SANDBOX_APPS
# The ops interface comes first: its templates/admin overrides (the order pages, the index) must win over
# django.contrib.admin's.
INSTALLED_APPS = ["backoffice", *DJANGO_APPS, *THIRD_PARTY_APPS, *LOCAL_APPS]

# AUTHENTICATION
# ------------------------------------------------------------------------------
# django-axes first: it refuses a locked-out user+address before the password is even checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
# The proxies whose X-Forwarded-For is believed (addresses or CIDRs; common/client_ip.py): none here,
# so a development server uses the peer's address; production trusts nginx (DJANGO_TRUSTED_PROXIES there).
TRUSTED_PROXIES: list[str] = []
# https://django-axes.readthedocs.io/en/latest/4_configuration.html
# After AXES_FAILURE_LIMIT wrong passwords for one username from one address (admin login or
# /v1/auth/token/), that pair is locked out for AXES_COOLOFF_MINUTES; a superuser unlocks it sooner
# (docs/security.md). A success resets the count.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The lockout page in Portuguese, in the admin's look (templates/admin/lockout.html); the
# messages for the other callers (the API's token endpoint answers its own envelope).
AXES_LOCKOUT_TEMPLATE = "admin/lockout.html"
AXES_COOLOFF_MESSAGE = "Acesso bloqueado: muitas tentativas de login erradas. Tente de novo mais tarde."
AXES_PERMALOCK_MESSAGE = "Acesso bloqueado: muitas tentativas de login erradas. Peça a um administrador para desbloquear."
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "common.client_ip.client_ip"
AXES_VERBOSE = False
# TOTP second factor at the admin login for every staff user (common/admin_site.py, docs/security.md);
# production turns it on (ADMIN_REQUIRE_2FA there, default true); development and the sandbox leave it off.
ADMIN_REQUIRE_2FA = False
OTP_TOTP_ISSUER = "Blu backoffice"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# MIDDLEWARE
# ------------------------------------------------------------------------------
MIDDLEWARE = [
    # First and last: django-prometheus' request counts and latencies (docs/observability.md).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "common.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "common.middleware.BodySizeLimitMiddleware",
    # A NUL in the path or query string: 400 before any view (PostgreSQL text cannot hold it).
    "common.middleware.NulCharacterMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "common.session_timeout.SessionTimeoutMiddleware",
    "common.principal.PrincipalMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: answers a locked-out login (admin or API) with 429.
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

# The API's body limit (docs/contract.md#http-api, nginx's client_max_body_size matches it).
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
        # The site-wide templates (templates/): the admin's frame and login, the 403/404/500 and lockout
        # pages. Searched before the apps' templates/, so their admin/ overrides win over Django's.
        "DIRS": [BASE_DIR / "templates"],
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
# Admin sessions: 8 h from login at most, 1 h without a request (common/session_timeout.py).
SESSION_ABSOLUTE_SECONDS = env.int("SESSION_ABSOLUTE_SECONDS", default=8 * 3600)
SESSION_IDLE_SECONDS = env.int("SESSION_IDLE_SECONDS", default=3600)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_SECONDS
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): everything from this origin only, no inline script or style,
# no plugins, no framing. The admin, the dashboard and /v1/docs/ (Swagger UI from
# drf-spectacular-sidecar, its start-up script as a file) work under it (tests/security/test_csp.py
# checks in Chromium that no page logs a violation). img-src allows data: (the admin's and Swagger
# UI's inline SVG icons).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
SECURE_CONTENT_TYPE_NOSNIFF = True

from config.settings.celery import *  # noqa: E402,F403
from config.settings.drf import *  # noqa: E402,F403
from config.settings.integrations import *  # noqa: E402,F403
from config.settings.logging import *  # noqa: E402,F403
from config.settings.metrics import *  # noqa: E402,F403
from config.settings.nfse_documents import *  # noqa: E402,F403
from config.settings.sentry import *  # noqa: E402,F403

STORAGES["nfse_documents"] = NFSE_DOCUMENTS_STORAGE  # noqa: F405 - the PDF/XML of every NFS-e

# API tokens are signed with their own key, so a leaked SECRET_KEY is not an API takeover
# (production.py requires JWT_SIGNING_KEY; elsewhere it falls back to SECRET_KEY).
SIMPLE_JWT["SIGNING_KEY"] = env.str("JWT_SIGNING_KEY", default="") or SECRET_KEY  # noqa: F405

# The fake external systems answer like Omie, Bubble and Pagar.me: a server without DEBUG refuses
# them at start-up unless SANDBOX_FORCE=true (production.py adds: never with the public secrets).
if SANDBOX and not (DEBUG or SANDBOX_FORCE):  # noqa: F405
    raise ImproperlyConfigured("SANDBOX=true with DEBUG off: set SANDBOX_FORCE=true if you really mean it.")
