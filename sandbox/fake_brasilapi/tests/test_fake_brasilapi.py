"""The fake BrasilAPI answers like BrasilAPI (docs/integrations.md#evidence), over HTTP, and misbehaves on demand."""

import time

import pytest
import requests

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api(fake_brasilapi, live_server):
    fake_brasilapi.put_company("11222333000181", razao_social="PADARIA LTDA", situacao_cadastral=8, false_404_left=0)

    class Api:
        fake = fake_brasilapi
        control_url = f"{live_server.url}/sandbox/brasilapi/_control"

        @staticmethod
        def get(cnpj="11222333000181"):
            return requests.get(f"{fake_brasilapi.base_url}/cnpj/v1/{cnpj}", timeout=5)

    return Api


def test_a_known_company_answers_brasilapis_shape(api):
    answer = api.get()
    assert answer.status_code == 200
    body = answer.json()
    assert body["cnpj"] == "11222333000181" and body["razao_social"] == "PADARIA LTDA"
    assert (body["situacao_cadastral"], body["descricao_situacao_cadastral"]) == (8, "BAIXADA")
    assert body["ddd_fax"] == "" and "qsa" in body and "cnae_fiscal" in body


def test_unknown_and_invalid_cnpjs(api):
    unknown = api.get("45997418000153")
    assert unknown.status_code == 404
    assert unknown.json() == {"message": "CNPJ 45.997.418/0001-53 não encontrado.", "type": "not_found", "name": "NotFoundError"}
    invalid = api.get("123")
    assert invalid.status_code == 400 and invalid.json()["name"] == "BadRequestError"


def test_false_404s_come_first_then_the_company(api):
    api.fake.put_company("11222333000181", false_404_left=2)
    assert [api.get().status_code for _ in range(3)] == [404, 404, 200]
    assert [lookup.status_code for lookup in api.fake.lookups("11222333000181")] == [404, 404, 200]


def test_rate_limiting_answers_plain_text_like_vercel(api):
    api.fake.control(fail_status=429, fail_calls_left=1)
    answer = api.get()
    assert answer.status_code == 429 and answer.text == "Too Many Requests"
    assert answer.headers["x-vercel-mitigated"] == "deny" and answer.headers["Content-Type"].startswith("text/plain")
    assert api.get().status_code == 200


def test_latency_and_control_over_http(api):
    assert requests.post(api.control_url + "/", json={"latency_ms": 250}, timeout=5).json()["latency_ms"] == 250
    started = time.monotonic()
    api.get()
    assert time.monotonic() - started >= 0.25
    assert requests.post(api.control_url + "/", json={"fail_status": 404}, timeout=5).status_code == 400
    company = {"cnpj": "12.ABC.345/01DE-35", "razao_social": "ALFA"}
    created = requests.post(api.control_url + "/companies", json=company, timeout=5)
    assert created.status_code == 201 and api.get("12ABC34501DE35").json()["razao_social"] == "ALFA"
    listed = requests.get(api.control_url + "/lookups", params={"cnpj": "12ABC34501DE35"}, timeout=5).json()["lookups"]
    assert [item["status"] for item in listed] == [200]
