"""The external systems (docs/omie.md, docs/contract.md#bubble-data, docs/contract.md#configuration, docs/contract.md#sandbox)
and the billing rules.

In sandbox mode every base URL defaults to this server's own fake systems under /sandbox/, so
`make run` shows the whole flow without any account.
"""

from decimal import Decimal

from config.env import BASE_DIR, env
from config.secret_rules import (
    SANDBOX_BUBBLE_API_TOKEN,
    SANDBOX_OMIE_APP_KEY,
    SANDBOX_OMIE_APP_SECRET,
    SANDBOX_OMIE_WEBHOOK_TOKEN,
    SANDBOX_PAGARME_BASIC_AUTH,
    SANDBOX_PAGARME_SECRET_KEY,
    SANDBOX_PAGARME_WEBHOOK_SECRET,
)

SANDBOX = env.bool("SANDBOX", default=False)
# The fake systems are refused on a server with DEBUG off unless explicitly forced (docs/contract.md#sandbox).
SANDBOX_FORCE = env.bool("SANDBOX_FORCE", default=False)
# The fake Omie accepts only these app keys when set (to rehearse a wrong key); any key when empty.
SANDBOX_OMIE_APP_KEYS = env.list("SANDBOX_OMIE_APP_KEYS", default=[])
# The secret keys the fake Pagar.me accepts (empty: PAGARME_SECRET_KEY, so the sandbox just works).
SANDBOX_PAGARME_SECRET_KEYS = env.list("SANDBOX_PAGARME_SECRET_KEYS", default=[])
SANDBOX_BASE_URL = env.str("SANDBOX_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

_sandbox = SANDBOX_BASE_URL + "/sandbox"

# OMIE
# ------------------------------------------------------------------------------
OMIE_BASE_URL = env.str("OMIE_BASE_URL", default=f"{_sandbox}/omie/api/v1/" if SANDBOX else "https://app.omie.com.br/api/v1/")
OMIE_APP_KEY = env.str("OMIE_APP_KEY", default=SANDBOX_OMIE_APP_KEY if SANDBOX else "")
OMIE_APP_SECRET = env.str("OMIE_APP_SECRET", default=SANDBOX_OMIE_APP_SECRET if SANDBOX else "")
OMIE_CODIGO_CATEGORIA = env.str("OMIE_CODIGO_CATEGORIA", default="1.01.02")
OMIE_CONTA_CORRENTE = env.int("OMIE_CONTA_CORRENTE", default=0)
OMIE_CIDADE_PRESTACAO = env.str("OMIE_CIDADE_PRESTACAO", default="SAO PAULO (SP)")
OMIE_ETAPA_OS = env.str("OMIE_ETAPA_OS", default="20")
# The payment-term code of the OS (Cabecalho.cCodParc, documented as mandatory): "000" = à vista.
# The account's own list comes from Omie's ListarFormasPagVendas (docs/omie.md#the-os-header).
OMIE_CODIGO_PARCELA = env.str("OMIE_CODIGO_PARCELA", default="000")
# The service line (docs/omie.md#the-service-line). Recommended: OMIE_SERVICE_ID, the id of a service
# registered in Omie (Serviços → Cadastro), whose record carries the municipal code, LC 116, NBS and the
# tax classification (IBS/CBS included) → every line sends nCodServico. Otherwise the municipal service
# code → cCodServMun, with OMIE_SERVICE_TAXATION → cTribServ. Production refuses to start with neither.
# The sandbox's fake Omie has one registered service, SANDBOX_OMIE_SERVICE_ID.
SANDBOX_OMIE_SERVICE_ID = 2500000001
OMIE_SERVICE_ID = env.int("OMIE_SERVICE_ID", default=SANDBOX_OMIE_SERVICE_ID if SANDBOX else 0)
OMIE_SERVICE_MUNICIPAL_CODE = env.str("OMIE_SERVICE_MUNICIPAL_CODE", default="")
OMIE_SERVICE_TAXATION = env.str("OMIE_SERVICE_TAXATION", default="01")
OMIE_CONNECT_TIMEOUT = env.float("OMIE_CONNECT_TIMEOUT", default=5.0)
OMIE_READ_TIMEOUT = env.float("OMIE_READ_TIMEOUT", default=30.0)
# The central throttle (docs/omie.md): below Omie's 240/min per method and 960/min per key.
OMIE_RATE_PER_METHOD_PER_MINUTE = env.int("OMIE_RATE_PER_METHOD_PER_MINUTE", default=200)
OMIE_RATE_PER_KEY_PER_MINUTE = env.int("OMIE_RATE_PER_KEY_PER_MINUTE", default=800)
OMIE_WRITE_CONCURRENCY = env.int("OMIE_WRITE_CONCURRENCY", default=1)
OMIE_READ_CONCURRENCY = env.int("OMIE_READ_CONCURRENCY", default=3)
# Bursts on top of the per-minute rates: calls in any 60 s window stay ≤ burst + rate
# (10 + 200 = 210 < Omie's 240 per method; 40 + 800 = 840 < 960 per key).
OMIE_RATE_BURST_PER_METHOD = env.int("OMIE_RATE_BURST_PER_METHOD", default=10)
OMIE_RATE_BURST_PER_KEY = env.int("OMIE_RATE_BURST_PER_KEY", default=40)
# A lease outlives its holder by at most this; it must cover the connect + read timeouts.
OMIE_LEASE_SECONDS = env.int("OMIE_LEASE_SECONDS", default=60)
# How soon a caller that found every lease of a method taken tries again (leases free in ~1 call).
OMIE_LEASE_RETRY_SECONDS = env.float("OMIE_LEASE_RETRY_SECONDS", default=0.5)
# The next caller in line for a busy lease waits up to this long for it to be given back, instead of
# polling (0: nobody waits); at most OMIE_TURN_WAITERS callers per method wait, each in its own worker.
OMIE_TURN_WAIT_SECONDS = env.float("OMIE_TURN_WAIT_SECONDS", default=2.0)
OMIE_TURN_WAITERS = env.int("OMIE_TURN_WAITERS", default=1)
# Client-1880 / Client-1100 without a time: another call of that method was running at Omie.
OMIE_CONCURRENT_RETRY_SECONDS = env.float("OMIE_CONCURRENT_RETRY_SECONDS", default=5.0)
# Omie bans a method after 10 errors; we pause it ourselves after this many within the window.
OMIE_ERROR_BUDGET = env.int("OMIE_ERROR_BUDGET", default=6)
OMIE_ERROR_WINDOW_SECONDS = env.int("OMIE_ERROR_WINDOW_SECONDS", default=600)
OMIE_ERROR_PAUSE_SECONDS = env.int("OMIE_ERROR_PAUSE_SECONDS", default=600)
OMIE_RATE_LIMITED_PAUSE_SECONDS = env.int("OMIE_RATE_LIMITED_PAUSE_SECONDS", default=60)
OMIE_BAN_DEFAULT_SECONDS = env.int("OMIE_BAN_DEFAULT_SECONDS", default=1800)
# An id-keyed call (same method, same id) is not sent again within this many seconds: Omie would
# answer REDUNDANT and count an error. 0 turns the guard off (REDUNDANT answers still pause the id).
OMIE_REDUNDANT_DEFAULT_SECONDS = env.int("OMIE_REDUNDANT_DEFAULT_SECONDS", default=60)
OMIE_CALL_RETENTION_DAYS = env.int("OMIE_CALL_RETENTION_DAYS", default=90)
# Dry run (go-live): every Omie write is built, validated and recorded with its payload but NOT sent;
# reads are still sent. Orders wait; switching it off re-runs each of them for real once.
OMIE_DRY_RUN = env.bool("OMIE_DRY_RUN", default=False)

# BUBBLE
# ------------------------------------------------------------------------------
BUBBLE_BASE_URL = env.str("BUBBLE_BASE_URL", default=f"{_sandbox}/bubble/api/1.1" if SANDBOX else "")
BUBBLE_API_TOKEN = env.str("BUBBLE_API_TOKEN", default=SANDBOX_BUBBLE_API_TOKEN if SANDBOX else "")
BUBBLE_TYPE_ORDER = env.str("BUBBLE_TYPE_ORDER", default="pedido")
BUBBLE_TYPE_CUSTOMER = env.str("BUBBLE_TYPE_CUSTOMER", default="cliente")
# Field keys differ between Bubble apps (display names vs generated ids): override any of them with
# a JSON object, e.g. BUBBLE_FIELD_MAP='{"status_pedido": "status_pedido_option_status"}'.
BUBBLE_FIELD_MAP = env.json("BUBBLE_FIELD_MAP", default={})
BUBBLE_CONNECT_TIMEOUT = env.float("BUBBLE_CONNECT_TIMEOUT", default=5.0)
BUBBLE_READ_TIMEOUT = env.float("BUBBLE_READ_TIMEOUT", default=20.0)
BUBBLE_WRITEBACK_MAX_AGE_HOURS = env.int("BUBBLE_WRITEBACK_MAX_AGE_HOURS", default=24)
# Outbox delivery (integrations/bubble/services.py): exponential backoff with jitter between these.
BUBBLE_WRITEBACK_RETRY_BASE_SECONDS = env.float("BUBBLE_WRITEBACK_RETRY_BASE_SECONDS", default=5.0)
BUBBLE_WRITEBACK_RETRY_MAX_SECONDS = env.float("BUBBLE_WRITEBACK_RETRY_MAX_SECONDS", default=900.0)
# A retry this soon gets its own countdown task; later ones wait for the sweep (no far-future ETAs).
BUBBLE_WRITEBACK_KICK_MAX_SECONDS = env.float("BUBBLE_WRITEBACK_KICK_MAX_SECONDS", default=300.0)
# A claimed row is re-claimable after this; must exceed BUBBLE_CONNECT_TIMEOUT + BUBBLE_READ_TIMEOUT.
BUBBLE_WRITEBACK_LEASE_SECONDS = env.int("BUBBLE_WRITEBACK_LEASE_SECONDS", default=90)
BUBBLE_WRITEBACK_SWEEP_SECONDS = env.int("BUBBLE_WRITEBACK_SWEEP_SECONDS", default=30)
BUBBLE_WRITEBACK_RETENTION_DAYS = env.int("BUBBLE_WRITEBACK_RETENTION_DAYS", default=90)
# During an Omie dry run nothing is written back to Bubble, except this one field of the pedido (when
# set): a text saying what would have been sent to Omie.
BUBBLE_DRY_RUN_FIELD = env.str("BUBBLE_DRY_RUN_FIELD", default="")

# BRASILAPI
# ------------------------------------------------------------------------------
BRASILAPI_BASE_URL = env.str("BRASILAPI_BASE_URL", default=f"{_sandbox}/brasilapi/api" if SANDBOX else "https://brasilapi.com.br/api")
BRASILAPI_RATE_PER_SECOND = env.float("BRASILAPI_RATE_PER_SECOND", default=1.0)
BRASILAPI_CACHE_DAYS = env.int("BRASILAPI_CACHE_DAYS", default=30)
# BrasilAPI answers false 404s (docs/integrations.md#evidence): a 404 is retried this many times, spaced by
# BRASILAPI_NOT_FOUND_RETRY_SECONDS × 2^(n-1), before "CNPJ não encontrado na Receita Federal".
BRASILAPI_NOT_FOUND_RETRIES = env.int("BRASILAPI_NOT_FOUND_RETRIES", default=3)
BRASILAPI_NOT_FOUND_RETRY_SECONDS = env.float("BRASILAPI_NOT_FOUND_RETRY_SECONDS", default=60.0)
# After a 429 every process holds off BrasilAPI this long (or Retry-After, when it says more).
BRASILAPI_RATE_LIMITED_PAUSE_SECONDS = env.float("BRASILAPI_RATE_LIMITED_PAUSE_SECONDS", default=10.0)
BRASILAPI_CONNECT_TIMEOUT = env.float("BRASILAPI_CONNECT_TIMEOUT", default=5.0)
BRASILAPI_READ_TIMEOUT = env.float("BRASILAPI_READ_TIMEOUT", default=10.0)

# OMIE WEBHOOKS (docs/omie_webhooks.md)
# ------------------------------------------------------------------------------
# Omie pushes NFS-e and OS events to POST /webhooks/omie/<token>; polling stays as the backstop.
OMIE_WEBHOOKS = env.bool("OMIE_WEBHOOKS", default=SANDBOX)
# The secret path segment (>= 32 random characters; required in production when OMIE_WEBHOOKS is on).
OMIE_WEBHOOK_TOKEN = env.str("OMIE_WEBHOOK_TOKEN", default=SANDBOX_OMIE_WEBHOOK_TOKEN if SANDBOX else "")
# The previous token, still accepted while Omie's registration is being switched to the new one.
OMIE_WEBHOOK_TOKEN_PREVIOUS = env.str("OMIE_WEBHOOK_TOKEN_PREVIOUS", default="")
# Webhooks count as healthy while an event arrived within this many seconds.
OMIE_WEBHOOK_HEALTHY_SECONDS = env.float("OMIE_WEBHOOK_HEALTHY_SECONDS", default=1800.0)
# Events still unprocessed this long after arrival are sent to processing again (their task was lost).
OMIE_WEBHOOK_REQUEUE_AFTER_SECONDS = env.float("OMIE_WEBHOOK_REQUEUE_AFTER_SECONDS", default=120.0)

# PAGAR.ME
# ------------------------------------------------------------------------------
# Which authentications the webhook accepts, comma-separated (docs/pagarme.md): ``rs256`` (Pagar.me v5's
# X-Webhook-Asymmetric-Signature, checked against the JWKS), ``basic`` (user:password set on the webhook
# in Pagar.me's dashboard), ``hmac`` (the v4 X-Hub-Signature). A request passes when one listed scheme verifies.
PAGARME_WEBHOOK_SCHEMES = ("rs256", "basic", "hmac")
PAGARME_WEBHOOK_AUTH = [s.strip().lower() for s in env.list("PAGARME_WEBHOOK_AUTH", default=["rs256"]) if s.strip()]
PAGARME_WEBHOOK_SECRET = env.str("PAGARME_WEBHOOK_SECRET", default=SANDBOX_PAGARME_WEBHOOK_SECRET if SANDBOX else "")
PAGARME_WEBHOOK_BASIC_AUTH = env.str("PAGARME_WEBHOOK_BASIC_AUTH", default=SANDBOX_PAGARME_BASIC_AUTH if SANDBOX else "")
PAGARME_JWKS_URL = env.str(
    "PAGARME_JWKS_URL", default=f"{_sandbox}/pagarme/.well-known/jwks.json" if SANDBOX else "https://hubapi.pagar.me/.well-known/jwks.json"
)
# The JWKS is kept in the shared cache this long; an unknown kid re-reads it at most once per REFETCH interval.
PAGARME_JWKS_CACHE_SECONDS = env.int("PAGARME_JWKS_CACHE_SECONDS", default=3600)
PAGARME_JWKS_REFETCH_SECONDS = env.int("PAGARME_JWKS_REFETCH_SECONDS", default=60)
PAGARME_API_BASE_URL = env.str("PAGARME_API_BASE_URL", default=f"{_sandbox}/pagarme/core/v5" if SANDBOX else "https://api.pagar.me/core/v5")
PAGARME_SECRET_KEY = env.str("PAGARME_SECRET_KEY", default=SANDBOX_PAGARME_SECRET_KEY if SANDBOX else "")
# Before a payment changes, the charge (or order) is read back from the API and its status is applied.
PAGARME_CONFIRM_WITH_API = env.bool("PAGARME_CONFIRM_WITH_API", default=True)
PAGARME_CONNECT_TIMEOUT = env.float("PAGARME_CONNECT_TIMEOUT", default=5.0)
PAGARME_READ_TIMEOUT = env.float("PAGARME_READ_TIMEOUT", default=15.0)
# An event whose confirmation failed (API unreachable) is tried again after base × 2^n (jittered, capped);
# after MAX_TRIES quick retries the 10-minute sweep keeps trying. It is never applied from the body alone.
PAGARME_CONFIRM_RETRY_BASE_SECONDS = env.float("PAGARME_CONFIRM_RETRY_BASE_SECONDS", default=15.0)
PAGARME_CONFIRM_RETRY_MAX_SECONDS = env.float("PAGARME_CONFIRM_RETRY_MAX_SECONDS", default=600.0)
PAGARME_CONFIRM_MAX_TRIES = env.int("PAGARME_CONFIRM_MAX_TRIES", default=8)
# LGPD: payloads older than this are reduced to ids, type, status, amounts and times.
PAGARME_EVENT_RETENTION_DAYS = env.int("PAGARME_EVENT_RETENTION_DAYS", default=180)
# The fake Pagar.me's RSA key pair (generated at first use, never committed).
SANDBOX_PAGARME_KEY_DIR = env.str("SANDBOX_PAGARME_KEY_DIR", default=str(BASE_DIR / "var" / "sandbox" / "pagarme"))


def pagarme_webhook_auth_problems(auth: list[str], *, secret: str, basic: str) -> list[str]:
    """What is wrong with the webhook authentication settings (empty: fine). Production refuses to start on any."""
    problems = [f"PAGARME_WEBHOOK_AUTH: esquema desconhecido {name!r}" for name in auth if name not in PAGARME_WEBHOOK_SCHEMES]
    if not auth:
        problems.append("PAGARME_WEBHOOK_AUTH está vazio (use rs256, basic e/ou hmac)")
    if "hmac" in auth and not secret.strip():
        problems.append("PAGARME_WEBHOOK_AUTH inclui hmac mas PAGARME_WEBHOOK_SECRET está vazio")
    user, sep, password = basic.partition(":")
    if "basic" in auth and not (sep and user and password):
        problems.append("PAGARME_WEBHOOK_AUTH inclui basic mas PAGARME_WEBHOOK_BASIC_AUTH não é usuário:senha")
    return problems


_unknown = [name for name in PAGARME_WEBHOOK_AUTH if name not in PAGARME_WEBHOOK_SCHEMES]
if _unknown:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"PAGARME_WEBHOOK_AUTH: unknown scheme(s) {', '.join(_unknown)} (use rs256, basic, hmac).")

