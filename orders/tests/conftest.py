"""The sandbox for order tests: fake Omie, Bubble and BrasilAPI served over real HTTP by a live
server, the clients (in this process and in real workers) pointed at it, and seed helpers."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings

_ids = itertools.count(1)
BUBBLE_TOKEN = "test-bubble-token"


def bubble_id(n: int, prefix: str = "1671702337369") -> str:
    return f"{prefix}x{n:018d}"


class Sandbox:
    def __init__(self, server_url: str, settings: Any) -> None:
        from testsupport.fake_omie import FakeOmie

        self.url = server_url.rstrip("/")
        self.omie = FakeOmie(self.url)
        self.omie.point_settings(settings)
        settings.BUBBLE_BASE_URL = f"{self.url}/sandbox/bubble/api/1.1"
        settings.BRASILAPI_BASE_URL = f"{self.url}/sandbox/brasilapi/api"
        settings.BUBBLE_API_TOKEN = BUBBLE_TOKEN  # the fake checks the live server's own setting
        from sandbox.fake_brasilapi import services as fake_brasilapi
        from sandbox.fake_bubble import services as fake_bubble

        # Omie's 60 s REDUNDANT window (the fake's and the client's guard) is the Omie tests' subject;
        # here it would only turn every quick re-run into a one-minute wait.
        self.omie.reset(redundant_on=False)
        settings.OMIE_REDUNDANT_DEFAULT_SECONDS = 0
        fake_bubble.control_reset(clear_data=True)
        fake_brasilapi.control_reset(clear_data=True)

    # Worker processes ---------------------------------------------------------------------------
    def worker_env(self, **extra: Any) -> dict[str, str]:
        values = {
            "OMIE_BASE_URL": self.omie.api_url,
            "OMIE_APP_KEY": self.omie.app_key,
            "OMIE_APP_SECRET": self.omie.app_secret,
            "BUBBLE_BASE_URL": f"{self.url}/sandbox/bubble/api/1.1",
            "BRASILAPI_BASE_URL": f"{self.url}/sandbox/brasilapi/api",
            "BUBBLE_API_TOKEN": BUBBLE_TOKEN,
            "OMIE_REDUNDANT_DEFAULT_SECONDS": "0",
            "TEST_REDIS_DB": str(django_settings.TEST_REDIS_DB),
        }
        values.update({k: str(v) for k, v in extra.items()})
        return values

    # Fake Bubble ----------------------------------------------------------------------------------
    def seed(
        self,
        *,
        kind: str = "PF",
        document: str | None = None,
        amount: str = "150.00",
        payment_status: str = "pending",
        situacao: int = 2,
        n: int | None = None,
        **customer_fields: Any,
    ) -> str:
        """A pedido and its cliente in the fake Bubble (and the company in BrasilAPI for a PJ)."""
        from sandbox.fake_brasilapi.services import company_put
        from sandbox.fake_bubble.services import thing_put
        from testsupport.fake_omie import make_cnpj, make_cpf

        n = n if n is not None else next(_ids)
        customer_id = bubble_id(n, prefix="1600000000000")
        order_id = bubble_id(n)
        if document is None:
            document = make_cnpj(n + 1000) if kind == "PJ" else make_cpf(n + 1000)
        thing_put(
            type_name="cliente",
            bubble_id=customer_id,
            fields={
                "nome": f"Cliente {n}", "email": f"cliente{n}@example.com", "documento": document,
                "telefone": "11 99999-0000", "cep": "01310-100", "logradouro": "Av. Paulista", "numero": "1000",
                "bairro": "Bela Vista", "cidade": "São Paulo", "uf": "SP", "requer_aprovacao": False,
                **customer_fields,
            },
        )
        thing_put(
            type_name="pedido",
            bubble_id=order_id,
            fields={
                "cliente": customer_id, "valor_total": amount, "descricao_servico": f"Serviço do pedido {n}",
                "codigo_servico_lc116": "1.07", "forma_pagamento": "boleto", "status_pagamento": payment_status,
            },
        )
        if kind == "PJ":
            company_put(
                cnpj=document, razao_social=f"Empresa {n} Ltda", nome_fantasia=f"Empresa {n}", situacao_cadastral=situacao,
                cep="01310100", logradouro="Avenida Paulista", numero="2000", bairro="Bela Vista", municipio="São Paulo", uf="SP",
            )
        return order_id

    def customer_id_of(self, order_bubble_id: str) -> str:
        return self.bubble_thing("pedido", order_bubble_id)["cliente"]

    def bubble_thing(self, type_name: str, thing_id: str) -> dict[str, Any]:
        from sandbox.fake_bubble.services import thing_get

        thing = thing_get(type_name=type_name, bubble_id=thing_id)
        return dict(thing.data) if thing else {}

    def bubble_set(self, type_name: str, thing_id: str, **fields: Any) -> None:
        from sandbox.fake_bubble.services import thing_put

        thing_put(type_name=type_name, bubble_id=thing_id, fields={**self.bubble_thing(type_name, thing_id), **fields})

    def bubble_patches(self, type_name: str, thing_id: str) -> list[dict[str, Any]]:
        """Bodies of the PATCHes Bubble applied to a thing, in the order applied."""
        from sandbox.fake_bubble.services import patches_for

        return [p.body for p in patches_for(type_name=type_name, bubble_id=thing_id, ok_only=True)]

    def bubble_control(self, **values: Any) -> None:
        from sandbox.fake_bubble.services import control_set

        control_set(**values)

    def omie_calls(self, call: str) -> list[Any]:
        return [c for c in self.omie.calls(call) if c.http_status == 200]


@pytest.fixture
def sandbox(live_server, settings) -> Iterator[Sandbox]:
    yield Sandbox(live_server.url, settings)
    # Keep-alive connections would keep live-server threads (and their DB sessions) open.
    from integrations.omie.client import close_clients

    close_clients()
    from integrations.brasilapi import client as brasilapi_client
    from integrations.bubble import client as bubble_client

    for module in (bubble_client, brasilapi_client):
        if module._session is not None:
            module._session.close()
