"""DRF, simplejwt and drf-spectacular."""

from datetime import timedelta

from config.env import env

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["common.api.auth.ServiceAwareJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "common.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    # common/api/throttles.py: per client address on the token endpoints, per token elsewhere.
    "DEFAULT_THROTTLE_CLASSES": ["common.api.throttles.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "auth": env.str("API_AUTH_RATE", default="10/min"),
        "token": env.str("API_TOKEN_RATE", default="1200/min"),
    },
}

# https://django-rest-framework-simplejwt.readthedocs.io/en/latest/settings.html
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    # A password change revokes every token issued before it (the token carries a hash of the
    # password hash); the refresh endpoint checks it too (common.api.auth).
    "CHECK_REVOKE_TOKEN": True,
    "TOKEN_REFRESH_SERIALIZER": "common.api.auth.RevocationAwareTokenRefreshSerializer",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Blu × Omie backoffice API",
    # Swagger's page is read by whoever configures Bubble: Portuguese, and only what the page lists.
    "DESCRIPTION": ("Os endpoints que o Bubble chama: sincronização do pedido e os botões de operação. Os webhooks "
                    "(Pagar.me em /webhooks/pagarme, Omie em /webhooks/omie/<token>) não são chamados pelo Bubble e "
                    "não aparecem aqui: veja docs/pagarme.md e docs/omie_webhooks.md."),
    "VERSION": "1.0.0",
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "common.schema.add_error_responses"],
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI's files come from drf-spectacular-sidecar (this server), not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The schema and its page are for callers with a token, or staff logged into the admin.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SERVE_AUTHENTICATION": [
        "common.api.auth.ServiceAwareJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
}
