"""The superuser's admin in a real browser (headless Chromium): every changelist linked from the
index, the first row's change form and the add form of each, checked against the forbidden-text list
(backoffice/ops_language.py) — the pages ops rarely open (login lockouts, authenticators, users and
groups with their 216 permissions, periodic tasks and their schedules, task results) included.

The sandbox's fakes (``/admin/fake_*``) are left out: they exist only in sandbox mode, as developer
tools, never in production. Also: django-axes' lockout page and the error pages are Portuguese.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from backoffice.ops_language import ops_text_problems, visible_text
from backoffice.tests.test_ops_day_walk import CHROMEDRIVER, CHROMIUM, PASSWORD, Walk, browser  # noqa: F401
from backoffice.tests.test_ops_language import data  # noqa: F401
from orders.models import ActionLog

pytestmark = [pytest.mark.django_db(transaction=True)]


def _admin_paths(html: str) -> list[str]:
    return sorted(set(re.findall(r'href="(/admin/(?!fake_)[a-z_]+/[a-z_]+/)"', html)))


@pytest.mark.slow
@pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()), reason="needs Debian's chromium and chromium-driver")
def test_every_superuser_page_is_in_portuguese(live_server, browser, data, user_factory, client):  # noqa: F811
    from axes.models import AccessAttempt

    admin = user_factory("carla.admin", password=PASSWORD, is_staff=True, is_superuser=True, first_name="Carla")
    user_factory("ana.ops", password=PASSWORD, is_staff=True).groups.add(Group.objects.get(name="Ops"))
    ActionLog.objects.create(actor="admin:carla.admin", action="sync_trigger", order=data[0], order_bubble_id=data[0].bubble_id,
                             outcome="ok", message="Sincronização pedida.")
    client.post("/admin/login/", {"username": "ana.ops", "password": "errada"})  # an axes attempt and failure row
    assert AccessAttempt.objects.exists()
    walk = Walk(browser, live_server.url)
    walk.login("carla.admin")
    index = walk.open("/admin/")
    paths = _admin_paths(browser.page_source)
    assert len(paths) >= 25, paths
    assert "/admin/auth/user/" in paths and "/admin/twofa/authenticator/" in paths and "/admin/axes/accesslog/" in paths
    assert "OTP_TOTP" not in index
    for path in paths:
        walk.open(path)
        html = browser.page_source
        rows = re.findall(r'href="(' + re.escape(path) + r'[^"/?]+/change/)[^"]*"', html)
        for change in rows[:1]:
            walk.open(change.replace("&amp;", "&"))
        if re.search(r'href="' + re.escape(path) + r'add/"', html):
            walk.open(path + "add/")
    # The user page's permission widget (its two lists are drawn by JavaScript): Portuguese labels.
    shown = walk.open(f"/admin/auth/user/{admin.pk}/change/")
    assert "Pedidos › pedido — pode ver" in browser.page_source or "pode ver" in shown
    assert walk.problems == [], "\n".join(walk.problems)
    assert len(walk.seen) > 50, walk.seen


def test_the_lockout_page_is_in_portuguese(user_factory, settings):
    user_factory("ana.ops", is_staff=True)
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        response = client.post("/admin/login/", {"username": "ana.ops", "password": "errada"})
    html = response.content.decode()
    assert response.status_code == 429 or response.status_code == 403, response.status_code
    assert "Acesso bloqueado por excesso de tentativas" in html and "axes_reset_username" in html
    assert ops_text_problems(visible_text(html)) == []


def test_permission_labels_are_portuguese():
    from django.contrib.auth.models import Permission

    from backoffice.admin.users import permission_label

    assert permission_label(Permission.objects.get(codename="view_order")) == "Pedidos › pedido — pode ver"
    labels = [permission_label(p) for p in Permission.objects.select_related("content_type")]
    assert len(labels) > 200 and not [label for label in labels if ops_text_problems(label)]
