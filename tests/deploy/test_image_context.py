"""The production image's build context: .dockerignore keeps the sandbox (fake systems, demo flow), the tests
and the benches out, and what the image's processes import starts without them.

There is no Docker engine here: the context is the tree as `docker build` would send it (.dockerignore
applied), copied to a directory of its own, and the image's start-up runs from that copy under production
settings — so a production module that needs ``sandbox`` (or a test module) fails here, not on a server.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.files import ROOT, dockerfile_stages
from tests.deploy.test_production_settings import realistic_env

PRODUCTION_PACKAGES = ("common", "config", "integrations", "orders", "billing", "backoffice")
OUTSIDE_THE_PRODUCT = ("sandbox", "tests", "testsupport", "bench", "conftest.py")


def dockerignore_patterns() -> list[str]:
    lines = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    patterns = [line for line in lines if line and not line.startswith("#")]
    assert not any(p.startswith("!") for p in patterns), "an exception (!pattern) in .dockerignore: teach context_files() about it"
    return patterns


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """Docker's matching (Go's filepath.Match plus ``**``), anchored at the context's root, unlike .gitignore."""
    out, i, pattern = "", 0, pattern.strip("/")
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def context_files(root: Path = ROOT) -> list[str]:
    """The files `docker build .` sends (relative, POSIX): a matching directory takes its whole subtree out."""
    patterns = [_pattern_regex(p) for p in dockerignore_patterns()]

    def ignored(relative: str) -> bool:
        return any(p.match(relative) for p in patterns)

    files: list[str] = []
    for directory, dirnames, filenames in os.walk(root):
        base = Path(directory).relative_to(root).as_posix()
        prefix = "" if base == "." else f"{base}/"
        dirnames[:] = sorted(d for d in dirnames if not ignored(prefix + d))
        files += [prefix + name for name in sorted(filenames) if not ignored(prefix + name)]
    return files


def test_the_patterns_match_as_docker_matches_them():
    assert _pattern_regex("sandbox").match("sandbox") and not _pattern_regex("sandbox").match("var/sandbox")
    assert _pattern_regex("**/tests").match("billing/tests") and _pattern_regex("**/tests").match("tests")
    assert _pattern_regex("*.log").match("x.log") and not _pattern_regex("*.log").match("var/x.log")


def test_the_image_is_built_from_the_whole_context():
    # What the context holds is what the app image holds: COPY . . (no other COPY from the context but the lock file).
    assert (".", ".") in dockerfile_stages()["app"].copies


def test_the_context_has_no_sandbox_tests_or_benches():
    files = context_files()
    leaked = [f for f in files if f.split("/")[0] in OUTSIDE_THE_PRODUCT or "/tests/" in f"/{f}"]

    assert not leaked, f"outside the product but in the image: {leaked[:10]}"
    assert {"manage.py", "config/wsgi.py", "config/celery.py", "docker/start-web", "docker/migrate.py"} <= set(files)


# Every process of the image starts like this: gunicorn (config.gunicorn, config.wsgi), Celery worker and beat
# (config.celery and every task module), the migration step (every migration), and the URL map; then every
# module of the production packages, so an import further down a view or an admin fails too.
START_UP = f"""
import importlib, importlib.util, pathlib
assert importlib.util.find_spec("sandbox") is None, "a sandbox package is importable from the image's context"
import config.gunicorn, config.wsgi
from config.celery import app
app.loader.import_default_modules()
from django.urls import get_resolver
get_resolver().reverse_dict
from django.db.migrations.loader import MigrationLoader
MigrationLoader(None, ignore_no_migrations=True)
count = 0
for package in {PRODUCTION_PACKAGES!r}:
    for path in sorted(pathlib.Path(package).rglob("*.py")):
        name = ".".join(path.with_suffix("").parts).removesuffix(".__init__")
        importlib.import_module(name)
        count += 1
print("imported", count)
"""


@pytest.fixture(scope="module")
def image_context(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("image") / "app"
    for relative in context_files():
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / relative, destination, follow_symlinks=False)
    return target


def _in_image(context: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "prometheus").mkdir()
    env = realistic_env(PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus"))
    return subprocess.run([sys.executable, *args], cwd=context, env=env, capture_output=True, text=True, timeout=180)


def test_what_the_image_runs_imports_nothing_outside_the_context(image_context, tmp_path):
    assert not (image_context / "sandbox").exists()

    result = _in_image(image_context, tmp_path, "-c", START_UP)

    assert result.returncode == 0, result.stdout + result.stderr
    assert int(result.stdout.split()[-1]) > 300


def test_the_image_passes_the_deploy_checks_without_the_sandbox(image_context, tmp_path):
    result = _in_image(image_context, tmp_path, "manage.py", "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr


def test_a_forced_sandbox_in_the_image_is_refused_with_the_reason(image_context, tmp_path):
    env = realistic_env(SANDBOX="true", SANDBOX_FORCE="true")
    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=image_context, env=env,
                            capture_output=True, text=True, timeout=120)

    assert result.returncode != 0
    assert "no sandbox/ package" in result.stderr
