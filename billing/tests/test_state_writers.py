"""One writer per transition (docs/architecture.md#state-and-transitions): only ``billing/services/state.py``
writes an order's billing or payment status or an invoice's status.

The scan reads every production module's syntax tree and reports each place that assigns one of those
fields: ``x.billing_status = …`` / ``x.payment_status = …`` (also in a tuple target or ``setattr``), an
invoice's ``status`` (``invoice.status = …``, or any ``status`` given a ``BillingStatus``), and the
same fields passed to ``.update(…)``, ``.create(…)``, ``bulk_create`` or a model's constructor.
A Pagar.me or Omie event's own ``payment_status``/``status`` (what the event applied) is not the order's.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from testsupport.processes import ROOT

STATE_MODULE = "billing/services/state.py"
PRODUCTION = ("common", "config", "integrations", "orders", "billing", "backoffice")
SKIPPED_PARTS = {"tests", "migrations"}

ORDER_STATUS_FIELDS = {"billing_status", "payment_status"}
MODELS = {"Order", "Invoice", "OrderBilling"}
WRITING_CALLS = {"update", "create", "get_or_create", "update_or_create", "bulk_create"}

# Each entry: "path:line-free description" → why it may write. Keep it empty or very short.
ALLOWED: dict[str, str] = {}


def _mentions(node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


def _member_of(node: ast.AST, enum: str) -> bool:
    """``BillingStatus.ISSUED`` itself (a value to store), not its label or a call that formats it."""
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == enum


def _root(node: ast.AST) -> str:
    """The name a call chain starts from: ``Invoice`` in ``Invoice.objects.filter(…).update``."""
    while isinstance(node, ast.Attribute | ast.Call):
        node = node.value if isinstance(node, ast.Attribute) else node.func
    return node.id if isinstance(node, ast.Name) else ""


def _receiver(node: ast.AST) -> str:
    return ast.unparse(node).lower()


def _is_event(node: ast.AST) -> bool:
    return "event" in _receiver(node)


def _attribute_write(target: ast.Attribute, value: ast.AST | None) -> bool:
    if _is_event(target.value):
        return False
    if target.attr in ORDER_STATUS_FIELDS:
        return True
    if target.attr == "status":
        return "invoice" in _receiver(target.value) or (value is not None and _mentions(value, "BillingStatus"))
    return False


def _targets(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.Assign):
        found: list[ast.AST] = []
        for target in node.targets:
            found.extend(target.elts if isinstance(target, ast.Tuple | ast.List) else [target])
        return found
    if isinstance(node, ast.AugAssign | ast.AnnAssign):
        return [node.target]
    return []


def _call_writes(node: ast.Call) -> list[str]:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if name not in WRITING_CALLS and name not in MODELS:
        return []
    if isinstance(func, ast.Attribute) and _is_event(func.value):
        return []
    root = _root(func)
    invoices = root == "Invoice" or (isinstance(func, ast.Attribute) and "invoices" in ast.unparse(func.value))
    written = []
    for keyword in node.keywords:
        if keyword.arg in ORDER_STATUS_FIELDS:
            written.append(keyword.arg)
        elif keyword.arg == "status" and (invoices or _mentions(keyword.value, "BillingStatus")):
            written.append("status")
    return written


def state_writes(source: str) -> list[tuple[int, str]]:
    """(line, what) for every write of a billing/payment/invoice status in ``source``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        value = getattr(node, "value", None)
        for target in _targets(node):
            if isinstance(target, ast.Attribute) and _attribute_write(target, value):
                found.append((node.lineno, f"{ast.unparse(target)} = …"))
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "setattr" and len(node.args) >= 2:
                field = node.args[1]
                if isinstance(field, ast.Constant) and field.value in ORDER_STATUS_FIELDS and not _is_event(node.args[0]):
                    found.append((node.lineno, f"setattr(…, {field.value!r}, …)"))
            for field in _call_writes(node):
                found.append((node.lineno, f"{ast.unparse(func)}({field}=…)"))
        if isinstance(node, ast.Dict):
            for key, item in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "status" and _member_of(item, "BillingStatus"):
                    found.append((node.lineno, "{'status': BillingStatus…}"))
    return sorted(set(found))


def _production_files() -> list[Path]:
    files = []
    for package in PRODUCTION:
        for path in sorted((ROOT / package).rglob("*.py")):
            if SKIPPED_PARTS & set(path.relative_to(ROOT).parts):
                continue
            files.append(path)
    return files


def test_only_the_state_module_writes_a_billing_payment_or_invoice_status():
    outside = []
    for path in _production_files():
        relative = path.relative_to(ROOT).as_posix()
        if relative == STATE_MODULE:
            continue
        for line, what in state_writes(path.read_text()):
            if f"{relative}:{what}" not in ALLOWED:
                outside.append(f"{relative}:{line}: {what}")

    assert outside == [], "status written outside billing/services/state.py:\n" + "\n".join(outside)


def test_the_state_module_is_where_they_are_written():
    # The scan sees the real writers: if it found nothing here, it would find nothing anywhere.
    written = {what for _, what in state_writes((ROOT / STATE_MODULE).read_text())}

    assert "order.billing_status = …" in written
    assert "order.payment_status = …" in written
    assert "invoice.status = …" in written


@pytest.mark.parametrize(("source", "expected"), [
    ("order.billing_status = BillingStatus.ISSUED\n", "order.billing_status = …"),
    ("def f(o):\n    o.payment_status, o.paid_via = 'paid', 'manual'\n", "o.payment_status = …"),
    ("invoice.status = 'ISSUED'\n", "invoice.status = …"),
    ("row.status = BillingStatus.CANCELLED\n", "row.status = …"),
    ("setattr(order, 'billing_status', 'ISSUED')\n", "setattr(…, 'billing_status', …)"),
    ("Order.objects.filter(pk=1).update(billing_status='ISSUING')\n", "Order.objects.filter(pk=1).update(billing_status=…)"),
    ("Invoice.objects.filter(pk=1).update(status='FAILED')\n", "Invoice.objects.filter(pk=1).update(status=…)"),
    ("Invoice.objects.create(order=o, status=BillingStatus.ISSUING)\n", "Invoice.objects.create(status=…)"),
    ("Order.objects.create(bubble_id='x', billing_status='SCHEDULED')\n", "Order.objects.create(billing_status=…)"),
    ("Invoice(order=o, status=BillingStatus.MANUAL)\n", "Invoice(status=…)"),
    ("fields = {'status': BillingStatus.FAILED, 'next_step': ''}\n", "{'status': BillingStatus…}"),
])
def test_the_scan_reports_a_write_outside_the_state_module(source, expected):
    # The mutation check: the same line anywhere but the state module makes the test above fail.
    assert expected in [what for _, what in state_writes(source)]


@pytest.mark.parametrize("source", [
    "Order.objects.filter(billing_status='SCHEDULED').count()\n",
    "event.payment_status = new_status\n",
    "PagarmeEvent.objects.filter(pk=1).update(status=PagarmeEvent.Status.RECEIVED)\n",
    "job.status = ExportJob.Status.RUNNING\n",
    "if order.billing_status == BillingStatus.ISSUED:\n    pass\n",
    "NfseArchive.objects.filter(invoice__in=Invoice.objects.all()).update(status=NfseArchive.Status.PENDING)\n",
    "EXAMPLE = {'status': _choice(BillingStatus, BillingStatus.ISSUED)}\n",
])
def test_the_scan_leaves_reads_and_other_models_status_alone(source):
    assert state_writes(source) == []
