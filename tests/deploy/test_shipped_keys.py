"""Every key written literally in this repository is refused by production, like .env.example's placeholders.

Second security review: ``test-settings-only-key-…``, ``local-bench-only-key-…`` and
``sk_test_0123456789abcdef`` were long enough to pass, so a deployment that copied one from the
tests or the benchmarks started with a public secret.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from config.secret_rules import REPOSITORY_LITERAL_KEYS, SECRET_RULES, flower_credentials_problem, secret_problem
from tests.deploy.files import ROOT
from tests.deploy.test_production_settings import manage, realistic_env

# NAME = "value", NAME="value", "NAME": "value", setdefault("NAME", "value"), NAME=value (env files), for names that say secret.
_SECRET_NAME = r"[A-Z][A-Z0-9_]*(?:SECRET|TOKEN|SIGNING_KEY|APP_KEY|BASIC_AUTH|PASSWORD)[A-Z0-9_]*"
_QUOTED = re.compile(rf"""\b({_SECRET_NAME})["']?\s*[:=,]\s*["']([^"'\s$]{{8,}})["']""")
_ENV_LINE = re.compile(rf"""^\s*({_SECRET_NAME})=([^\s"'$#]{{8,}})\s*$""", re.MULTILINE)
_SKIPPED_SUFFIXES = (".png", ".jpg", ".jpeg", ".ico", ".woff", ".woff2", ".gz", ".jsonl", ".lock")


def literal_keys() -> list[tuple[str, str, str]]:
    """(file, variable, value) for every secret-named variable given a literal value anywhere in the tree."""
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    found = []
    for name in files:
        if name.endswith(_SKIPPED_SUFFIXES) or not (ROOT / name).is_file():
            continue
        try:
            text = (ROOT / name).read_text()
        except UnicodeDecodeError:
            continue
        for match in [*_QUOTED.finditer(text), *_ENV_LINE.finditer(text)]:
            variable, value = match.groups()
            if not re.fullmatch(r"[A-Z][A-Z0-9_]*", value):  # another variable's name, not a value
                found.append((name, variable, value))
    return found


def _refusal(variable: str, value: str) -> str:
    if variable == "FLOWER_BASIC_AUTH":
        return flower_credentials_problem(value)
    rule = next((name for name in SECRET_RULES if name in variable), "")
    return secret_problem(value, SECRET_RULES.get(rule, 24))


def test_the_scan_finds_the_keys_the_review_named():
    values = {value for _file, _variable, value in literal_keys()}
    assert {"test-settings-only-key-not-used-anywhere-else-0123456789", "local-bench-only-key-not-a-deployment-secret-0123456789",
            "sk_test_0123456789abcdef"} <= values


def test_every_literal_key_in_the_repository_would_be_refused_in_production():
    accepted = [f"{file}: {variable}" for file, variable, value in literal_keys() if not _refusal(variable, value)]
    assert not accepted, "literal keys production would accept (list them in config/secret_rules.py): " + ", ".join(accepted)


def test_every_listed_literal_key_is_still_in_the_tree():
    """The list stays the tree's: a key removed from the code is removed from the list."""
    values = {value for _file, _variable, value in literal_keys()}
    assert REPOSITORY_LITERAL_KEYS <= values, REPOSITORY_LITERAL_KEYS - values


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DJANGO_SECRET_KEY", "test-settings-only-key-not-used-anywhere-else-0123456789"),
        ("JWT_SIGNING_KEY", "local-bench-only-key-not-a-deployment-secret-0123456789"),
        ("PAGARME_SECRET_KEY", "sk_test_0123456789abcdef"),
        ("OMIE_WEBHOOK_TOKEN", "bench-omie-webhook-token-0123456789abcdef"),
    ],
)
def test_production_refuses_to_start_with_a_key_from_the_repository(variable, value):
    result = manage(realistic_env(**{variable: value}), "check")
    assert result.returncode != 0
    assert f"{variable} (is a value shipped in the repository)" in result.stderr
    assert value not in result.stderr
