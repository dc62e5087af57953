"""The error pages a person meets outside the API, in Portuguese: a 500 in the admin's look (never
Django's bare English "Server Error"), a 404 the same way, and the 403 heading once. Under /v1/ a 500
is the JSON envelope (test_error_envelope.py)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from backoffice.ops_language import ops_text_problems, visible_text

pytestmark = pytest.mark.django_db


def test_a_page_that_breaks_answers_a_portuguese_500_page(settings):
    settings.ROOT_URLCONF = "common.tests.urls"
    settings.DEBUG = False
    response = Client(raise_request_exception=False).get("/_test/explode-page/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Algo deu errado do nosso lado" in html and 'lang="pt-br"' in html and "/admin/" in html
    assert "boom" not in html and ops_text_problems(visible_text(html)) == []


def test_the_api_answers_its_500_as_json(settings, auth_client):
    settings.ROOT_URLCONF = "common.tests.urls"
    settings.DEBUG = False
    auth_client.raise_request_exception = False
    response = auth_client.get("/v1/_test/explode/")
    assert response.status_code == 500 and response.json()["error"]["code"] == "internal_error"


def test_an_unknown_page_answers_a_portuguese_404(settings, admin_client):
    settings.DEBUG = False
    response = admin_client.get("/admin-nao-existe/")
    html = response.content.decode()
    assert response.status_code == 404 and "Página não encontrada" in html and "Not Found" not in html


def test_the_403_page_says_sem_permissao_once(client, user_factory):
    from django.contrib.auth.models import Group

    from billing.permissions import OPS_GROUP

    ops = user_factory("ops", is_staff=True)
    ops.groups.add(Group.objects.get_or_create(name=OPS_GROUP)[0])
    client.force_login(ops)
    response = client.get("/admin/verificar-integracoes/")
    headings = re.findall(r"<h1[^>]*>(.*?)</h1>", response.content.decode(), re.S)
    assert response.status_code == 403 and [h for h in headings if "Sem permissão" in h] == ["Sem permissão"], headings
