"""The client against the fake Omie over real HTTP: the whole customer → OS → NFS-e → cancel flow."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from integrations.omie.errors import OmieBusinessError
from integrations.omie.payloads import cliente_payload, os_payload
from testsupport.fake_omie import make_cpf
from testsupport.processes import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

CNPJ = "11222333000181"


@pytest.fixture
def fast(fake_omie, settings):
    """Omie's windows scaled down 50×: REDUNDANT 1.2 s, NFS-e after 0.1 s."""
    fake_omie.configure(time_scale=0.02)
    settings.OMIE_REDUNDANT_DEFAULT_SECONDS = 2


def _create_os(omie, key: str, document: str = CNPJ, amount: str = "1500.10") -> tuple[int, str]:
    cliente = cliente_payload(codigo_cliente_integracao=f"cli-{key}", razao_social="ACME Serviços LTDA", email="fin@acme.example",
                              document=document, phone="+55 (11) 98888-7777", cep="01310-100", street="Av. Paulista",
                              number="1000", district="Bela Vista", city="São Paulo", state="sp")
    customer = omie.upsert_cliente(codigo_cliente_integracao=f"cli-{key}", cliente=cliente, order_id=7)
    created = omie.incluir_os(os_payload=os_payload(c_cod_int_os=key, codigo_cliente_omie=customer.codigo_cliente_omie,
                                                    amount=Decimal(amount), description="Consultoria", lc116_code="1.07",
                                                    email="fin@acme.example", forecast=date(2026, 11, 25)), order_id=7)
    return created.n_cod_os, created.c_num_os


def test_customer_upsert_then_consult_returns_the_same_omie_id(omie):
    cliente = cliente_payload(codigo_cliente_integracao="1671702337369x4883", razao_social="Maria da Silva",
                              email="maria@example.com", document=make_cpf(123))
    created = omie.upsert_cliente(codigo_cliente_integracao="1671702337369x4883", cliente=cliente)
    info = omie.consultar_cliente(codigo_cliente_integracao="1671702337369x4883")
    assert isinstance(created.codigo_cliente_omie, int) and created.codigo_cliente_omie > 0
    assert info is not None and info.codigo_cliente_omie == created.codigo_cliente_omie
    assert info.razao_social == "Maria da Silva"


def test_os_is_created_with_the_exact_amount_and_consulted_back(omie, fast):
    n_cod_os, c_num_os = _create_os(omie, "1671702337369x100", amount="1500.10")
    info = omie.consultar_os(c_cod_int_os="1671702337369x100")
    assert info.n_cod_os == n_cod_os and info.c_num_os == c_num_os
    assert info.amount == Decimal("1500.10")
    assert (info.faturada, info.cancelada) == (False, False)


def test_faturar_bills_at_once_and_the_nfse_is_issued_some_time_later(omie, fast):
    n_cod_os, _ = _create_os(omie, "1671702337369x200")
    assert omie.status_os(c_cod_int_os="1671702337369x200").state == "pending"  # not billed yet

    omie.faturar_os(c_cod_int_os="1671702337369x200")
    assert omie.consultar_os(c_cod_int_os="1671702337369x200").faturada

    def issued():
        try:
            status = omie.status_os(c_cod_int_os="1671702337369x200")
        except Exception:  # the REDUNDANT guard says "not now": poll again later
            return None
        return status if status.state == "issued" else None

    status = wait_for(issued, timeout=15, interval=0.5)
    assert status.number and status.verification_code and status.url.startswith("https://")
    page = omie.listar_nfses(pagina=1, registros_por_pagina=20, n_cod_os=n_cod_os)
    assert [(n.number, n.status, n.n_cod_os) for n in page.items] == [(status.number, "F", n_cod_os)]
    assert page.items[0].amount == Decimal("1500.10")


def test_billing_an_already_billed_os_is_a_permanent_business_error(omie, fast):
    _create_os(omie, "1671702337369x300")
    omie.faturar_os(c_cod_int_os="1671702337369x300")
    wait_for(lambda: _guard_free(omie, "FaturarOS", "1671702337369x300"), timeout=5)
    with pytest.raises(OmieBusinessError) as exc:
        omie.faturar_os(c_cod_int_os="1671702337369x300")
    assert exc.value.permanent and "já foi faturada" in exc.value.message
    assert not exc.value.message.startswith("ERROR")


def test_city_hall_rejection_is_reported_and_reenviar_issues_after_the_data_is_fixed(omie, fake_omie, fast):
    fake_omie.configure(reject_documents=[CNPJ])
    _create_os(omie, "1671702337369x400")
    omie.faturar_os(c_cod_int_os="1671702337369x400")
    rejected = wait_for(lambda: _status_if(omie, "1671702337369x400", "rejected"), timeout=15, interval=0.5)
    assert "E0314" in rejected.message and rejected.number is None

    fake_omie.configure(reject_documents=[])  # ops fixed the registration at the city hall
    omie.reenviar_os(c_cod_int_os="1671702337369x400")
    issued = wait_for(lambda: _status_if(omie, "1671702337369x400", "issued"), timeout=15, interval=0.5)
    assert issued.number


def test_cancel_marks_the_os_cancelled(omie, fast):
    n_cod_os, _ = _create_os(omie, "1671702337369x500")
    omie.faturar_os(c_cod_int_os="1671702337369x500")
    wait_for(lambda: _status_if(omie, "1671702337369x500", "issued"), timeout=15, interval=0.5)
    omie.cancelar_os(c_cod_int_os="1671702337369x500")
    info = wait_for(lambda: _consult(omie, "1671702337369x500"), timeout=5, interval=0.5)
    assert info.cancelada
    page = omie.listar_nfses(pagina=1, registros_por_pagina=20, n_cod_os=n_cod_os, status="C")
    assert len(page.items) == 1


def test_listar_os_pages_and_past_the_end_is_an_empty_page(omie, fast):
    for i in range(5):
        _create_os(omie, f"1671702337369x6{i:02d}", document=make_cpf(600 + i))
    first = omie.listar_os(pagina=1, registros_por_pagina=2)
    assert (first.total_de_paginas, first.total_de_registros, len(first.items), first.has_next) == (3, 5, 2, True)
    last = omie.listar_os(pagina=3, registros_por_pagina=2)
    assert len(last.items) == 1 and not last.has_next
    past = omie.listar_os(pagina=4, registros_por_pagina=2)  # Client-5113 from Omie
    assert past.items == [] and not past.has_next
    keys = {i.c_cod_int_os for p in (first, omie.listar_os(pagina=2, registros_por_pagina=2), last) for i in p.items}
    assert keys == {f"1671702337369x6{i:02d}" for i in range(5)}


def test_listar_nfses_without_any_nfse_is_an_empty_page(omie):
    page = omie.listar_nfses(pagina=1, registros_por_pagina=50)
    assert page.items == [] and page.total_de_registros == 0


def test_unknown_list_filters_are_refused_before_any_call(omie, fake_omie):
    with pytest.raises(TypeError):
        omie.listar_os(pagina=1, registros_por_pagina=10, colour="blue")
    assert fake_omie.calls() == []


def _guard_free(omie, call, key):
    return not omie.throttle.redis.exists(omie.throttle._guard_key(call, key))


def _status_if(omie, key, state):
    from integrations.omie.errors import OmieNotNow

    try:
        status = omie.status_os(c_cod_int_os=key)
    except OmieNotNow:
        return None
    return status if status.state == state else None


def _consult(omie, key):
    from integrations.omie.errors import OmieNotNow

    try:
        return omie.consultar_os(c_cod_int_os=key)
    except OmieNotNow:
        return None
