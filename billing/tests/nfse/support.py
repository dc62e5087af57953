"""Helpers of the NFS-e document tests: an issued invoice in the fake Omie, its archive job run in-process."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests


def issued_order(**kwargs: Any) -> Any:
    """An order billed and issued through the fake Omie (FaturarOS → StatusOS), the documents not fetched yet."""
    from billing.services.run import orders_due_claim
    from billing.tests.conftest import due_order, status_of, work_until
    from orders.statuses import BillingStatus

    order = due_order(**kwargs)
    orders_due_claim(actor="system:test")
    work_until(lambda: status_of(order) == BillingStatus.ISSUED)
    return order


def archive_now(order: Any) -> Any:
    """Runs the order's archive job in-process until it is no longer PENDING (the task does the same)."""
    from billing.models import Invoice, NfseArchive
    from billing.services.nfse_archive import nfse_archive_run

    invoice = Invoice.objects.get(order=order, status="ISSUED")
    archive = NfseArchive.objects.get(invoice=invoice)
    import time

    for _ in range(30):
        NfseArchive.objects.filter(pk=archive.pk, status="PENDING").update(next_attempt_at=archive.created_at)
        nfse_archive_run(archive_id=archive.pk)
        archive.refresh_from_db()
        if archive.status != "PENDING":
            break
        time.sleep(0.7)  # the fast fake's REDUNDANT window for one NF id (60 s × 0.01)
    return archive


@contextmanager
def moto_server() -> Iterator[str]:
    """A real S3-compatible HTTP server (moto's standalone mode) on a free port, for as long as the block runs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(url, timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(10)
