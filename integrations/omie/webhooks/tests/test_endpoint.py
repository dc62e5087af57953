"""POST /webhooks/omie/<token>: who is refused, what is stored, and the answer when the database is down."""

from __future__ import annotations

import json

import psycopg
import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client

from integrations.omie.webhooks.fields import event_facts
from integrations.omie.webhooks.models import OmieWebhookEvent

TOKEN = "k" * 40
OLD_TOKEN = "o" * 40


@pytest.fixture
def on(settings):
    settings.OMIE_WEBHOOKS = True
    settings.OMIE_WEBHOOK_TOKEN = TOKEN
    settings.OMIE_WEBHOOK_TOKEN_PREVIOUS = ""
    return settings


def post(token: str, body: object = None, *, raw: bytes | None = None):
    data = raw if raw is not None else json.dumps(body).encode()
    return Client().post(f"/webhooks/omie/{token}", data=data, content_type="application/json")


EVENT = {"messageId": "m-1", "topic": "NFSe.NotaAutorizada", "event": {"idOrdemServico": 5, "numeroNfse": "12"},
         "author": {"name": "x"}, "appKey": "k", "appHash": "h", "origin": "o"}


@pytest.mark.django_db
def test_a_wrong_token_is_404_exactly_like_an_unknown_url(on):
    wrong = post("w" * 40, EVENT)
    unknown = Client().post("/webhooks/nothing-here", data=b"{}", content_type="application/json")
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()
    assert Client().get(f"/webhooks/omie/{'w' * 40}").status_code == 404  # not even a 405 for a wrong token
    assert not OmieWebhookEvent.objects.exists()


@pytest.mark.django_db
def test_webhooks_off_answer_404_even_with_the_token(on):
    on.OMIE_WEBHOOKS = False
    assert post(TOKEN, EVENT).status_code == 404


@pytest.mark.django_db
def test_an_event_is_stored_raw_once_and_a_repeat_is_200(on):
    first, again = post(TOKEN, EVENT), post(TOKEN, EVENT)
    assert first.status_code == again.status_code == 200
    assert first.json() == {"received": True, "duplicate": False} and again.json()["duplicate"] is True
    event = OmieWebhookEvent.objects.get()
    assert event.payload == EVENT and event.topic == "NFSe.NotaAutorizada" and event.deliveries == 2 and event.status == "RECEIVED"


@pytest.mark.django_db
def test_the_previous_token_is_accepted_during_a_rotation(on):
    assert post(OLD_TOKEN, EVENT).status_code == 404
    on.OMIE_WEBHOOK_TOKEN_PREVIOUS = OLD_TOKEN
    assert post(OLD_TOKEN, EVENT).status_code == 200
    assert post(TOKEN, {**EVENT, "messageId": "m-2"}).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("body", [
    [1, 2, 3],
    "texto",
    {"topic": "Financas.ContaReceber.Incluida", "event": {"x": 1}},  # unknown topic, no messageId
    {"messageId": "m-odd", "topic": "NFSe.NotaAutorizada", "event": "not an object"},
    {"messageId": "m-nul", "topic": "NFSe.NotaAutorizada", "event": {"numeroNfse": "1\u0000"}},
])
def test_any_authentic_json_is_kept_and_answered_200(on, body):
    assert post(TOKEN, body).status_code == 200
    assert OmieWebhookEvent.objects.count() == 1
    assert post(TOKEN, body).json()["duplicate"] is True  # keyed by the body when it has no messageId


@pytest.mark.django_db
def test_not_json_is_400_and_an_oversized_body_is_413(on):
    assert post(TOKEN, raw=b"{not json").status_code == 400
    assert post(TOKEN, raw=b'{"a": NaN}').status_code == 400
    big = json.dumps({"messageId": "big", "pad": "x" * django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE}).encode()
    assert post(TOKEN, raw=big).status_code == 413
    assert not OmieWebhookEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_database_that_cannot_store_answers_503_so_omie_retries(on):
    """The table is locked by another session and our insert times out: 503, not 200."""
    dsn = connection.get_connection_params()
    with psycopg.connect(**{k: v for k, v in dsn.items() if k in ("host", "port", "user", "password", "dbname")}) as other:
        other.execute(f'LOCK TABLE "{OmieWebhookEvent._meta.db_table}" IN ACCESS EXCLUSIVE MODE')
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '300ms'")
        answer = post(TOKEN, EVENT)
        other.rollback()
    assert answer.status_code == 503 and answer.json()["error"]["code"] == "unavailable"
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = 0")
    assert post(TOKEN, EVENT).status_code == 200  # Omie's retry is stored


