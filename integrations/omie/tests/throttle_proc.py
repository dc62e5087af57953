"""A separate OS process for the multi-process throttle tests and the bench.

    python -m integrations.omie.tests.throttle_proc hammer --call ListarOS --seconds 5 --start-at <epoch>
    python -m integrations.omie.tests.throttle_proc hold --call IncluirOS

``hammer`` calls one method in a loop until the deadline, as a Celery worker would: on
``OmieNotNow`` it waits ``retry_after`` (a task's countdown) and tries again. It prints one JSON
line of counts. ``hold`` takes a lease and never gives it back (the test SIGKILLs it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter


def _one_call(client, call: str, n: int, prefix: str) -> None:
    from datetime import date
    from decimal import Decimal

    from integrations.omie.payloads import cliente_payload, os_payload
    from testsupport.fake_omie import make_cpf

    key = f"{prefix}-{os.getpid()}-{n}"
    if call == "ListarOS":
        client.listar_os(pagina=1, registros_por_pagina=5)
    elif call == "ListarNFSEs":
        client.listar_nfses(pagina=1, registros_por_pagina=5)
    elif call == "ConsultarOS":
        client.consultar_os(c_cod_int_os=key)
    elif call == "StatusOS":
        client.status_os(c_cod_int_os=key)
    elif call == "UpsertCliente":
        payload = cliente_payload(codigo_cliente_integracao=key, razao_social="Bench", email="b@example.com",
                                  document=make_cpf(os.getpid() * 100_000 + n))
        client.upsert_cliente(codigo_cliente_integracao=key, cliente=payload)
    elif call == "IncluirOS":
        client.incluir_os(os_payload=os_payload(c_cod_int_os=key, codigo_cliente_omie=int(prefix.split(":")[1]),
                                                amount=Decimal("10.00"), description="Bench", lc116_code="1.07",
                                                email="b@example.com", forecast=date(2026, 11, 25)))
    else:
        raise SystemExit(f"unsupported call {call}")


def hammer(call: str, seconds: float, start_at: float, prefix: str) -> dict[str, int]:
    from integrations.omie.client import get_omie_client
    from integrations.omie.errors import OmieError, OmieNotNow

    client = get_omie_client()
    time.sleep(max(0.0, start_at - time.time()))
    deadline = start_at + seconds
    stats: Counter[str] = Counter()
    n = 0
    while time.time() < deadline:
        n += 1
        try:
            _one_call(client, call, n, prefix)
            stats["ok"] += 1
        except OmieNotNow as exc:
            stats[f"notnow:{exc.reason}"] += 1
            time.sleep(max(0.0, min(exc.retry_after or 0, deadline - time.time())))
        except OmieError as exc:
            stats[f"error:{exc.outcome}"] += 1
    return dict(stats)


def hold(call: str) -> None:
    from integrations.omie.throttle import get_throttle

    get_throttle().acquire(call)
    print(json.dumps({"held_at": time.time()}), flush=True)
    time.sleep(600)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["hammer", "hold"])
    parser.add_argument("--call", required=True)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--start-at", type=float, default=0)
    parser.add_argument("--prefix", default="k")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.django.test")
    import django

    django.setup()
    if args.mode == "hold":
        hold(args.call)
        return 0
    stats = hammer(args.call, args.seconds, args.start_at or time.time(), args.prefix)
    print(json.dumps(stats), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
