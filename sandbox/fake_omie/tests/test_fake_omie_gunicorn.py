"""The fake keeps its promises under several gunicorn worker processes: its state is in PostgreSQL,
so concurrent requests landing on different workers still see each other."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests

from testsupport.fake_omie import FakeOmie, Gunicorn, make_cpf

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def served() -> Iterator[FakeOmie]:
    from sandbox.fake_omie.services import fake_omie_reset

    fake_omie_reset()
    probe = FakeOmie("http://127.0.0.1")
    server = Gunicorn(probe.env(), workers=3, threads=2).start()
    yield FakeOmie(server.url)
    server.stop()


def _parallel(n: int, fn) -> list[requests.Response]:
    answers: list[requests.Response] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        response = fn(i)
        with lock:
            answers.append(response)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def _post(fake: FakeOmie, endpoint: str, call: str, param: dict) -> requests.Response:
    body = {"call": call, "app_key": fake.app_key, "app_secret": fake.app_secret, "param": [param]}
    return requests.post(fake.api_url + endpoint, json=body, timeout=30)


def test_one_write_at_a_time_holds_across_gunicorn_workers(served):
    served.configure(latency_ms=700)
    answers = _parallel(6, lambda i: _post(served, "geral/clientes/", "UpsertCliente",
                                           {"codigo_cliente_integracao": f"c{i}", "razao_social": "X", "cnpj_cpf": make_cpf(i)}))
    assert sorted(a.status_code for a in answers) == [200] + [500] * 5
    assert all("Client-1880" in a.json()["faultcode"] for a in answers if a.status_code == 500)


def test_the_rate_window_holds_across_gunicorn_workers(served):
    served.configure(rate_limit_per_method=5, read_concurrency=20, latency_ms=100)
    answers = _parallel(12, lambda i: _post(served, "servicos/nfse/", "ListarNFSEs", {"nPagina": 1}))
    # An empty list is Omie's "no records" fault (500, Client-5113): processed all the same.
    assert sorted(a.status_code == 429 for a in answers) == [False] * 5 + [True] * 7
