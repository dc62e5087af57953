from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken


def run_in_threads(count: int, target: Callable[[int], Any]) -> list[Any]:
    """Runs ``target(i)`` in ``count`` threads released at the same instant; each has its own DB connection."""
    from django.db import connection

    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def body(i: int) -> None:
        try:
            barrier.wait()
            results[i] = target(i)
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


@pytest.fixture
def client_in_group(user_factory) -> Callable[[str | None], APIClient]:
    """An API client for a service user (``Integração Bubble``) whose group has exactly the
    permissions of the given staff group (``None``: none): how a deployment narrows the integration."""

    def make(group: str | None) -> APIClient:
        from common.api.auth import SERVICE_GROUP, service_group_add

        user = service_group_add(user_factory(f"user-{group or 'none'}".lower()))
        service = Group.objects.get(name=SERVICE_GROUP)
        service.permissions.set(Group.objects.get(name=group).permissions.all() if group else [])
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
        client.user = user
        return client

    return make


# Omie in fast motion: the fake's windows × 0.01 (REDUNDANT 0.6 s, NFS-e 0.05 s) and billing's waits to match.
FAST_BILLING = {
    "BILLING_FIRST_POLL_SECONDS": 0.2,
    "BILLING_SAME_OS_MIN_INTERVAL_SECONDS": 0.7,
    "BILLING_RETRY_BASE_SECONDS": 0.2,
    "BILLING_RETRY_MAX_SECONDS": 2.0,
    "BILLING_DISPATCH_INTERVAL_SECONDS": 0.5,
    "OMIE_REDUNDANT_DEFAULT_SECONDS": 0,
    "OMIE_CONCURRENT_RETRY_SECONDS": 0.2,
}
FAST_FAKE = {"time_scale": 0.01}


@pytest.fixture
def fake_omie(live_server, settings):
    """The fake Omie served over HTTP by the live server; the client and billing in fast motion."""
    from integrations.omie.client import close_clients
    from testsupport.fake_omie import FakeOmie

    fake = FakeOmie(live_server.url)
    fake.point_settings(settings)
    for name, value in FAST_BILLING.items():
        setattr(settings, name, value)
    fake.reset(**FAST_FAKE)
    yield fake
    close_clients()  # keep-alive connections would keep live-server threads (and DB sessions) open


def omie_os_for(order: Any) -> None:
    """The OS that the sync created in (fake) Omie for this order, keyed by its Bubble id."""
    from orders.models import Order
    from sandbox.fake_omie.models import FakeCustomer, FakeServiceOrder

    customer, _ = FakeCustomer.objects.get_or_create(
        codigo_cliente_integracao=order.customer_bubble_id or f"c-{order.bubble_id}",
        defaults={"cnpj_cpf": order.document, "razao_social": order.customer_name or "Cliente"},
    )
    os_ = FakeServiceOrder.objects.create(c_cod_int_os=order.bubble_id, customer=customer, amount=order.amount)
    Order.objects.filter(pk=order.pk).update(omie_os_code=os_.n_cod_os, omie_os_number=os_.c_num_os,
                                             omie_customer_code=customer.codigo_cliente_omie)


def steps_run_due() -> None:
    """One round of an in-process stand-in for the worker: dispatches due steps and runs the leased ones."""
    import time

    from django.utils import timezone

    from billing.models import Invoice
    from billing.services.emission import invoice_step_run
    from billing.services.work import invoices_dispatch

    invoices_dispatch()
    leased = Invoice.objects.filter(lease_token__isnull=False, leased_until__gt=timezone.now()).exclude(next_step="")
    for invoice_id, token in list(leased.values_list("id", "lease_token")):
        result = invoice_step_run(invoice_id=invoice_id, token=str(token))
        while result.retry_in is not None and result.lease is not None:
            time.sleep(result.retry_in)
            result = invoice_step_run(invoice_id=invoice_id, token=str(result.lease))


def work_until(predicate: Callable[[], Any], *, timeout: float = 30.0) -> None:
    """Runs due steps in process (``steps_run_due``) until ``predicate()``."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        steps_run_due()
        time.sleep(0.05)
    raise AssertionError(f"condition not met within {timeout}s")


def processed(fake: Any, call: str) -> int:
    """Calls of ``call`` that Omie (the fake) actually processed."""
    return sum(1 for c in fake.calls(call) if c.processed)


def due_order(**kwargs: Any) -> Any:
    """An order whose OS exists in the fake Omie (synced), ready to bill."""
    from billing.tests.factories import OrderFactory

    order = OrderFactory(**kwargs)
    omie_os_for(order)
    order.refresh_from_db()
    return order


def status_of(order: Any) -> str:
    from orders.models import Order

    return Order.objects.values_list("billing_status", flat=True).get(pk=order.pk)
