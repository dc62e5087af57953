"""Sentry, only when SENTRY_DSN is set; no personal data leaves (docs/contract.md#observability)."""

from config.env import env

SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="production")

if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.redis import RedisIntegration

    from common.logging import scrub_sentry_event

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=SENTRY_ENVIRONMENT,
        integrations=[DjangoIntegration(), CeleryIntegration(monitor_beat_tasks=False), RedisIntegration()],
        send_default_pii=False,
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        # Errors and transactions alike: secrets by key at any depth, documents, JWTs and Basic credentials
        # in every string (common/logging.py; tested through the SDK in common/tests/test_log_scrubbing.py).
        before_send=scrub_sentry_event,
        before_send_transaction=scrub_sentry_event,
    )
