"""docs/contract.md#bubble-data's canonical field keys, and how a value is written on the wire.

Bubble apps differ in their field keys (display names vs generated ids such as ``valor_total_number``),
so code always speaks the canonical key and ``BUBBLE_FIELD_MAP`` translates it. A map key may be
qualified by thing (``"order.status_pedido"``) when one canonical name needs different keys on the
two types; the qualified entry wins over the plain one.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings

from integrations.bubble.types import Thing

CENT = Decimal("0.01")

# The canonical fields this backend reads and writes, per type (the integration check and the Bubble
# guide list them; BUBBLE_FIELD_MAP renames them per app).
ORDER_READ = ("cliente", "valor_total", "descricao_servico", "codigo_servico_lc116", "forma_pagamento", "status_pagamento")
ORDER_WRITE = (
    "status_pedido", "status_faturamento", "omie_os_numero", "nf_numero", "nf_link", "nf_xml_link", "data_faturamento_prevista",
    "erro_integracao",
)
CUSTOMER_READ = (
    "nome", "email", "documento", "telefone", "cep", "logradouro", "numero", "bairro", "cidade", "uf", "requer_aprovacao",
)
CUSTOMER_WRITE = ("razao_social", "nome_fantasia", "situacao_cadastral", "omie_cliente_id", "saldo_cc")


# What ops read for each field this system writes to Bubble (the timeline, the writeback pages).
FIELD_LABELS = {
    "status_pedido": "Status do pedido",
    "status_faturamento": "Status do faturamento",
    "omie_os_numero": "Número da OS no Omie",
    "nf_numero": "Número da NF",
    "nf_link": "Link da NF",
    "nf_xml_link": "Link do XML da NF",
    "data_faturamento_prevista": "Faturamento previsto para",
    "erro_integracao": "Erro de integração",
    "razao_social": "Razão social",
    "nome_fantasia": "Nome fantasia",
    "situacao_cadastral": "Situação cadastral",
    "omie_cliente_id": "Código do cliente no Omie",
    "saldo_cc": "Saldo da conta corrente",
}


def field_label(canonical: str) -> str:
    return FIELD_LABELS.get(canonical, canonical.replace("_", " ").capitalize())


def field_key(thing: Thing, canonical: str) -> str:
    """The app's key for a canonical field of ``thing``."""
    mapping: dict[str, str] = settings.BUBBLE_FIELD_MAP or {}
    return mapping.get(f"{thing}.{canonical}") or mapping.get(canonical) or canonical


def type_name(thing: Thing) -> str:
    return settings.BUBBLE_TYPE_ORDER if thing == "order" else settings.BUBBLE_TYPE_CUSTOMER


def wire_value(value: Any) -> Any:
    """A value as Bubble expects it: dates as ISO 8601 text, money as a number with 2 places.

    ``float`` is refused on purpose: money is Decimal everywhere, and a float here is a bug upstream.
    """
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise TypeError("Decimal não finito não pode ser enviado ao Bubble")
        return value.quantize(CENT, rounding=ROUND_HALF_UP)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TypeError("datetime sem fuso não pode ser enviado ao Bubble")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"tipo não suportado para o Bubble: {type(value).__name__}")


def dumps_exact(data: Any) -> str:
    """JSON text where each Decimal is written as an exact number (``1234.50``), never via float.

    The json module can only write numbers from int/float, so Decimals go through unique
    placeholder strings that are then replaced by the numbers' text.
    """
    numbers: dict[str, str] = {}
    salt = uuid.uuid4().hex

    def prepare(value: Any) -> Any:
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise TypeError("Decimal não finito não cabe em JSON")
            token = f"__dec_{salt}_{len(numbers)}__"
            numbers[json.dumps(token)] = format(value, "f")
            return token
        if isinstance(value, dict):
            return {key: prepare(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [prepare(item) for item in value]
        return value

    text = json.dumps(prepare(data), ensure_ascii=False)
    for token, number in numbers.items():
        text = text.replace(token, number, 1)
    return text


class ExactJSONEncoder(json.JSONEncoder):
    """Stores Decimals as exact JSON numbers (jsonb keeps ``1234.50`` as numeric, scale included)."""

    def encode(self, o: Any) -> str:
        return dumps_exact(o)


class DecimalJSONDecoder(json.JSONDecoder):
    """Reads JSON numbers with a fraction back as Decimal, so money never becomes a float."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["parse_float"] = Decimal
        super().__init__(*args, **kwargs)
