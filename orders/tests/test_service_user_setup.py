"""A service user set up exactly as docs/deploying.md says may call every endpoint Bubble calls.

Second security review: the service group created by the migrations lacked ``orders.add_order``, so
such a user got 403 on ``POST /v1/orders/{id}/sync-omie``; the tests used a superuser, which hid it.
"""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from rest_framework.test import APIClient

from billing.permissions import SERVICE_PERMISSIONS
from common.api.auth import SERVICE_GROUP

pytestmark = pytest.mark.django_db

BUBBLE_ID = "1671702337369x488321592367327900"


def _api_permissions() -> set[str]:
    """The ``required_permission`` of every view under /v1/."""
    from django.urls import URLPattern, URLResolver, get_resolver

    found: set[str] = set()

    def walk(patterns: list, prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern) and (prefix + str(pattern.pattern)).startswith("v1/"):
                permission = getattr(getattr(pattern.callback, "view_class", None), "required_permission", "")
                if permission:
                    found.add(permission)

    walk(get_resolver().url_patterns, "")
    return found


def test_the_migrated_service_group_holds_every_permission_the_api_requires():
    group = Group.objects.get(name=SERVICE_GROUP)
    held = {f"{app}.{codename}" for app, codename in group.permissions.values_list("content_type__app_label", "codename")}
    required = _api_permissions()
    assert {"orders.add_order", "orders.view_order", "orders.retry_order", "billing.cancel_nf"} <= required
    assert required <= held, required - held
    assert required <= set(SERVICE_PERMISSIONS) | {p for p in required if ".view_" in p}


def test_the_deploying_md_service_user_triggers_a_sync_and_reads_the_order():
    # docs/deploying.md: create_user('bubble') (no password: API only), then issue_service_token bubble --days 365.
    get_user_model().objects.create_user("bubble")
    out = io.StringIO()
    call_command("issue_service_token", "bubble", "--days", "365", stdout=out, stderr=io.StringIO())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {out.getvalue().strip()}")
    user = get_user_model().objects.get(username="bubble")
    assert not (user.is_superuser or user.is_staff)
    assert client.post(f"/v1/orders/{BUBBLE_ID}/sync-omie", {}, format="json").status_code == 202
    assert client.get(f"/v1/orders/{BUBBLE_ID}").status_code == 200


def test_the_migration_grants_add_order_to_a_group_created_before_it():
    """An existing deployment's group (made by 0004 without the permission) gets it from 0010."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("billing.migrations.0010_service_group_add_order")
    group = Group.objects.get(name=SERVICE_GROUP)
    group.permissions.remove(*group.permissions.filter(content_type__app_label="orders", codename="add_order"))
    modules_before = {config.label: config.models_module for config in apps.get_app_configs()}
    migration.grant_add_order(apps, None)
    assert group.permissions.filter(content_type__app_label="orders", codename="add_order").exists()
    # The live app registry is left as it was (post_migrate after a test flush relies on it).
    assert {config.label: config.models_module for config in apps.get_app_configs()} == modules_before
