""".env.example lists every variable the project reads, and docker-compose.yml passes the required ones."""

from __future__ import annotations

import json
import re
from decimal import Decimal

from tests.deploy.files import (
    NO_DEFAULT,
    ROOT,
    compose,
    compose_default,
    env_example,
    env_reads,
    interpolated_names,
    production_required,
)

# Variables the start scripts and nginx/render read that are wiring set by the image, compose or the
# script itself (not something to put in .env), or bash's own.
SCRIPT_INTERNALS = {
    "BASH_SOURCE", "SECONDS", "PROJECT_ROOT", "PYTHON", "HOSTNAME",
    "NGINX_CONF", "NGINX_BIN", "NGINX_DIR", "NGINX_WEB_UPSTREAM", "NGINX_LISTEN_PORT", "NGINX_STATIC_ROOT",
    "NGINX_RESOLVER", "NGINX_RUNTIME_DIR", "REMAP_SIGTERM", "FLOWER_PORT", "FLOWER_ADDRESS",
    # compose derives these two from DJANGO_ADMIN_URL and DJANGO_SECURE_HSTS_SECONDS
    "NGINX_ADMIN_URL", "NGINX_HSTS_SECONDS",
}


def _script_reads() -> dict[str, str]:
    reads: dict[str, str] = {}
    shell_scripts = [*sorted((ROOT / "docker").glob("start-*")), ROOT / "docker" / "common.sh"]
    shell_scripts += [ROOT / "nginx" / "render", ROOT / "nginx" / "start"]
    for path in shell_scripts:
        for name in re.findall(r"\$\{([A-Z][A-Z0-9_]*)", path.read_text()):
            reads.setdefault(name, str(path.relative_to(ROOT)))
    for path in sorted((ROOT / "docker").glob("*.py")):
        for name in re.findall(r"os\.environ(?:\.get)?[\[(]\"([A-Z][A-Z0-9_]*)\"", path.read_text()):
            reads.setdefault(name, str(path.relative_to(ROOT)))
    return reads


def test_every_variable_config_reads_is_in_env_example():
    example = env_example()
    missing = {name: read.where for name, read in env_reads().items() if name not in example}
    assert not missing, f"add these to .env.example (with a comment): {missing}"


def test_every_variable_the_start_scripts_read_is_in_env_example():
    example = env_example()
    missing = {name: where for name, where in _script_reads().items() if name not in example and name not in SCRIPT_INTERNALS}
    assert not missing, f"add these to .env.example (with a comment): {missing}"


def test_every_variable_compose_interpolates_is_in_env_example():
    example = env_example()
    missing = sorted(interpolated_names((ROOT / "docker-compose.yml").read_text()) - set(example))
    assert not missing, f"docker-compose.yml reads {missing} from .env, but .env.example does not list them"


def test_env_example_lists_only_variables_something_reads():
    known = set(env_reads()) | set(_script_reads()) | interpolated_names((ROOT / "docker-compose.yml").read_text())
    unknown = sorted(set(env_example()) - known)
    assert not unknown, f".env.example lists variables nothing reads: {unknown}"


def test_every_variable_has_a_comment_above_it():
    lines = (ROOT / ".env.example").read_text().splitlines()
    names = set(env_example())
    for number, line in enumerate(lines):
        match = re.match(r"^#?\s?([A-Z][A-Z0-9_]*)=", line)
        if not match or match.group(1) not in names:
            continue
        # Walk up over the block of variables this comment introduces.
        above = number - 1
        while above >= 0 and re.match(r"^#?\s?[A-Z][A-Z0-9_]*=", lines[above]):
            above -= 1
        assert above >= 0 and lines[above].startswith("# ") and not lines[above].startswith("# ---"), (
            f".env.example line {number + 1} ({match.group(1)}) has no explanatory comment above it"
        )


def _same(value: str, default: object, method: str) -> bool:
    if method == "bool":
        return value.lower() in {"true", "1", "yes", "on"} if default else value.lower() in {"false", "0", "no", "off", ""}
    if method in {"int", "float"}:
        return float(value) == float(default)  # type: ignore[arg-type]
    if method == "list":
        return [item for item in value.split(",") if item] == list(default)  # type: ignore[call-overload]
    if method == "json":
        return json.loads(value) == default
    if isinstance(default, str) and re.fullmatch(r"\d+\.\d+", default):
        return Decimal(value) == Decimal(default)
    return value == str(default)


def test_commented_values_in_env_example_are_the_settings_defaults():
    """A commented line documents the default; a copy of .env.example must not silently change it.
    (Variables production requires never fall back to a settings default, so they are not compared.)"""
    example = env_example()
    required, unless_sandbox = production_required()
    stale = {}
    for name, read in env_reads().items():
        line = example.get(name)
        if name in required or name in unless_sandbox:
            continue
        if line and line.commented and read.default is not NO_DEFAULT and not _same(line.value, read.default, read.method):
            stale[name] = f".env.example says {line.value!r}, {read.where} defaults to {read.default!r}"
    assert not stale, stale


def test_required_variables_are_uncommented_in_env_example_or_derived_by_compose():
    required, unless_sandbox = production_required()
    example = env_example()
    app_environment = compose()["x-app-environment"]
    for name in [*required, *unless_sandbox]:
        assert name in example, f"{name} is required in production but not in .env.example"
        if example[name].commented:
            default = compose_default(str(app_environment.get(name, "")))
            assert default, f"{name} is commented out in .env.example and compose has no default for it"


def test_required_variables_reach_every_app_container():
    required, unless_sandbox = production_required()
    services = compose()["services"]
    for service in ("web", "worker", "beat", "flower"):
        environment = services[service]["environment"]
        assert environment["DJANGO_SETTINGS_MODULE"] == "config.django.production"
        missing = [name for name in [*required, *unless_sandbox] if name not in environment]
        assert not missing, f"{service} does not get {missing} in docker-compose.yml"
        assert services[service]["env_file"] == ".env"


def test_compose_refuses_to_start_without_the_secrets():
    environment = compose()["x-app-environment"]
    for name in ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS"):
        assert re.fullmatch(rf"\$\{{{name}:\?.+\}}", environment[name]), f"{name} should be ${{{name}:?message}}"
    assert ":?" in compose()["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"]
    assert ":?" in compose()["services"]["flower"]["environment"]["FLOWER_BASIC_AUTH"]


def test_the_derived_database_url_uses_the_postgres_service_credentials():
    url = compose()["x-app-environment"]["DATABASE_URL"]
    # The processes connect as the app role; only the web start (migrations) gets the owner's URL.
    assert compose_default(url) == "postgres://${POSTGRES_APP_USER:-blu_app}:${POSTGRES_APP_PASSWORD}@postgres:5432/${POSTGRES_DB:-blu}"
    owner = compose()["services"]["web"]["environment"]["DATABASE_OWNER_URL"]
    assert compose_default(owner) == "postgres://${POSTGRES_USER:-blu}:${POSTGRES_PASSWORD}@postgres:5432/${POSTGRES_DB:-blu}"
    for service in ("worker", "beat", "flower"):
        assert "DATABASE_OWNER_URL" not in compose()["services"][service].get("environment", {}), service
    assert ":?" in compose()["services"]["postgres"]["environment"]["POSTGRES_APP_PASSWORD"]
    postgres = compose()["services"]["postgres"]["environment"]
    assert postgres["POSTGRES_USER"] == "${POSTGRES_USER:-blu}" and postgres["POSTGRES_DB"] == "${POSTGRES_DB:-blu}"
