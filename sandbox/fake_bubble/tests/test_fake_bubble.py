"""The fake Bubble answers like Bubble (docs/integrations.md#evidence), over HTTP, and misbehaves on demand."""

import json
import time
from decimal import Decimal

import pytest
import requests

from testsupport.fake_systems import BUBBLE_TEST_TOKEN

pytestmark = pytest.mark.django_db(transaction=True)
AUTH = {"Authorization": f"Bearer {BUBBLE_TEST_TOKEN}"}


@pytest.fixture
def api(fake_bubble, live_server):
    fake_bubble.put_order("1x1", cliente="2x2", valor_total=Decimal("10.50"))
    control = f"{live_server.url}/sandbox/bubble/_control"

    class Api:
        base = fake_bubble.base_url
        fake = fake_bubble

        @staticmethod
        def url(type_name="pedido", bubble_id="1x1"):
            return f"{fake_bubble.base_url}/obj/{type_name}/{bubble_id}"

        @staticmethod
        def control(path="/", **body):
            return requests.post(f"{control}{path}", json=body, timeout=5)

        @staticmethod
        def get_control(path="/", **params):
            return requests.get(f"{control}{path}", params=params, timeout=5)

    return Api


def test_get_answers_the_thing_in_a_response_envelope(api):
    answer = requests.get(api.url(), headers=AUTH, timeout=5)
    assert answer.status_code == 200
    body = answer.json(parse_float=Decimal)["response"]
    assert body["_id"] == "1x1" and body["cliente"] == "2x2" and body["valor_total"] == Decimal("10.50")
    assert "Created Date" in body and "Modified Date" in body


@pytest.mark.parametrize("missing_status", [404, 400])
def test_a_missing_thing_answers_the_missing_data_envelope(api, missing_status):
    api.fake.control(missing_status=missing_status)
    answer = requests.get(api.url(bubble_id="9x9"), headers=AUTH, timeout=5)
    assert answer.status_code == missing_status
    body = answer.json()
    assert body["statusCode"] == missing_status and body["body"]["status"] == "MISSING_DATA"
    assert "9x9" in body["body"]["message"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": BUBBLE_TEST_TOKEN}])
def test_a_wrong_or_missing_bearer_gets_401(api, headers):
    answer = requests.get(api.url(), headers=headers, timeout=5)
    assert answer.status_code == 401 and answer.json()["body"]["status"] == "UNAUTHORIZED"


def test_patch_answers_204_merges_and_is_recorded_in_order(api):
    for value in ("Sincronizado", "Erro de sincronização"):
        answer = requests.patch(api.url(), headers=AUTH, data=json.dumps({"status_pedido": value}), timeout=5)
        assert answer.status_code == 204 and answer.content == b""
    requests.patch(api.url(), headers=AUTH, data='{"nf_numero": "7"}', timeout=5)
    assert api.fake.thing("order", "1x1") == {"cliente": "2x2", "valor_total": Decimal("10.50"),
                                               "status_pedido": "Erro de sincronização", "nf_numero": "7"}
    assert [p.body for p in api.fake.patches("order", "1x1")] == [
        {"status_pedido": "Sincronizado"}, {"status_pedido": "Erro de sincronização"}, {"nf_numero": "7"},
    ]
    listed = api.get_control("/patches", type="pedido", id="1x1").json()["patches"]
    assert [p["body"] for p in listed] == [p.body for p in api.fake.patches("order", "1x1")]


def test_patch_of_a_missing_thing_or_with_a_bad_body_is_refused_and_recorded(api):
    assert requests.patch(api.url(bubble_id="9x9"), headers=AUTH, json={"a": 1}, timeout=5).status_code == 404
    bad = requests.patch(api.url(), headers=AUTH, data="not json", timeout=5)
    assert bad.status_code == 400 and bad.json()["body"]["status"] == "INVALID_DATA"
    assert requests.patch(api.url(), headers=AUTH, data="[1]", timeout=5).status_code == 400
    assert [p.status_code for p in api.fake.patches(ok_only=False)] == [404, 400, 400]
    assert api.fake.patches() == []


def test_an_outage_for_the_next_n_calls_then_recovery(api):
    assert api.control(outage_status=503, outage_calls_left=2).json()["outage_calls_left"] == 2
    statuses = [requests.get(api.url(), headers=AUTH, timeout=5).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert api.get_control().json()["outage_status"] is None


def test_an_outage_for_every_call_until_cleared(api):
    api.control(outage_status=429)
    answers = [requests.patch(api.url(), headers=AUTH, json={"a": i}, timeout=5) for i in range(3)]
    assert {a.status_code for a in answers} == {429}
    assert answers[0].json()["body"]["status"] == "TOO_MANY_REQUESTS"
    api.control(outage_status=None)
    assert requests.get(api.url(), headers=AUTH, timeout=5).status_code == 200
    assert "a" not in api.fake.thing("order", "1x1")


def test_latency_is_added_to_every_call(api):
    api.control(latency_ms=300)
    started = time.monotonic()
    requests.get(api.url(), headers=AUTH, timeout=5)
    assert time.monotonic() - started >= 0.3


def test_the_control_endpoint_validates_and_creates_things(api):
    assert api.control(outage_status=418).status_code == 400
    assert api.control(nonsense=1).status_code == 400
    created = api.control("/things", type="cliente", id="5x5", fields={"nome": "Ana", "saldo_cc": 1.5})
    assert created.status_code == 201
    assert api.fake.thing("customer", "5x5") == {"nome": "Ana", "saldo_cc": Decimal("1.5")}
    assert api.control("/things", type="cliente").status_code == 400
    assert requests.post(f"{api.base.rsplit('/api/', 1)[0]}/_control/reset", json={"clear_data": True}, timeout=5).ok
    assert api.fake.thing("customer", "5x5") is None
