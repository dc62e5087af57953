"""cnpj_lookup against the fake BrasilAPI over real HTTP (and a broken server), with the real Redis limit."""

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.brasilapi.errors import (
    BrasilApiError,
    BrasilApiNotNow,
    BrasilApiTransientError,
    CnpjNotFound,
    CnpjNotFoundYet,
    InvalidCnpj,
)
from integrations.brasilapi.models import CompanyRecord
from integrations.brasilapi.services import cnpj_lookup
from integrations.http import IntegrationError, NotNow

ACTIVE = "11.222.333/0001-81"
ALNUM = "12.ABC.345/01DE-35"
UNKNOWN = "45.997.418/0001-53"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def brasilapi(fake_brasilapi, settings):
    settings.BRASILAPI_RATE_PER_SECOND = 1000.0  # tests of the rate limit set it back to 1
    settings.BRASILAPI_NOT_FOUND_RETRY_SECONDS = 30.0
    fake_brasilapi.put_company(
        ACTIVE, razao_social="PADARIA PAO QUENTE LTDA", nome_fantasia="", situacao_cadastral=2, email="Fin@Pao.Example.com",
        telefone="1133334444", cep="01310100", logradouro="PAULISTA", numero="", complemento="", bairro="BELA VISTA",
        municipio="SAO PAULO", uf="sp",
    )
    return fake_brasilapi


def test_a_lookup_returns_normalised_company_data(brasilapi):
    company = cnpj_lookup(cnpj=ACTIVE)
    assert company.cnpj == "11222333000181"
    assert company.razao_social == "PADARIA PAO QUENTE LTDA"
    assert company.situacao_cadastral == "ATIVA" and company.is_active is True
    assert company.nome_fantasia is None and company.complemento is None  # "" → None
    assert company.numero == "S/N"  # BrasilAPI's own value for an empty number
    assert (company.email, company.phone, company.cep, company.uf) == ("fin@pao.example.com", "1133334444", "01310100", "SP")
    assert company.fetched_at <= timezone.now()


@pytest.mark.parametrize(("situacao", "label"), [(8, "BAIXADA"), (4, "INAPTA"), (3, "SUSPENSA")])
def test_inactive_companies_say_so(brasilapi, situacao, label):
    brasilapi.put_company(ALNUM, situacao_cadastral=situacao)
    company = cnpj_lookup(cnpj=ALNUM)
    assert (company.cnpj, company.situacao_cadastral, company.is_active) == ("12ABC34501DE35", label, False)


def test_within_30_days_the_cache_answers_without_a_call(brasilapi, settings, redis_client):
    settings.BRASILAPI_RATE_PER_SECOND = 1.0
    first = cnpj_lookup(cnpj=ACTIVE)
    for _ in range(3):
        assert cnpj_lookup(cnpj="11222333000181") == first  # no rate slot needed either
    assert len(brasilapi.lookups()) == 1

    CompanyRecord.objects.filter(cnpj="11222333000181").update(fetched_at=timezone.now() - timedelta(days=30, seconds=1))
    redis_client.delete("blu:throttle:brasilapi")  # the next rate slot, not the cache, is what we test here
    assert cnpj_lookup(cnpj=ACTIVE).fetched_at > first.fetched_at
    assert len(brasilapi.lookups()) == 2


def test_the_rate_limit_says_not_now_instead_of_calling(brasilapi, settings):
    settings.BRASILAPI_RATE_PER_SECOND = 1.0
    brasilapi.put_company(ALNUM)
    cnpj_lookup(cnpj=ACTIVE)
    with pytest.raises(BrasilApiNotNow) as caught:
        cnpj_lookup(cnpj=ALNUM)
    assert isinstance(caught.value, NotNow) and isinstance(caught.value, BrasilApiError)
    assert caught.value.permanent is False and 0 < caught.value.retry_after <= 1.0
    assert len(brasilapi.lookups()) == 1


