"""Which secrets production refuses, in one table.

A secret is refused when it is a placeholder (starts with ``change-me``), equals a value shipped in
this repository (the development key, the sandbox's credentials) or is shorter than its minimum.
The error names every offending variable and never prints a value.

To protect a new secret, add one line to ``SECRET_RULES`` (variable name → minimum length). A
variable that is unset is not checked here: whether it is required is production.py's business
(``REQUIRED_VARIABLES``), so an optional secret is checked only when it is set.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

# Values that live in this repository, so are public. The settings use these constants as their
# defaults, which keeps this list complete.
DEV_SECRET_KEY = "insecure-development-only-key-change-me-0123456789abcdef"
SANDBOX_OMIE_APP_KEY = "sandbox-app-key"
SANDBOX_OMIE_APP_SECRET = "sandbox-app-secret"
SANDBOX_BUBBLE_API_TOKEN = "sandbox-bubble-token"
SANDBOX_PAGARME_WEBHOOK_SECRET = "sandbox-pagarme-secret"
SANDBOX_PAGARME_BASIC_AUTH = "pagarme:sandbox-basic"
SANDBOX_PAGARME_SECRET_KEY = "sk_test_sandbox"
SANDBOX_OMIE_WEBHOOK_TOKEN = "sandbox-omie-webhook-token-0123456789abcdef"
# Keys the tests, the benchmarks and the screenshot script set literally (config/django/test.py,
# bench/, scripts/, testsupport/): as public as the ones above. tests/deploy/test_shipped_keys.py scans
# the tree, so a new literal key that production would accept fails the tests until it is listed here.
REPOSITORY_LITERAL_KEYS = frozenset({
    "test-settings-only-key-not-used-anywhere-else-0123456789",
    "local-bench-only-key-not-a-deployment-secret-0123456789",
    "bench-omie-webhook-token-0123456789abcdef",
    "sk_test_0123456789abcdef",
    "test-bubble-token-0123456789abcdef",
    "pagarme:s3nha:com:dois-pontos",
    "prometheus:s3nha-das-metricas",
    "s3gredo-do-pagarme-para-teste",
})
SHIPPED_VALUES = frozenset(
    {DEV_SECRET_KEY, SANDBOX_OMIE_APP_KEY, SANDBOX_OMIE_APP_SECRET, SANDBOX_BUBBLE_API_TOKEN, SANDBOX_PAGARME_WEBHOOK_SECRET,
     SANDBOX_PAGARME_BASIC_AUTH, SANDBOX_PAGARME_SECRET_KEY, SANDBOX_OMIE_WEBHOOK_TOKEN, *REPOSITORY_LITERAL_KEYS}
)
# The sandbox's public credentials: never acceptable on a server, not even a forced-sandbox demo.
SANDBOX_SECRETS = {
    "OMIE_APP_SECRET": SANDBOX_OMIE_APP_SECRET,
    "BUBBLE_API_TOKEN": SANDBOX_BUBBLE_API_TOKEN,
    "PAGARME_WEBHOOK_SECRET": SANDBOX_PAGARME_WEBHOOK_SECRET,
    "PAGARME_WEBHOOK_BASIC_AUTH": SANDBOX_PAGARME_BASIC_AUTH,
    "OMIE_WEBHOOK_TOKEN": SANDBOX_OMIE_WEBHOOK_TOKEN,
}
# A webhook credential only authenticates anyone when its scheme is listed in PAGARME_WEBHOOK_AUTH.
SANDBOX_SECRET_SCHEME = {"PAGARME_WEBHOOK_SECRET": "hmac", "PAGARME_WEBHOOK_BASIC_AUTH": "basic"}
PLACEHOLDER_PREFIX = "change-me"

# Variable → minimum length. Django's own check wants 50 for SECRET_KEY; the JWT key signs every
# API token, so it gets the same; other secrets 24.
SECRET_RULES: dict[str, int] = {
    "DJANGO_SECRET_KEY": 50,
    "JWT_SIGNING_KEY": 50,
    "OMIE_APP_SECRET": 24,
    "BUBBLE_API_TOKEN": 24,
    "PAGARME_WEBHOOK_SECRET": 24,
    "PAGARME_WEBHOOK_BASIC_AUTH": 24,  # user:password as set on the webhook in Pagar.me's dashboard
    "PAGARME_SECRET_KEY": 24,
    "OMIE_WEBHOOK_TOKEN": 32,
    "OMIE_WEBHOOK_TOKEN_PREVIOUS": 32,
}
# Identifiers that are not secret but must still not be a placeholder or a shipped value.
PLACEHOLDER_ONLY = ("OMIE_APP_KEY",)


def secret_problem(value: str, min_length: int) -> str:
    """Why ``value`` is unacceptable as a production secret ('' when it is fine)."""
    if value.lower().startswith(PLACEHOLDER_PREFIX):
        return "is a placeholder (starts with 'change-me')"
    if value in SHIPPED_VALUES:
        return "is a value shipped in the repository"
    if len(value) < min_length:
        return f"is shorter than {min_length} characters"
    return ""


def weak_secrets(read: Callable[[str], str], rules: Mapping[str, int] = SECRET_RULES) -> list[str]:
    """``NAME (reason)`` for every set variable of ``rules`` (and PLACEHOLDER_ONLY) that is refused."""
    problems = []
    for name, min_length in [*rules.items(), *((name, 0) for name in PLACEHOLDER_ONLY)]:
        value = read(name)
        if value:
            reason = secret_problem(value, min_length)
            if reason:
                problems.append(f"{name} ({reason})")
    return problems


def flower_credentials_problem(basic_auth: str) -> str:
    """Why FLOWER_BASIC_AUTH (``user:password[,user:password]``) is refused ('' when fine)."""
    for pair in basic_auth.split(","):
        _user, _, password = pair.partition(":")
        reason = secret_problem(password, 16)
        if reason:
            return f"FLOWER_BASIC_AUTH: a password {reason}"
    return ""


if __name__ == "__main__":  # docker/start-flower: refuse placeholder credentials before starting Flower
    import os
    import sys

    problem = flower_credentials_problem(os.environ.get("FLOWER_BASIC_AUTH", ""))
    if problem:
        print(f"refusing to start Flower: {problem}", file=sys.stderr)
        sys.exit(1)
