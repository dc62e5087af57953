"""Each class of the answer classes of docs/omie.md#classification-classifypy as the client meets it from the fake Omie over real
HTTP: what the
caller gets, what the throttle remembers, what the call log holds."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from integrations.omie.errors import (
    OmieBusinessError,
    OmieDuplicate,
    OmieNotFound,
    OmieNotNow,
    OmieTransientError,
)
from integrations.omie.models import OmieCall
from integrations.omie.payloads import cliente_payload, os_payload
from integrations.omie.selectors import throttle_state
from testsupport.fake_omie import make_cpf

pytestmark = pytest.mark.django_db(transaction=True)


def _customer(omie, key="cli-1", document=None):
    doc = document or make_cpf(1)
    payload = cliente_payload(codigo_cliente_integracao=key, razao_social="Cliente Teste", email="c@example.com", document=doc)
    return omie.upsert_cliente(codigo_cliente_integracao=key, cliente=payload).codigo_cliente_omie


def _os(omie, key, customer_id):
    return omie.incluir_os(os_payload=os_payload(c_cod_int_os=key, codigo_cliente_omie=customer_id, amount=Decimal("100.00"),
                                                 description="Serviço", lc116_code="1.07", email="c@example.com",
                                                 forecast=date(2026, 11, 25)))


def _state(call):
    return next(m for m in throttle_state()["methods"] if m["call"] == call)


# business -------------------------------------------------------------------------------------
def test_invalid_document_is_a_permanent_business_error_with_the_document_masked(omie):
    payload = cliente_payload(codigo_cliente_integracao="cli-bad", razao_social="X", email="x@example.com",
                              document="11111111111")
    payload["cnpj_cpf"] = "123.456.789-00"  # what a typo in Bubble would send
    with pytest.raises(OmieBusinessError) as exc:
        omie.upsert_cliente(codigo_cliente_integracao="cli-bad", cliente=payload, order_id=42)
    assert exc.value.permanent and "inválido" in exc.value.message
    assert "123.456.789-00" not in exc.value.message
    row = OmieCall.objects.get(call="UpsertCliente")
    assert (row.outcome, row.http_status, row.order_id) == ("business", 200, 42)
    assert "123.456.789-00" not in row.fault_message and "[doc]" in row.fault_message


def test_faturar_of_a_customer_with_an_invalid_document_is_the_recorded_200_business_answer(omie, fake_omie):
    bad_id = fake_omie.seed_customer(key="cli-typed-in-omie", document="11222333000100")  # check digits wrong
    fake_omie.configure(redundant_on=False)
    with pytest.raises(OmieBusinessError) as exc:
        _os(omie, "os-bad-doc", bad_id)
    assert "CNPJ/CPF deste cliente está inválido" in exc.value.message
    assert OmieCall.objects.get(call="IncluirOS").http_status == 200


# not found ------------------------------------------------------------------------------------
def test_consults_of_unknown_records_answer_none_and_count_toward_the_error_budget(omie):
    assert omie.consultar_os(c_cod_int_os="nao-existe") is None
    assert omie.consultar_cliente(codigo_cliente_integracao="nao-existe") is None
    rows = {r.call: r for r in OmieCall.objects.all()}
    assert rows["ConsultarOS"].outcome == "not_found" and "Client-103" in rows["ConsultarOS"].fault_code
    assert rows["ConsultarCliente"].outcome == "not_found" and "Client-105" in rows["ConsultarCliente"].fault_code
    assert _state("ConsultarOS")["errors_in_window"] == 1  # Omie counts them toward its 10-errors ban


def test_billing_an_unknown_os_is_permanent_not_found(omie):
    with pytest.raises(OmieNotFound) as exc:
        omie.faturar_os(c_cod_int_os="nao-existe")
    assert exc.value.permanent


# duplicate ------------------------------------------------------------------------------------
def test_incluir_os_twice_returns_the_existing_os_read_back_instead_of_failing(omie, fake_omie, settings):
    settings.OMIE_REDUNDANT_DEFAULT_SECONDS = 0
    fake_omie.configure(redundant_on=False)
    first = _os(omie, "1671702337369x488321592367327900", _customer(omie))
    again = _os(omie, "1671702337369x488321592367327900", _customer(omie))
    assert (again.n_cod_os, again.c_num_os, again.already_existed) == (first.n_cod_os, first.c_num_os, True)
    assert [(c.call, c.http_status) for c in fake_omie.calls() if c.call in {"IncluirOS", "ConsultarOS"}] == [
        ("IncluirOS", 200), ("IncluirOS", 500), ("ConsultarOS", 200)]
    assert OmieCall.objects.filter(call="IncluirOS", outcome="duplicate").count() == 1


def test_a_document_already_registered_under_another_key_is_a_duplicate_with_the_existing_id(omie):
    existing = _customer(omie, key="cli-a", document=make_cpf(77))
    with pytest.raises(OmieDuplicate) as exc:
        _customer(omie, key="cli-b", document=make_cpf(77))
    assert exc.value.existing_id == existing and exc.value.permanent


# concurrent -----------------------------------------------------------------------------------
def test_client_1880_is_not_now_and_pauses_the_method_briefly(omie, fake_omie, settings):
    settings.OMIE_CONCURRENT_RETRY_SECONDS = 7
    fake_omie.inject("client_1880", call="ConsultarOS")
    with pytest.raises(OmieNotNow) as exc:
        omie.consultar_os(c_cod_int_os="os-1")
    assert exc.value.reason == "concurrent" and 7 <= exc.value.retry_after <= 11 and not exc.value.permanent
    assert _state("ConsultarOS")["pause_reason"] == "concurrent"


def test_client_1100_waits_until_the_time_omie_gave(omie, fake_omie):
    fake_omie.inject("client_1100", call="ConsultarCliente", seconds=40)
    with pytest.raises(OmieNotNow) as exc:
        omie.consultar_cliente(codigo_cliente_integracao="cli-1")
    assert exc.value.reason == "concurrent" and 38 <= exc.value.retry_after <= 62


# redundant ------------------------------------------------------------------------------------
def test_the_same_id_is_never_sent_twice_within_the_redundant_window(omie, fake_omie):
    assert omie.consultar_os(c_cod_int_os="os-1") is None
    with pytest.raises(OmieNotNow) as exc:
        omie.consultar_os(c_cod_int_os="os-1")
    assert exc.value.reason == "redundant" and 55 <= exc.value.retry_after <= 66
    assert len(fake_omie.calls("ConsultarOS")) == 1  # the guard answered; Omie was not asked again
    assert omie.consultar_os(c_cod_int_os="os-2") is None  # other ids are free


def test_a_redundant_answer_waits_the_seconds_omie_gave(omie, fake_omie, settings):
    settings.OMIE_REDUNDANT_DEFAULT_SECONDS = 0  # guard off: let Omie answer REDUNDANT itself
    fake_omie.configure(time_scale=0.5)  # Omie's window: 30 s
    omie.consultar_os(c_cod_int_os="os-1")
    with pytest.raises(OmieNotNow) as exc:
        omie.consultar_os(c_cod_int_os="os-1")
    assert exc.value.reason == "redundant" and 25 <= exc.value.retry_after <= 31
    assert fake_omie.calls("ConsultarOS")[-1].fault_string.endswith("(REDUNDANT)")
    with pytest.raises(OmieNotNow):
        omie.consultar_os(c_cod_int_os="os-1")
    assert len(fake_omie.calls("ConsultarOS")) == 2  # the answer's wait is remembered for every worker


def test_redundant_after_faturar_is_resolved_by_consulting_cfaturada(omie, fake_omie, settings):
    settings.OMIE_REDUNDANT_DEFAULT_SECONDS = 0
    _os(omie, "os-fat", _customer(omie))
    omie.faturar_os(c_cod_int_os="os-fat")
    omie.faturar_os(c_cod_int_os="os-fat")  # REDUNDANT from Omie; ConsultarOS says it is billed: done
    assert [(c.call, c.http_status) for c in fake_omie.calls() if c.call in {"FaturarOS", "ConsultarOS"}] == [
        ("FaturarOS", 200), ("FaturarOS", 500), ("ConsultarOS", 200)]


def test_redundant_after_incluir_os_reads_the_os_back(omie, fake_omie, settings):
    settings.OMIE_REDUNDANT_DEFAULT_SECONDS = 0
    customer = _customer(omie)
    first = _os(omie, "os-red", customer)
    again = _os(omie, "os-red", customer)
    assert again.n_cod_os == first.n_cod_os and again.already_existed


def test_redundant_after_a_write_that_cannot_be_confirmed_leaves_the_outcome_unknown(omie, fake_omie, settings):
    fake_omie.inject("redundant", call="ReenviarOS", seconds=45)
    with pytest.raises(OmieNotNow) as exc:
        omie.reenviar_os(c_cod_int_os="os-x")
    assert exc.value.outcome_unknown and exc.value.reason == "redundant" and exc.value.retry_after >= 45


# rate limited ---------------------------------------------------------------------------------
def test_a_429_pauses_that_method_for_every_caller_and_only_that_method(omie, fake_omie, settings):
    settings.OMIE_RATE_LIMITED_PAUSE_SECONDS = 90
    fake_omie.configure(rate_limit_per_method=2)
    omie.consultar_os(c_cod_int_os="os-1")
    omie.consultar_os(c_cod_int_os="os-2")
    with pytest.raises(OmieNotNow) as exc:
        omie.consultar_os(c_cod_int_os="os-3")  # the fake's real rate gate answers 429
    assert exc.value.reason == "rate_limited" and exc.value.retry_after >= 90
    with pytest.raises(OmieNotNow) as again:
        omie.consultar_os(c_cod_int_os="os-4")
    assert again.value.reason == "rate_limited"
    assert fake_omie.statuses("ConsultarOS") == [500, 500, 429]  # os-4 never reached Omie
    assert omie.consultar_cliente(codigo_cliente_integracao="cli-1") is None  # other methods still run
    assert _state("ConsultarOS")["pause_reason"] == "rate_limited"


# banned ---------------------------------------------------------------------------------------
def test_a_425_pauses_the_method_for_the_seconds_omie_gave(omie, fake_omie):
    fake_omie.configure(ban_seconds=300)  # each call during a ban extends it to 300 s from then
    fake_omie.ban("StatusOS", seconds=300)
    with pytest.raises(OmieNotNow) as exc:
        omie.status_os(c_cod_int_os="os-1")
    assert exc.value.reason == "banned" and 299 <= exc.value.retry_after <= 340
    with pytest.raises(OmieNotNow):
        omie.status_os(c_cod_int_os="os-2")
    assert fake_omie.statuses("StatusOS") == [425]
    state = _state("StatusOS")
    assert state["pause_reason"] == "banned" and state["paused_until"] is not None


# transient ------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["broken_response", "api_error_8020", "html_502", "truncated", "empty"])
def test_broken_answers_are_transient_errors_and_free_the_lease(omie, fake_omie, kind):
    fake_omie.inject(kind, call="UpsertCliente")
    with pytest.raises(OmieTransientError) as exc:
        _customer(omie, key="cli-t")
    assert not exc.value.permanent
    assert OmieCall.objects.get(call="UpsertCliente").outcome == "transient"
    assert _state("UpsertCliente")["leases_held"] == 0


# the log --------------------------------------------------------------------------------------
def test_every_call_is_logged_with_its_request_id_and_never_the_credentials(omie, fake_omie):
    _customer(omie, key="cli-log")
    omie.consultar_os(c_cod_int_os="nao-existe", order_id=99)
    rows = list(OmieCall.objects.order_by("id"))
    assert [(r.call, r.integration_key, r.order_id, r.outcome) for r in rows] == [
        ("UpsertCliente", "cli-log", None, "ok"), ("ConsultarOS", "nao-existe", 99, "not_found")]
    assert all(len(r.request_id) == 36 for r in rows)
    dump = " ".join(str(v) for r in rows for v in vars(r).values())
    assert fake_omie.app_key not in dump and fake_omie.app_secret not in dump