# BILLING (docs/contract.md#billing-decision)
# ------------------------------------------------------------------------------
BILLING_DAY = env.int("BILLING_DAY", default=25)
BILLING_HOLD_THRESHOLD = Decimal(env.str("BILLING_HOLD_THRESHOLD", default="50000.00"))
# Omie answers REDUNDANT to the same consult of one OS within 60 s: reads of one OS are spaced by this.
BILLING_SAME_OS_MIN_INTERVAL_SECONDS = env.float(
    "BILLING_SAME_OS_MIN_INTERVAL_SECONDS", default=float(OMIE_REDUNDANT_DEFAULT_SECONDS or 60)
)
# The NFS-e takes seconds to minutes at the city hall; the first StatusOS waits this long after FaturarOS.
BILLING_FIRST_POLL_SECONDS = env.float("BILLING_FIRST_POLL_SECONDS", default=60.0)
# With Omie webhooks on and healthy the webhook usually settles the NFS-e first, so the first StatusOS waits longer.
BILLING_FIRST_POLL_WITH_WEBHOOKS_SECONDS = env.float("BILLING_FIRST_POLL_WITH_WEBHOOKS_SECONDS", default=300.0)
# Bounded backoff of polls and retries: base × 2^n, capped.
BILLING_RETRY_BASE_SECONDS = env.float("BILLING_RETRY_BASE_SECONDS", default=60.0)
BILLING_RETRY_MAX_SECONDS = env.float("BILLING_RETRY_MAX_SECONDS", default=1800.0)
# Failed tries of one step (Omie unreachable, errors) before the invoice is FAILED for ops to retry.
BILLING_STEP_MAX_ATTEMPTS = env.int("BILLING_STEP_MAX_ATTEMPTS", default=8)
# ConsultarOS checks after CancelarOS before giving up and returning the NF to ISSUED.
BILLING_CANCEL_CONFIRM_MAX_POLLS = env.int("BILLING_CANCEL_CONFIRM_MAX_POLLS", default=10)
# How long a worker owns an invoice step; longer than a task's hard time limit (CELERY_TASK_TIME_LIMIT).
BILLING_WORK_LEASE_SECONDS = env.float("BILLING_WORK_LEASE_SECONDS", default=300.0)
# How long a dispatched step message has to start before the invoice is dispatched again.
BILLING_DISPATCH_LEASE_SECONDS = env.float("BILLING_DISPATCH_LEASE_SECONDS", default=600.0)
# The dispatcher hands out at most one interval's worth of Omie calls per method at a time.
BILLING_DISPATCH_INTERVAL_SECONDS = env.float("BILLING_DISPATCH_INTERVAL_SECONDS", default=5.0)
# A throttle wait up to this long is taken by re-queuing the step with a countdown; longer ones go back to the DB.
BILLING_INLINE_WAIT_MAX_SECONDS = env.float("BILLING_INLINE_WAIT_MAX_SECONDS", default=10.0)
# Orders claimed per transaction by the day-25 run and the due sweep.
BILLING_CLAIM_BATCH = env.int("BILLING_CLAIM_BATCH", default=200)
# Days of Omie's OS and NFS-e lists compared by the daily reconciliation.
BILLING_RECONCILIATION_DAYS = env.int("BILLING_RECONCILIATION_DAYS", default=7)
# Issued NFS-e confirmed in bulk from ListarNFSEs (pages of 500) instead of one StatusOS each
# (billing/services/nfse_bulk.py): how often the list is read, from how many waiting invoices on the
# first StatusOS waits for it, and how long that first StatusOS then waits.
BILLING_NFSE_BULK = env.bool("BILLING_NFSE_BULK", default=True)
BILLING_NFSE_BULK_INTERVAL_SECONDS = env.float("BILLING_NFSE_BULK_INTERVAL_SECONDS", default=30.0)
BILLING_NFSE_BULK_MIN_WAITING = env.int("BILLING_NFSE_BULK_MIN_WAITING", default=20)
BILLING_FIRST_POLL_WITH_BULK_SECONDS = env.float("BILLING_FIRST_POLL_WITH_BULK_SECONDS", default=300.0)

