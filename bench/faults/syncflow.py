"""The sync flow's seed and checks, shared by the scenarios that trigger orders through the API."""

from __future__ import annotations

import time
from collections import Counter


def sync_seed(n: int, *, pj_every: int = 5, **omie: object) -> list[str]:
    """N orders in the fake Bubble (one customer each, every ``pj_every``-th a company), paid by pix.

    The fakes start empty; the fake Omie gets ``omie`` (default: time ×0.05, no latency).
    """
    from sandbox.fake_brasilapi import services as fake_brasilapi
    from sandbox.fake_bubble import services as fake_bubble
    from sandbox.fake_omie.services import fake_omie_reset
    from testsupport.fake_omie import make_cnpj, make_cpf

    fake_omie_reset(**({"time_scale": 0.05, "latency_ms": 0} | omie))
    fake_bubble.control_reset(clear_data=True)
    fake_brasilapi.control_reset(clear_data=True)
    ids = []
    for i in range(n):
        customer_id = f"1600000000000x{i:018d}"
        order_id = f"1671702337369x{i:018d}"
        pj = pj_every and i % pj_every == 0
        document = make_cnpj(10_000 + i) if pj else make_cpf(10_000 + i)
        fake_bubble.thing_put(type_name="cliente", bubble_id=customer_id, fields={
            "nome": f"Cliente {i}", "email": f"cliente{i}@example.com", "documento": document, "telefone": "11 99999-0000",
            "cep": "01310-100", "logradouro": "Av. Paulista", "numero": "1000", "bairro": "Bela Vista", "cidade": "São Paulo",
            "uf": "SP", "requer_aprovacao": False,
        })
        fake_bubble.thing_put(type_name="pedido", bubble_id=order_id, fields={
            "cliente": customer_id, "valor_total": "150.00", "descricao_servico": f"Serviço {i}",
            "codigo_servico_lc116": "1.07", "forma_pagamento": "pix", "status_pagamento": "paid",
        })
        if pj:
            fake_brasilapi.company_put(cnpj=document, razao_social=f"Empresa {i} Ltda", municipio="São Paulo", uf="SP")
        ids.append(order_id)
    return ids


def trigger_all(url: str, token: str, order_ids: list[str], *, threads: int = 8) -> Counter[int]:
    from concurrent.futures import ThreadPoolExecutor

    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"

    def one(order_id: str) -> int:
        status = 0
        for _ in range(8):  # like Bubble's workflow: a 5xx or a dropped connection is sent again
            try:
                status = session.post(f"{url}/v1/orders/{order_id}/sync-omie", json={}, timeout=30).status_code
            except requests.RequestException:
                status = 0
            if 0 < status < 500:
                return status
            time.sleep(1)
        return status

    with ThreadPoolExecutor(threads) as pool:
        return Counter(pool.map(one, order_ids))


TRANSITIONAL_SYNC = ("PENDING", "SYNCING")


def settled() -> bool:
    """Every order synced and its billing past ISSUING, every writeback delivered."""
    from integrations.bubble.models import BubbleWriteback
    from orders.models import Order

    return (not Order.objects.exclude(sync_status="SYNCED").exists()
            and not Order.objects.filter(billing_status__in=("ISSUING", "PENDING", "")).exists()
            and not BubbleWriteback.objects.exclude(status="DONE").exists())


def sync_outcome(n: int) -> tuple[bool, dict[str, object]]:
    """One Omie customer per Bubble customer and one OS per order, each order synced."""
    from django.db.models import Count

    from integrations.bubble.models import BubbleWriteback
    from orders.models import Order
    from sandbox.fake_omie.models import FakeCustomer, FakeOmieCall, FakeServiceOrder

    sync = dict(Order.objects.values_list("sync_status").annotate(c=Count("id")).order_by())
    billing = dict(Order.objects.values_list("billing_status").annotate(c=Count("id")).order_by())
    os_per_order = Counter(FakeServiceOrder.objects.values_list("c_cod_int_os", flat=True))
    incluir = Counter(FakeOmieCall.objects.filter(call="IncluirOS", http_status=200, processed=True)
                      .values_list("param__Cabecalho__cCodIntOS", flat=True))
    faturar = Counter(FakeOmieCall.objects.filter(call="FaturarOS", http_status=200, processed=True)
                      .values_list("param__cCodIntOS", flat=True))
    customers = FakeCustomer.objects.count()
    writebacks = dict(BubbleWriteback.objects.values_list("status").annotate(c=Count("id")).order_by())
    ok = (sync.get("SYNCED", 0) == n and len(os_per_order) == n and max(os_per_order.values(), default=0) == 1
          and max(incluir.values(), default=0) == 1 and max(faturar.values(), default=0) == 1 and customers == n
          and set(writebacks) <= {"DONE"})
    return ok, {"synced": f"{sync.get('SYNCED', 0)}/{n}", "omie_os": len(os_per_order), "omie_customers": customers,
                "incluir_max_per_order": max(incluir.values(), default=0), "faturar_max_per_os": max(faturar.values(), default=0),
                "billing": ",".join(f"{k}:{v}" for k, v in sorted(billing.items())),
                "writebacks": ",".join(f"{k}:{v}" for k, v in sorted(writebacks.items()))}
