"""The rooms of the house: which app may import which (.importlinter), and production ships no fakes."""

from __future__ import annotations

import configparser
import subprocess
import sys

import pytest

from tests.deploy.test_production_settings import realistic_env, show
from testsupport.processes import ROOT


def _contracts() -> list[str]:
    parser = configparser.ConfigParser()
    parser.read(ROOT / ".importlinter")
    return [section.removeprefix("importlinter:contract:") for section in parser.sections() if section.startswith("importlinter:contract:")]


def _lint(contract: str) -> subprocess.CompletedProcess[str]:
    code = f"from importlinter.cli import lint_imports; raise SystemExit(lint_imports(limit_to_contracts=({contract!r},), no_cache=True))"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("contract", _contracts())
def test_it_keeps_the_import_contract(contract):
    result = _lint(contract)

    assert result.returncode == 0, result.stdout + result.stderr


def test_it_checks_the_contracts_the_architecture_needs():
    assert {"common-imports-no-app", "integrations-import-no-domain", "nothing-imports-backoffice", "services-import-no-tasks",
            "production-imports-no-testsupport", "production-imports-no-sandbox",
            "layers"} <= set(_contracts())


def test_it_installs_no_sandbox_app_in_production_and_installs_them_with_sandbox_on():
    production = show(realistic_env(), "settings.INSTALLED_APPS")
    demo = show(realistic_env(SANDBOX="true", SANDBOX_FORCE="true"), "settings.INSTALLED_APPS")

    assert "sandbox" not in production
    assert "sandbox.fake_omie" in demo and "sandbox.fake_bubble" in demo