# OPS
# ------------------------------------------------------------------------------
FLOWER_URL = env.str("FLOWER_URL", default="http://127.0.0.1:5555/")
# Flower's "user:password" (also given to Flower itself); the integration check logs in with it.
FLOWER_BASIC_AUTH = env.str("FLOWER_BASIC_AUTH", default="")
# The integration check (manage.py check_integrations): a CNPJ that must resolve on BrasilAPI
# (default: Banco do Brasil's head office, a public record).
INTEGRATIONS_CHECK_CNPJ = env.str("INTEGRATIONS_CHECK_CNPJ", default="00000000000191")
# The admin page's check runs in a worker, every system at once; a system that has not answered within
# this many seconds is reported red ("não respondeu em 10 s"). Far below the web and task time limits.
INTEGRATIONS_CHECK_SYSTEM_TIMEOUT_SECONDS = env.float("INTEGRATIONS_CHECK_SYSTEM_TIMEOUT_SECONDS", default=10.0)

# ORDERS SYNC (docs/contract.md#sync) AND IDEMPOTENCY KEYS (docs/contract.md#http-api)
# ------------------------------------------------------------------------------
# Transient failures (timeouts, 5xx) of one order's sync before it becomes FAILED (ops can retry).
ORDERS_SYNC_MAX_ATTEMPTS = env.int("ORDERS_SYNC_MAX_ATTEMPTS", default=6)
# Backoff for transient failures without a "retry at" (common/backoff.py): min(cap, base × 2^(n-1)), half to full.
ORDERS_SYNC_BACKOFF_BASE_SECONDS = env.float("ORDERS_SYNC_BACKOFF_BASE_SECONDS", default=2.0)
ORDERS_SYNC_BACKOFF_MAX_SECONDS = env.float("ORDERS_SYNC_BACKOFF_MAX_SECONDS", default=300.0)
# Throttle waits ("not now") do not count as failures, but a sync still gives up after this long
# (above Omie's 30-minute ban, so one ban alone never fails an order).
ORDERS_SYNC_GIVE_UP_SECONDS = env.int("ORDERS_SYNC_GIVE_UP_SECONDS", default=10800)
# A PENDING order whose expected next attempt is this late is re-enqueued by the sweep
# (message lost, worker killed).
ORDERS_SYNC_STUCK_SECONDS = env.int("ORDERS_SYNC_STUCK_SECONDS", default=300)
ORDERS_SYNC_SWEEP_EVERY_SECONDS = env.int("ORDERS_SYNC_SWEEP_EVERY_SECONDS", default=60)
# While orders queue for Omie's one-write-at-a-time leases, an order re-polls after about
# (orders ahead of it × this), at most the max: few polls, oldest first (docs/orders.md).
ORDERS_OMIE_TURN_SECONDS = env.float("ORDERS_OMIE_TURN_SECONDS", default=0.15)
ORDERS_OMIE_QUEUE_WAIT_MAX_SECONDS = env.float("ORDERS_OMIE_QUEUE_WAIT_MAX_SECONDS", default=30.0)
# A customer another order sent to Omie with identical data this recently is not sent again.
ORDERS_CUSTOMER_REUSE_SECONDS = env.int("ORDERS_CUSTOMER_REUSE_SECONDS", default=3600)
IDEMPOTENCY_TTL_HOURS = env.int("IDEMPOTENCY_TTL_HOURS", default=24)
# An IN_FLIGHT key whose request never finished (web process killed) is free again after this.
IDEMPOTENCY_LOCK_SECONDS = env.int("IDEMPOTENCY_LOCK_SECONDS", default=120)
