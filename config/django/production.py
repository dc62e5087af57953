"""Production: the base settings, values required from the environment, HTTP hardened.

Start-up stops with one message naming every missing variable, instead of failing later on the
first request that needs it. ``manage.py check --deploy`` is clean with these settings
(tests/deploy/test_check_deploy.py).
"""

import re

from django.core.exceptions import ImproperlyConfigured

from common.client_ip import parse_networks
from config.env import env
from config.secret_rules import SANDBOX_SECRET_SCHEME, SANDBOX_SECRETS, weak_secrets

# The deployment files (.env.example, docker-compose.yml) are checked against these two lists by
# tests/deploy/test_env_files.py, so keep them literal tuples.
REQUIRED_VARIABLES = ("DJANGO_SECRET_KEY", "JWT_SIGNING_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL")
# Pagar.me's variables depend on PAGARME_WEBHOOK_AUTH and PAGARME_CONFIRM_WITH_API: checked below.
REQUIRED_UNLESS_SANDBOX = ("OMIE_APP_KEY", "OMIE_APP_SECRET", "BUBBLE_BASE_URL", "BUBBLE_API_TOKEN")


def _missing_required() -> list[str]:
    required = list(REQUIRED_VARIABLES)
    if not env.bool("SANDBOX", default=False):
        required += REQUIRED_UNLESS_SANDBOX
    return [name for name in required if not env.str(name, default="").strip()]


_missing = _missing_required()
if _missing:
    raise ImproperlyConfigured(
        "Missing required environment variables for production: " + ", ".join(_missing) + ". See .env.example."
    )

# Placeholders (change-me…), values shipped in this repository and short secrets: refused, each named.
_weak = weak_secrets(lambda name: env.str(name, default="").strip())
if env.str("JWT_SIGNING_KEY", default="").strip() == env.str("DJANGO_SECRET_KEY").strip():
    _weak.append("JWT_SIGNING_KEY (must differ from DJANGO_SECRET_KEY)")
if _weak:
    raise ImproperlyConfigured(
        "Refusing to start with weak secrets: " + "; ".join(_weak) + ". Generate each with "
        "python -c \"import secrets; print(secrets.token_urlsafe(50))\"."
    )

# The fakes are refused here at load (not on the first request) unless explicitly forced.
if env.bool("SANDBOX", default=False) and not env.bool("SANDBOX_FORCE", default=False):
    raise ImproperlyConfigured("SANDBOX=true under production settings: set SANDBOX_FORCE=true if you really mean it.")

from config.django.base import *  # noqa: E402,F403
from config.django.base import ADMIN_URL, ALLOWED_HOSTS, OMIE_WEBHOOK_TOKEN, OMIE_WEBHOOK_TOKEN_PREVIOUS, OMIE_WEBHOOKS  # noqa: E402
from config.settings import integrations as _pagarme  # noqa: E402

# PAGAR.ME WEBHOOKS (docs/pagarme.md)
# ------------------------------------------------------------------------------
_pagarme_problems = _pagarme.pagarme_webhook_auth_problems(
    _pagarme.PAGARME_WEBHOOK_AUTH, secret=_pagarme.PAGARME_WEBHOOK_SECRET, basic=_pagarme.PAGARME_WEBHOOK_BASIC_AUTH
)
if _pagarme.PAGARME_CONFIRM_WITH_API and not _pagarme.PAGARME_SECRET_KEY.strip():
    _pagarme_problems.append("PAGARME_CONFIRM_WITH_API está ligado mas PAGARME_SECRET_KEY está vazio")
# The JWKS decides which webhooks are genuine and the API which payments are real: over plain http anyone
# on the path could serve their own keys or their own "paid" charge. Only a (forced) sandbox may use http.
if not env.bool("SANDBOX", default=False):
    from urllib.parse import urlsplit

    for _name in ("PAGARME_JWKS_URL", "PAGARME_API_BASE_URL"):
        _url = urlsplit(str(getattr(_pagarme, _name)).strip())
        if _url.scheme != "https" or not _url.hostname:
            _pagarme_problems.append(f"{_name} deve ser uma URL https:// (recebido {_url.scheme or 'sem esquema'}://…)")
if _pagarme_problems:
    raise ImproperlyConfigured("Pagar.me: " + "; ".join(_pagarme_problems) + ". See .env.example.")
if not _pagarme.PAGARME_CONFIRM_WITH_API:
    import sys

    print("WARNING: PAGARME_CONFIRM_WITH_API=false: webhook payments are applied from the body alone, "
          "without reading the charge back from Pagar.me's API.", file=sys.stderr)

DEBUG = False

