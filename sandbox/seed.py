"""Demo data for the fake Bubble and the fake BrasilAPI (``manage.py sandbox_seed``). Idempotent.

Covers every branch of the billing decision (docs/contract.md#billing-decision): PF paid / not paid, PJ on day 25, a hold by
amount, by "requer_aprovacao" and by an inactive CNPJ, an alphanumeric CNPJ, BrasilAPI's false 404s
and an invalid CPF (the sync fails at once with a Portuguese reason), and a company already in the
fake Omie without an integration code, with two Bubble customers (docs/orders.md#customers-already-in-omie). Documents are generated and
checked with python-stdnum.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from stdnum.br import cnpj, cpf

from common.money import brl
from integrations.bubble.fields import field_key, type_name
from integrations.documents import document_mask
from sandbox.fake_brasilapi.models import FakeCompany
from sandbox.fake_brasilapi.services import company_put
from sandbox.fake_bubble.services import thing_put


def valid_cpf(base9: str) -> str:
    """The valid CPF starting with these 9 digits (the check digits found by stdnum's validator)."""
    for check in range(100):
        candidate = f"{base9}{check:02d}"
        if cpf.is_valid(candidate):
            return cpf.format(candidate)
    raise ValueError(base9)


def valid_cnpj(base12: str) -> str:
    number = base12 + cnpj.calc_check_digits(base12 + "00")
    assert cnpj.is_valid(number)
    return cnpj.format(number)


def customer_id(n: int) -> str:
    return f"{1732000000100 + n}x{100000000000000000 + n}"


def order_id(n: int) -> str:
    return f"{1732000000200 + n}x{200000000000000000 + n}"


@dataclass(frozen=True)
class DemoCustomer:
    n: int
    name: str
    document: str
    email: str
    requires_approval: bool = False
    # PJ only: what the fake BrasilAPI knows
    situacao: int | None = None
    false_404s: int = 0
    in_receita: bool = True
    # Registered in Omie by hand, without an integration code, before this system existed
    in_omie_by_hand: bool = False


@dataclass(frozen=True)
class DemoOrder:
    n: int
    customer: int
    amount: Decimal
    description: str
    payment_method: str
    payment_status: str
    note: str


def _customers() -> list[DemoCustomer]:
    ativa, baixada, inapta = FakeCompany.Situacao.ATIVA, FakeCompany.Situacao.BAIXADA, FakeCompany.Situacao.INAPTA
    return [
        DemoCustomer(1, "Maria Aparecida Silva", valid_cpf("390533447"), "maria.silva@example.com"),
        DemoCustomer(2, "João Pedro Souza", valid_cpf("529982247"), "joao.souza@example.com"),
        DemoCustomer(3, "Padaria Pão Quente Ltda", valid_cnpj("112223330001"), "financeiro@paoquente.example.com",
                     situacao=ativa),
        DemoCustomer(4, "Construtora Horizonte S.A.", valid_cnpj("445556660001"), "contas@horizonte.example.com",
                     requires_approval=True, situacao=ativa),
        DemoCustomer(5, "Comércio Antigo Ltda", valid_cnpj("778889990001"), "adm@antigo.example.com", situacao=baixada),
        DemoCustomer(6, "Transportes Parados Ltda", valid_cnpj("101010100001"), "adm@parados.example.com", situacao=inapta),
        DemoCustomer(7, "Tech Alfanumérica Ltda", valid_cnpj("12ABC34501DE"), "nf@alfa.example.com", situacao=ativa),
        DemoCustomer(8, "Serviços Intermitentes Ltda", valid_cnpj("202020200001"), "nf@intermitente.example.com",
                     situacao=ativa, false_404s=2),
        DemoCustomer(9, "Empresa Fantasma Ltda", valid_cnpj("303030300001"), "nf@fantasma.example.com", in_receita=False),
        DemoCustomer(10, "Cliente Com CPF Inválido", "123.456.789-00", "invalido@example.com"),
        DemoCustomer(11, "Roberto Prefeitura Recusa", valid_cpf("714287938"), "roberto@example.com"),
        # One company, two Bubble customers (two contacts), already in Omie from before the integration.
        DemoCustomer(12, "Distribuidora Vale Verde Ltda", valid_cnpj("515151510001"), "financeiro@valeverde.example.com",
                     situacao=ativa, in_omie_by_hand=True),
        DemoCustomer(13, "Distribuidora Vale Verde Ltda", valid_cnpj("515151510001"), "compras@valeverde.example.com",
                     situacao=ativa),
    ]


# The customer whose NFS-e the fake city hall rejects (the fake Omie's reject_documents): a billing
# failure with the city hall's words.
CITY_HALL_REJECTS = 11
# Orders the demo (sandbox.demo) takes further with an ops action once the flow brings them there.
DEMO_CANCEL_ORDER = 12  # issued, then "Cancelar NF"
DEMO_MANUAL_ORDER = 13  # scheduled for day 25, then "Registrar NF manual"
# Once DEMO_CANCEL_ORDER's NF is cancelled, its payment goes to the customer's current account
# ("Transferir para conta corrente"): that customer then has a balance AND this unpaid order, so
# "Usar conta corrente" can be tried on it.
DEMO_USE_CC_ORDER = 17


def _orders() -> list[DemoOrder]:
    above = (settings.BILLING_HOLD_THRESHOLD + Decimal("1000.00")).quantize(Decimal("0.01"))
    return [
        DemoOrder(1, 1, Decimal("350.00"), "Consultoria em finanças pessoais", "pix", "paid", "PF pago → emissão imediata"),
        DemoOrder(2, 2, Decimal("1200.00"), "Planejamento tributário", "credit_card", "pending",
                  "PF não pago → aguarda pagamento (sandbox_pagarme_send charge.paid)"),
        DemoOrder(3, 3, Decimal("4500.00"), "Assessoria contábil mensal", "boleto", "pending", "PJ → agendado dia 25"),
        DemoOrder(4, 4, Decimal("8000.00"), "Auditoria de processos", "boleto", "pending", "PJ requer aprovação → retido"),
        DemoOrder(5, 5, Decimal("2000.00"), "Consultoria societária", "boleto", "pending", "CNPJ BAIXADA → retido"),
        DemoOrder(6, 6, Decimal("2750.50"), "Revisão fiscal", "boleto", "pending", "CNPJ INAPTA → retido"),
        DemoOrder(7, 3, above, "Projeto de reestruturação", "boleto", "pending", "valor ≥ BILLING_HOLD_THRESHOLD → retido"),
        DemoOrder(8, 7, Decimal("990.00"), "Implantação de sistema", "boleto", "pending", "CNPJ alfanumérico → dia 25"),
        DemoOrder(9, 8, Decimal("1500.00"), "Treinamento", "boleto", "pending", "BrasilAPI: 2 falsos 404, depois encontra"),
        DemoOrder(10, 9, Decimal("600.00"), "Consultoria", "boleto", "pending",
                  "CNPJ fora da Receita → falha após as tentativas"),
        DemoOrder(11, 10, Decimal("100.00"), "Serviço avulso", "pix", "paid", "CPF inválido → falha de sincronização"),
        DemoOrder(12, 1, Decimal("640.00"), "Mentoria financeira", "pix", "paid", "PF pago → NF emitida e depois cancelada"),
        DemoOrder(13, 3, Decimal("1800.00"), "Consultoria de custos", "boleto", "pending",
                  "PJ dia 25 → NF emitida fora do sistema (NF manual)"),
        DemoOrder(14, 11, Decimal("1000.50"), "Análise de investimentos", "pix", "paid",
                  "PF pago → a prefeitura rejeita a NFS-e (falha na emissão)"),
        DemoOrder(15, 12, Decimal("2200.00"), "Consultoria logística", "boleto", "pending",
                  "PJ já cadastrado à mão no Omie → cliente reutilizado (código associado), dia 25"),
        DemoOrder(16, 13, Decimal("780.00"), "Revisão de contratos", "boleto", "pending",
                  "2º cadastro do Bubble com o mesmo CNPJ → mesmo cliente do Omie, dia 25"),
        DemoOrder(DEMO_USE_CC_ORDER, 1, Decimal("300.00"), "Sessão extra de mentoria", "pix", "pending",
                  "PF não pago; a cliente tem saldo na conta corrente (o pagamento do pedido 12, com a NF cancelada) "
                  "→ experimente \"Usar conta corrente\""),
    ]


def demo_order_ids() -> list[str]:
    return [order_id(o.n) for o in _orders()]


def demo_rejected_documents() -> list[str]:
    """The documents whose NFS-e the fake city hall rejects in the demo."""
    return [cpf.compact(c.document) for c in _customers() if c.n == CITY_HALL_REJECTS]


def _customer_fields(c: DemoCustomer) -> dict[str, Any]:
    values = {
        "nome": c.name, "email": c.email, "documento": c.document, "telefone": f"(11) 9{c.n:04d}-{c.n:04d}",
        "cep": "01310-100", "logradouro": "Avenida Paulista", "numero": str(1000 + c.n), "bairro": "Bela Vista",
        "cidade": "São Paulo", "uf": "SP", "requer_aprovacao": c.requires_approval,
    }
    return {field_key("customer", key): value for key, value in values.items()}


def _order_fields(o: DemoOrder) -> dict[str, Any]:
    values = {
        "cliente": customer_id(o.customer), "valor_total": o.amount, "descricao_servico": o.description,
        "codigo_servico_lc116": "17.01", "forma_pagamento": o.payment_method, "status_pagamento": o.payment_status,
    }
    return {field_key("order", key): value for key, value in values.items()}


@transaction.atomic
def sandbox_seed() -> list[str]:
    """Creates or refreshes the demo data; returns one line per thing, for the command to print."""
    lines: list[str] = []
    customers = {c.n: c for c in _customers()}
    for c in customers.values():
        thing_put(type_name=type_name("customer"), bubble_id=customer_id(c.n), fields=_customer_fields(c))
        kind = "PF" if len(cnpj.compact(c.document)) == 11 else "PJ"
        extra = ""
        if kind == "PJ" and c.in_receita and c.situacao is not None:
            company_put(
                cnpj=cnpj.compact(c.document), razao_social=c.name.upper(), nome_fantasia=c.name.split(" ")[0],
                situacao_cadastral=c.situacao, email=c.email, telefone=f"11{3000 + c.n:04d}{c.n:04d}", cep="01310100",
                logradouro="PAULISTA", numero=str(1000 + c.n), bairro="BELA VISTA", municipio="SAO PAULO", uf="SP",
                false_404_left=c.false_404s,
            )
            extra = f" · BrasilAPI: {FakeCompany.Situacao(c.situacao).label}"
            if c.false_404s:
                extra += f", {c.false_404s} falsos 404"
        elif kind == "PJ":
            FakeCompany.objects.filter(cnpj=cnpj.compact(c.document)).delete()
            extra = " · BrasilAPI: não encontrado"
        if c.requires_approval:
            extra += " · requer aprovação"
        if c.in_omie_by_hand:
            extra += _omie_by_hand(c)
        lines.append(f"cliente {customer_id(c.n)}  {kind}  {c.name} ({document_mask(c.document)}){extra}")
    for o in _orders():
        thing_put(type_name=type_name("order"), bubble_id=order_id(o.n), fields=_order_fields(o))
        lines.append(f"pedido  {order_id(o.n)}  {brl(o.amount):>13}  {customers[o.customer].name}: {o.note}")
    lines.append(_omie_webhooks())
    # The CNPJ the integration check looks up (manage.py check_integrations) resolves here too.
    reference = re.sub(r"\D", "", settings.INTEGRATIONS_CHECK_CNPJ or "")
    if len(reference) == 14:
        company_put(cnpj=reference, razao_social="EMPRESA DE REFERÊNCIA DA VERIFICAÇÃO", situacao_cadastral=FakeCompany.Situacao.ATIVA)
    return lines


def _omie_by_hand(c: DemoCustomer) -> str:
    """The customer as Blu typed it in Omie's screen: its document, no integration code. Only
    when the fake Omie has no customer of that document (a later run finds it already linked)."""
    from sandbox.fake_omie.models import FakeCustomer
    from sandbox.fake_omie.services import fake_omie_seed_customer

    if not FakeCustomer.objects.filter(cnpj_cpf=cnpj.compact(c.document)).exists():
        fake_omie_seed_customer(codigo_cliente_integracao="", cnpj_cpf=c.document, razao_social=c.name.upper(), email=c.email)
    return " · já cadastrado à mão no Omie (sem código de integração)"


def _omie_webhooks() -> str:
    """Points the fake Omie's webhooks at this server (the `omiehooks` process of the Procfile sends them)."""
    from django.conf import settings

    from sandbox.fake_omie.services import fake_omie_configure

    if not settings.OMIE_WEBHOOKS:
        fake_omie_configure(webhook_url="")
        return "Omie falso: webhooks desligados (OMIE_WEBHOOKS=false): a NF é vista pela consulta periódica"
    fake_omie_configure(webhook_url=f"{settings.SANDBOX_BASE_URL}/webhooks/omie/{settings.OMIE_WEBHOOK_TOKEN}")
    return f"Omie falso: webhooks para {settings.SANDBOX_BASE_URL}/webhooks/omie/… (NF emitida em segundos)"
