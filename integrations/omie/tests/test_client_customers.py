"""The client's customer calls for records that already exist in Omie, against the fake over real
HTTP: the duplicate-document fault as Omie words it, AssociarCodIntCliente, ListarClientes."""

from __future__ import annotations

import pytest

from integrations.omie.errors import OmieBusinessError, OmieCustomerExists, OmieDuplicate, OmieNotFound, OmieNotNow
from integrations.omie.models import OmieCall
from integrations.omie.payloads import cliente_payload
from sandbox.fake_omie.models import FakeCustomer
from testsupport.fake_omie import make_cnpj, make_cpf

pytestmark = pytest.mark.django_db(transaction=True)


def _upsert(omie, key: str, document: str):
    payload = cliente_payload(codigo_cliente_integracao=key, razao_social="Empresa X", email="x@example.com", document=document)
    return omie.upsert_cliente(codigo_cliente_integracao=key, cliente=payload, order_id=7)


def test_upsert_of_a_hand_registered_document_raises_customer_exists_with_the_id_and_no_code(omie, fake_omie):
    document = make_cnpj(39330543)
    by_hand = fake_omie.seed_customer_by_hand(document=document)
    with pytest.raises(OmieCustomerExists) as exc:
        _upsert(omie, "cli-new", document)
    assert (exc.value.existing.omie_id, exc.value.existing.integration_code) == (by_hand, "")
    assert isinstance(exc.value, OmieDuplicate) and exc.value.permanent
    # Omie's exact wording, the document punctuated and "[ ]" for the missing code…
    [row] = fake_omie.calls("UpsertCliente")
    assert row.http_status == 500 and row.fault_string == (
        f"ERROR: Cliente já cadastrado para o CPF/CNPJ [{document[:2]}.{document[2:5]}.{document[5:8]}/{document[8:12]}-"
        f"{document[12:]}] com o Id [{by_hand}] e código de integração [ ] ! (add)")
    # …but neither our message nor our call log carries the document.
    assert document not in exc.value.message and "[doc]" in OmieCall.objects.get(call="UpsertCliente").fault_message


def test_associar_gives_the_customer_our_code_and_is_a_logged_write(omie, fake_omie):
    by_hand = fake_omie.seed_customer_by_hand(document=make_cpf(5501))
    result = omie.associar_cod_int_cliente(codigo_cliente_omie=by_hand, codigo_cliente_integracao="cli-5501", order_id=9)
    assert (result.codigo_cliente_omie, result.codigo_cliente_integracao) == (by_hand, "cli-5501")
    assert result.message == "Código de Integração associado ao Cliente sucesso!"
    assert FakeCustomer.objects.get(codigo_cliente_integracao="cli-5501").codigo_cliente_omie == by_hand
    row = OmieCall.objects.get(call="AssociarCodIntCliente")
    assert (row.outcome, row.order_id, row.integration_key) == ("ok", 9, "cli-5501")
    # Now the upsert under our code updates that record instead of being refused.
    assert _upsert(omie, "cli-5501", make_cpf(5501)).codigo_cliente_omie == by_hand


def test_associar_refusals_are_permanent_errors(omie, fake_omie):
    fake_omie.configure(redundant_on=False)
    with pytest.raises(OmieNotFound):
        omie.associar_cod_int_cliente(codigo_cliente_omie=2_400_999_999, codigo_cliente_integracao="cli-x")
    owned = fake_omie.seed_customer(key="cli-owner", document=make_cpf(5502))
    with pytest.raises(OmieBusinessError) as exc:
        omie.associar_cod_int_cliente(codigo_cliente_omie=owned, codigo_cliente_integracao="cli-other")
    assert exc.value.permanent and not isinstance(exc.value, OmieDuplicate)
    assert FakeCustomer.objects.get(codigo_cliente_integracao="cli-owner")  # its code was not taken


def test_a_redundant_associar_is_settled_by_consulting_the_new_code(omie, fake_omie):
    by_hand = fake_omie.seed_customer_by_hand(document=make_cpf(5503))
    fake_omie.inject("redundant", call="AssociarCodIntCliente", seconds=30)
    with pytest.raises(OmieNotNow) as exc:  # it did not happen: wait out the window, then send again
        omie.associar_cod_int_cliente(codigo_cliente_omie=by_hand, codigo_cliente_integracao="cli-5503")
    assert not exc.value.outcome_unknown and [c.call for c in fake_omie.calls()] == ["AssociarCodIntCliente", "ConsultarCliente"]


def test_listar_by_document_finds_the_hand_registered_customer_and_nothing_else(omie, fake_omie):
    document = make_cnpj(5504)
    by_hand = fake_omie.seed_customer_by_hand(document=document)
    fake_omie.seed_customer(key="cli-someone", document=make_cnpj(5505))
    [found] = omie.listar_clientes_por_documento(document=document, order_id=3)
    assert (found.codigo_cliente_omie, found.codigo_cliente_integracao) == (by_hand, "")
    assert fake_omie.calls("ListarClientes")[0].param["clientesFiltro"] == {
        "cnpj_cpf": f"{document[:2]}.{document[2:5]}.{document[5:8]}/{document[8:12]}-{document[12:]}"}
    assert omie.listar_clientes_por_documento(document=make_cnpj(5506)) == []  # Client-5113: none
    assert document not in OmieCall.objects.filter(call="ListarClientes").first().integration_key


def test_dry_run_checks_the_association_by_its_own_keys():
    from integrations.omie.dryrun import dry_run_validate

    assert dry_run_validate("AssociarCodIntCliente", {"codigo_cliente_omie": 2400000001, "codigo_cliente_integracao": "c"}) == []
    missing_code = dry_run_validate("AssociarCodIntCliente", {"codigo_cliente_omie": 2400000001})
    assert missing_code == ["codigo_cliente_integracao: campo obrigatório ausente"]