NFSE_XML = ('<?xml version="1.0" encoding="UTF-8"?><NFSe xmlns="http://www.sped.fazenda.gov.br/nfse" versao="1.00">'
            '<infNFSe Id="NFS35503081122233300018100000000010090000000000000009"><nNFSe>1009</nNFSe></infNFSe></NFSe>')


def test_the_documented_event_shapes_map_to_facts():
    """NFSe.* as Omie sends them (codigo_os, numero_os, id_nf, numero_rps, data_emis, nfse_xml: no number field);
    OrdemServico.* in camelCase, codigoIntegracao "0" meaning none."""
    nota = {"topic": "NFSe.NotaAutorizada", "appKey": "k", "event": {
        "codigo_os": 3100000007, "numero_os": "7", "id_nf": 9, "numero_rps": "9", "data_emis": "07/12/2026", "nfse_xml": NFSE_XML}}
    os_event = {"topic": "OrdemServico.Faturada", "appKey": "k", "event": {
        "idOrdemServico": 3100000007, "numeroOrdemServico": "7", "codigoIntegracao": "b-7", "faturada": "S"}}
    by_hand = {"topic": "OrdemServico.Faturada", "event": {"idOrdemServico": 3100000008, "codigoIntegracao": "0"}}
    nota_facts, os_facts, hand_facts = (event_facts(p, message_id="m") for p in (nota, os_event, by_hand))
    assert nota_facts.valid and nota_facts.os_id == 3100000007 and nota_facts.nf_id == "9"
    assert nota_facts.nfse_number == "1009" and nota_facts.access_key == "35503081122233300018100000000010090000000000000009"
    assert nota_facts.app_key == "k" and "nfse_xml" in nota_facts.fields_seen
    assert os_facts.valid and os_facts.os_id == 3100000007 and os_facts.c_cod_int_os == "b-7"
    assert hand_facts.c_cod_int_os == ""  # "0": an OS without an integration code
    assert not event_facts({"topic": "NFSe.NotaAutorizada", "event": {"foo": 1}}, message_id="m").valid


def test_the_event_xml_is_read_without_entities_or_network():
    from integrations.omie.nfse_xml import nfse_xml_facts

    abrasf = ("<CompNfse><Nfse><InfNfse><Numero>000123</Numero><CodigoVerificacao>AB-12</CodigoVerificacao>"
              "<PrestadorServico><Numero>999</Numero></PrestadorServico></InfNfse></Nfse></CompNfse>")
    assert (nfse_xml_facts(abrasf).number, nfse_xml_facts(abrasf).verification_code) == ("123", "AB-12")
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><NFSe><nNFSe>&b;</nNFSe></NFSe>'
    external = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "http://127.0.0.1:9/x">]><NFSe><nNFSe>&e;</nNFSe></NFSe>'
    for hostile in (bomb, external):
        facts = nfse_xml_facts(hostile)
        assert facts.number == "" and "inseguro" in facts.problem
    assert nfse_xml_facts("https://omie.example/nfse.xml").problem == "o campo traz um link, não o XML"
    assert nfse_xml_facts("<NFSe><nNFSe>12").problem.startswith("XML inválido")


def test_the_token_never_reaches_a_log_line():
    from types import SimpleNamespace

    from common.logging import redact
    from config.gunicorn_logging import RedactingLogger

    assert redact(f"Not Found: /webhooks/omie/{TOKEN}") == "Not Found: /webhooks/omie/[redacted]"
    logger = RedactingLogger(SimpleNamespace(**{"errorlog": "-", "loglevel": "info", "accesslog": None, "syslog": False,
                                                "capture_output": False, "logconfig": None, "logconfig_dict": {},
                                                "logconfig_json": None, "disable_redirect_access_to_syslog": False,
                                                "access_log_format": "%(r)s", "user": 0, "group": 0, "umask": 0,
                                                "dogstatsd_tags": "", "statsd_host": None, "statsd_prefix": "",
                                                "env": {}, "worker_class_str": "sync", "proc_name": "x"}))
    req = SimpleNamespace(method="POST", path=f"/webhooks/omie/{TOKEN}", query="", version=(1, 1), uri=f"/webhooks/omie/{TOKEN}",
                          headers=[])
    resp = SimpleNamespace(status="200 OK", sent=10, headers=[], response_length=10)
    environ = {"REQUEST_METHOD": "POST", "RAW_URI": f"/webhooks/omie/{TOKEN}", "PATH_INFO": f"/webhooks/omie/{TOKEN}",
               "QUERY_STRING": "", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1"}
    import datetime

    atoms = logger.atoms(resp, req, environ, datetime.timedelta(seconds=0.01))
    assert TOKEN not in atoms["r"] and TOKEN not in atoms["U"] and "[redacted]" in atoms["U"]
