"""Production: the base settings, values required from the environment, HTTP hardened.

Start-up stops with one message naming every missing variable, instead of failing later on the
first request that needs it.
"""

from django.core.exceptions import ImproperlyConfigured

from config.env import env


def _missing_required() -> list[str]:
    required = ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"]
    if not env.bool("SANDBOX", default=False):
        required += ["OMIE_APP_KEY", "OMIE_APP_SECRET", "BUBBLE_BASE_URL", "BUBBLE_API_TOKEN", "PAGARME_WEBHOOK_SECRET"]
    return [name for name in required if not env.str(name, default="").strip()]


_missing = _missing_required()
if _missing:
    raise ImproperlyConfigured(
        "Missing required environment variables for production: " + ", ".join(_missing) + ". See .env.example."
    )

from config.django.base import *  # noqa: E402,F403

DEBUG = False

# SECURITY
# ------------------------------------------------------------------------------
# nginx terminates TLS and sets X-Forwarded-Proto.
# https://docs.djangoproject.com/en/5.2/ref/settings/#secure-proxy-ssl-header
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# The health endpoints are probed over plain HTTP inside the compose network.
SECURE_REDIRECT_EXEMPT = [r"^health/"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
