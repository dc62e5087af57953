"""JSON logs with the request id, and personal data masked (SPEC §10). Every line's time is UTC in
ISO 8601 with its offset (common.logging.utc_timestamp): web, worker, beat and gunicorn's own lines
(config/gunicorn.py) alike."""

from config.env import env

LOG_LEVEL = env.str("DJANGO_LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="json")  # "json" or "text"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "common.logging.RequestIdFilter"},
        "redact": {"()": "common.logging.RedactFilter"},
    },
    "formatters": {
        "json": {
            "()": "common.logging.UtcJsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"()": "common.logging.UtcFormatter", "format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id", "redact"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}

# gunicorn's own loggers (its error log and the access log) through the same handler, so they carry
# the same UTC timestamps; config/gunicorn.py hands this to gunicorn.
GUNICORN_LOGGING = {
    **LOGGING,
    "loggers": {
        **LOGGING["loggers"],
        "gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["console"], "propagate": False},
    },
}
