"""No ``import`` inside a function in production code (docs/architecture.md: a function-level import written
to dodge a cycle means the dependency points the wrong way), except the short allow-list below, each with
its reason (issue #26).

Scanned: the production packages. Not scanned: tests (they import what they exercise where they need it),
migrations (Django's generated code and frozen history), the sandbox (never in production; it leaves the
package with the sandbox move). Management commands are scanned: they ship and run in production.

A key of ALLOWED is ``(file, module)``: ``file`` is a path from the repository root, or a folder ending in
``/`` for every file under it; ``module`` is the imported module (``from a import b`` counts as ``a.b``)
and covers what is under it. An entry that no longer matches anything fails too, so the list only shrinks.
"""

from __future__ import annotations

import ast
from pathlib import Path

from testsupport.processes import ROOT

PRODUCTION = ("common", "config", "integrations", "orders", "billing", "backoffice")
SKIPPED_PARTS = {"tests", "migrations", "sandbox"}

TASKS = "services → enqueue → this task module: a task imports the service it runs when it runs"

ALLOWED: dict[tuple[str, str], str] = {
    # Start-up hooks: run once the app registry is ready.
    ("common/apps.py", "common.session_timeout"): "AppConfig.ready(): connects the session-timeout signal receivers",
    ("billing/apps.py", "billing.permissions"): "AppConfig.ready(): connects the groups sync to post_migrate (auth models)",
    ("billing/apps.py", "billing.services.admin_ops"): "ready(): registers billing's webhook handlers (models)",
    ("billing/apps.py", "billing.handoff"): "ready(): billing's side of the orders → billing seam imports models",
    ("billing/apps.py", "orders.handoff"): "ready(): registers the seam once every app's models are loaded",
    # Heavy optional library, only for the one feature.
    ("billing/services/exports.py", "openpyxl"): "openpyxl is heavy and only an XLSX export needs it",
    # Task modules: the enqueue modules import the tasks, the services import the enqueue modules.
    ("billing/tasks/", "billing.services"): TASKS,
    ("orders/tasks/", "orders.services"): TASKS,
    ("integrations/tasks/bubble.py", "integrations.bubble.services"): TASKS,
    ("backoffice/tasks.py", "backoffice.exports"): "backoffice.exports starts an export by enqueueing export_run from here",
    # Cycles inside one app.
    ("integrations/omie/dryrun.py", "integrations.bubble.services"):
        "cycle: the outbox asks dryrun whether Bubble may be written; dryrun writes its note through the outbox",
    ("billing/services/decision.py", "billing.services.webhooks"): "cycle: webhooks decides billing after a payment (decision ↔ webhooks)",
    ("billing/services/nfse_links.py", "billing.services.state"): "cycle: state builds the document links (state ↔ nfse_links)",
    ("billing/services/nfse_bulk.py", "billing.services.emission"): "cycle: emission → omie_webhooks → nfse_bulk → emission",
    ("billing/services/omie_webhooks.py", "billing.services.nfse_bulk"): "cycle: emission → omie_webhooks → nfse_bulk → emission",
}


def _production_files() -> list[Path]:
    return sorted(
        path for package in PRODUCTION for path in (ROOT / package).rglob("*.py")
        if not SKIPPED_PARTS & set(path.relative_to(ROOT).parts)
    )


def _module(node: ast.Import | ast.ImportFrom, alias: ast.alias) -> str:
    if isinstance(node, ast.Import):
        return alias.name
    package = "." * node.level + (node.module or "")
    return f"{package}.{alias.name}" if node.module else package + alias.name


def function_level_imports(source: str) -> list[tuple[int, str]]:
    """(line, module) of every import statement inside a function body (nested functions and classes too)."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if in_function and isinstance(child, ast.Import | ast.ImportFrom):
                found.extend((child.lineno, _module(child, alias)) for alias in child.names)
            visit(child, in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda))

    visit(ast.parse(source), False)
    return sorted(set(found))


def _allowed_by(rel: str, module: str) -> tuple[str, str] | None:
    for key in ALLOWED:
        file, allowed = key
        if (rel == file or (file.endswith("/") and rel.startswith(file))) and (module == allowed or module.startswith(allowed + ".")):
            return key
    return None


def _scan() -> tuple[list[str], set[tuple[str, str]]]:
    refused, used = [], set()
    for path in _production_files():
        rel = path.relative_to(ROOT).as_posix()
        for line, module in function_level_imports(path.read_text(encoding="utf-8")):
            key = _allowed_by(rel, module)
            if key is None:
                refused.append(f"{rel}:{line}: {module}")
            else:
                used.add(key)
    return refused, used


def test_no_function_level_import_outside_the_allow_list():
    """Move the import to the top of the module; if that makes a cycle, point the dependency the right way."""
    refused, _used = _scan()
    assert refused == []


def test_every_allow_list_entry_is_still_needed():
    _refused, used = _scan()
    assert sorted(set(ALLOWED) - used) == []


def test_every_allow_list_entry_says_why():
    assert all(reason.strip() for reason in ALLOWED.values())


def test_the_scan_finds_imports_in_functions_methods_and_nested_functions_only():
    source = (
        "import os\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from decimal import Decimal\n"
        "def f():\n    import json\n    def g():\n        from billing import services\n"
        "class C:\n    from orders import models\n    def m(self):\n        from .sibling import x\n"
    )
    assert function_level_imports(source) == [(6, "json"), (8, "billing.services"), (12, ".sibling.x")]
