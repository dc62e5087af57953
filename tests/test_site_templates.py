"""The site-wide templates live in the top-level templates/ (docs/architecture.md): the admin's frame and login,
the lockout page and the 403/404/500 pages are found there first, no app keeps a second copy, and the
production image carries the folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.template.loader import get_template

from testsupport.processes import ROOT

SITE = ROOT / "templates"
SITE_WIDE = ["admin/base_site.html", "admin/login.html", "admin/lockout.html", "standalone_base.html",
             "403.html", "404.html", "500.html"]


def test_the_settings_search_the_top_level_templates_first():
    assert [Path(d) for d in settings.TEMPLATES[0]["DIRS"]] == [SITE]


@pytest.mark.parametrize("name", SITE_WIDE)
def test_each_site_wide_template_is_found_in_the_top_level_folder(name):
    assert Path(get_template(name).origin.name) == SITE / name


def test_the_top_level_folder_holds_only_the_site_wide_templates():
    """An app's own page goes in its app; a new site-wide one is added to SITE_WIDE here."""
    assert sorted(str(p.relative_to(SITE)) for p in SITE.rglob("*.html")) == sorted(SITE_WIDE)


def test_no_app_keeps_a_shadowed_copy_of_a_site_wide_template():
    ours = [config for config in apps.get_app_configs() if "site-packages" not in Path(config.path).parts]
    copies = [f"{config.label}: {name}" for config in ours for name in SITE_WIDE if (Path(config.path) / "templates" / name).exists()]
    assert copies == []


def test_the_production_image_gets_the_templates():
    ignored = {line.strip().rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert "templates" not in ignored and "templates/**" not in ignored
    assert "COPY . ." in (ROOT / "docker" / "Dockerfile").read_text()