# Even a forced sandbox never runs with the sandbox's public credentials (a webhook signed with
# them would be accepted): each must be set to a value of this deployment's own.
_public = [
    name for name, shipped in SANDBOX_SECRETS.items()
    if globals().get(name) == shipped and SANDBOX_SECRET_SCHEME.get(name, "") in ("", *_pagarme.PAGARME_WEBHOOK_AUTH)
]
if _public:
    raise ImproperlyConfigured(
        "Refusing the sandbox's public secrets under production settings: set " + ", ".join(_public) + " to random values."
    )

# OMIE SERVICE LINE (docs/omie.md#the-service-line)
# ------------------------------------------------------------------------------
# Omie documents cCodServMun and cTribServ as mandatory on every service line unless nCodServico is
# sent: with neither configured, every IncluirOS would be refused, so refuse to start instead.
from config.settings.integrations import OMIE_SERVICE_ID, OMIE_SERVICE_MUNICIPAL_CODE  # noqa: E402

if not OMIE_SERVICE_ID and not OMIE_SERVICE_MUNICIPAL_CODE.strip():
    raise ImproperlyConfigured(
        "Omie: set OMIE_SERVICE_ID (recommended: the id of the service registered in Omie, sent as nCodServico) "
        "or OMIE_SERVICE_MUNICIPAL_CODE (the municipal service code, sent as cCodServMun with OMIE_SERVICE_TAXATION). "
        "Every OS service line needs one of them. See .env.example."
    )

# URLS
# ------------------------------------------------------------------------------
# A wrong value would silently move the admin (or break every URL), so refuse it at start-up.
if not re.fullmatch(r"[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*/", ADMIN_URL):
    raise ImproperlyConfigured(f"DJANGO_ADMIN_URL must be a relative path ending in '/', e.g. 'ops-7f3a/' (got {ADMIN_URL!r}).")

# Omie webhooks: the URL's token is their only authentication, so a short or missing one is refused.
_webhook_tokens = [OMIE_WEBHOOK_TOKEN] + ([OMIE_WEBHOOK_TOKEN_PREVIOUS] if OMIE_WEBHOOK_TOKEN_PREVIOUS else [])
if OMIE_WEBHOOKS and any(len(token.strip()) < 32 for token in _webhook_tokens):
    raise ImproperlyConfigured("OMIE_WEBHOOKS=true needs OMIE_WEBHOOK_TOKEN (and OMIE_WEBHOOK_TOKEN_PREVIOUS, when set) of at least "
                               "32 random characters.")

# SECURITY
# ------------------------------------------------------------------------------
# nginx (or the TLS terminator in front of it) sets X-Forwarded-Proto; nginx overwrites whatever the
# client sent, so the header can be trusted here.
# https://docs.djangoproject.com/en/5.2/ref/settings/#secure-proxy-ssl-header
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# The health endpoints are probed over plain HTTP inside the compose network.
SECURE_REDIRECT_EXEMPT = [r"^health/"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# https://docs.djangoproject.com/en/5.2/ref/middleware/#http-strict-transport-security
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Every staff user logs into the admin with a TOTP code; the first login enrols it (docs/security.md).
ADMIN_REQUIRE_2FA = env.bool("ADMIN_REQUIRE_2FA", default=True)
# X-Forwarded-For is believed only from these peers (common/client_ip.py): nginx, which overwrites the
# header with the address it saw. The default is the loopback and private ranges (nginx's address on
# the compose network); a client reaching gunicorn directly from the internet is not among them, so its
# own X-Forwarded-For is ignored. Narrow it to nginx's address when the private network is shared.
TRUSTED_PROXIES = env.list(
    "DJANGO_TRUSTED_PROXIES", default=["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]
)
try:
    _trusted_networks = parse_networks(TRUSTED_PROXIES)
except ValueError as _exc:
    raise ImproperlyConfigured(f"DJANGO_TRUSTED_PROXIES: {_exc}.") from None
if any(network.prefixlen == 0 for network in _trusted_networks):
    raise ImproperlyConfigured("DJANGO_TRUSTED_PROXIES must not trust every address (0.0.0.0/0 or ::/0): any client could "
                               "then choose its own address.")


def _https_origins(hosts: list[str]) -> list[str]:
    """The admin's own origins: ``https://`` + every allowed host (``.example.com`` → ``https://*.example.com``)."""
    origins = []
    for host in hosts:
        if host in {"*", ""}:
            continue
        origins.append(f"https://*{host}" if host.startswith(".") else f"https://{host}")
    return origins


# Django already trusts a same-host HTTPS origin; listing the allowed hosts also covers a TLS
# terminator that rewrites Host. Plain-http origins are refused: every cookie here is Secure.
# https://docs.djangoproject.com/en/5.2/ref/settings/#csrf-trusted-origins
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=_https_origins(ALLOWED_HOSTS))
_insecure_origins = [origin for origin in CSRF_TRUSTED_ORIGINS if not origin.startswith("https://")]
if _insecure_origins:
    raise ImproperlyConfigured(f"DJANGO_CSRF_TRUSTED_ORIGINS must be https:// origins (got {', '.join(_insecure_origins)}).")