def test_false_404s_are_retried_later_and_then_the_company_is_found(brasilapi, settings):
    settings.BRASILAPI_NOT_FOUND_RETRIES = 3
    brasilapi.put_company(ALNUM, false_404_left=2)
    waits = []
    for _ in range(2):
        with pytest.raises(CnpjNotFoundYet) as caught:
            cnpj_lookup(cnpj=ALNUM)
        assert caught.value.permanent is False
        waits.append(caught.value.retry_after)
    assert waits == [30.0, 60.0]  # backoff between the tries
    assert cnpj_lookup(cnpj=ALNUM).razao_social == "EMPRESA DE TESTE LTDA"
    assert CompanyRecord.objects.get(cnpj="12ABC34501DE35").not_found_count == 0


def test_after_the_retries_a_404_is_final_with_the_message_ops_read(brasilapi, settings):
    settings.BRASILAPI_NOT_FOUND_RETRIES = 2
    for attempt in (1, 2):
        with pytest.raises(CnpjNotFoundYet, match=f"tentativa {attempt} de 3"):
            cnpj_lookup(cnpj=UNKNOWN)
    with pytest.raises(CnpjNotFound) as caught:
        cnpj_lookup(cnpj=UNKNOWN)
    assert caught.value.permanent is True
    assert caught.value.message == "CNPJ não encontrado na Receita Federal"
    assert [lookup.status_code for lookup in brasilapi.lookups()] == [404, 404, 404]
    # An ops retry later starts a fresh set of tries (the Receita's data lags).
    with pytest.raises(CnpjNotFoundYet):
        cnpj_lookup(cnpj=UNKNOWN)


@pytest.mark.parametrize("raw", ["123", "11.222.333/0001-82", "390.533.447-05", ""])
def test_an_invalid_cnpj_is_refused_without_a_call(brasilapi, raw):
    with pytest.raises(InvalidCnpj) as caught:
        cnpj_lookup(cnpj=raw)
    assert caught.value.permanent is True
    assert brasilapi.lookups() == []


def test_a_429_is_transient_and_holds_every_process_off(brasilapi, settings):
    settings.BRASILAPI_RATE_LIMITED_PAUSE_SECONDS = 10.0
    brasilapi.control(fail_status=429, fail_calls_left=1)
    with pytest.raises(BrasilApiTransientError) as caught:
        cnpj_lookup(cnpj=ACTIVE)
    assert caught.value.status == 429 and caught.value.retry_after >= 10.0
    with pytest.raises(BrasilApiNotNow) as paused:
        cnpj_lookup(cnpj=ACTIVE)
    assert 9.0 < paused.value.retry_after <= 10.0
    assert len(brasilapi.lookups()) == 1


@pytest.mark.parametrize("status", [500, 502, 504])
def test_server_errors_are_transient(brasilapi, status):
    brasilapi.control(fail_status=status, fail_calls_left=1)
    with pytest.raises(BrasilApiTransientError) as caught:
        cnpj_lookup(cnpj=ACTIVE)
    assert caught.value.status == status
    assert cnpj_lookup(cnpj=ACTIVE).is_active  # next call fine


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("html", BrasilApiTransientError),
        ("nonjson", BrasilApiTransientError),
        ("truncated", BrasilApiTransientError),
        ("cut", BrasilApiTransientError),
        ("empty", BrasilApiTransientError),
        ("json-array", BrasilApiTransientError),
        ("slow", BrasilApiTransientError),
        ("status-400", InvalidCnpj),
        ("status-403", BrasilApiError),
    ],
)
def test_broken_answers_become_typed_errors(broken_server, settings, mode, expected):
    settings.BRASILAPI_RATE_PER_SECOND = 1000.0
    settings.BRASILAPI_BASE_URL = f"{broken_server}/{mode}"
    settings.BRASILAPI_READ_TIMEOUT = 0.5
    with pytest.raises(IntegrationError) as caught:
        cnpj_lookup(cnpj=ACTIVE)
    assert type(caught.value) is expected
    assert caught.value.permanent is (expected is not BrasilApiTransientError)


def test_without_redis_the_lookup_waits_rather_than_skipping_the_limit(brasilapi, settings):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"
    with pytest.raises(BrasilApiTransientError, match="Redis"):
        cnpj_lookup(cnpj=ACTIVE)
    assert brasilapi.lookups() == []
