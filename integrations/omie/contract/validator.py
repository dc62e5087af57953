"""Loads ``omie_contract.json`` and checks a request parameter or a response body against it.

Why one description for both directions: the client's payload builders and the sandbox's fake Omie
were once written from the same guesses, so they agreed with each other and not with Omie. Both
now answer to this file, whose every field names its source (OL, RB, CS… — see ``sources``).

Rules enforced on a request (``rules`` in the JSON): REQUIRED must be present and not blank; REQ1
too unless its ``unless`` sibling (``nCodServico``) is sent; DO-NOT-SEND, AUTO and READ must be
absent; fields the description does not know are reported (a typo is as wrong as a missing field)
unless the block is marked ``open``. REQ-NFSE is not enforced here: Omie accepts the call and only
refuses at billing. A response is checked for JSON types, documented codes and unknown fields;
Omie omits empty fields from answers, so nothing is required there.

Messages are Portuguese (ops read them in the dry run) and name the field path.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

CONTRACT_PATH = Path(__file__).with_name("omie_contract.json")
NOT_TO_SEND = frozenset({"DO-NOT-SEND", "AUTO", "READ"})
_DATE = re.compile(r"\d{2}/\d{2}/\d{4}")


@dataclass(frozen=True)
class Issue:
    """One broken rule. ``kind``: missing | not_to_send | unknown | type | value | format | length."""

    kind: str
    path: str
    message: str


@cache
def contract() -> dict[str, Any]:
    """The parsed description (read once per process)."""
    data = json.loads(CONTRACT_PATH.read_text(encoding="utf-8"))
    _check_shape(data)
    return data


def described_calls() -> tuple[str, ...]:
    return tuple(contract()["calls"])


def call_spec(call: str) -> dict[str, Any] | None:
    return contract()["calls"].get(call)


def value_table(name: str) -> dict[str, str]:
    """A documented code table (``cStatusRps``, ``cEtapa``, ``cStatusNFSe``…): code → Omie's text."""
    return dict(contract()["values"][name]["codes"])


# requests -------------------------------------------------------------------------------------
def request_issues(call: str, param: Any) -> list[Issue]:
    """Every rule ``param`` (the object in ``param[0]``) breaks; empty for a call not described."""
    spec = call_spec(call)
    if spec is None:
        return []
    if not isinstance(param, dict):
        return [Issue("type", "param[0]", "param[0] deve ser um objeto JSON")]
    issues: list[Issue] = []
    # The source of each extra requirement stays in the JSON; ops read only the rule.
    for name in spec.get("also_required") or {}:
        if _blank(param.get(name)):
            issues.append(Issue("missing", name, f"{name}: campo obrigatório ausente"))
    for group in spec.get("one_of") or []:
        if all(_blank(param.get(name)) for name in group):
            issues.append(Issue("missing", group[0], f"informe {' ou '.join(group)} (nenhum foi enviado)"))
    _walk_request(spec["request"], param, "", issues)
    return issues


def request_problems(call: str, param: Any) -> list[str]:
    """Human-readable form of ``request_issues`` (Portuguese, one line per broken rule)."""
    return [issue.message for issue in request_issues(call, param)]


def _walk_request(type_name: str, obj: dict[str, Any], prefix: str, issues: list[Issue]) -> None:
    node = contract()["types"][type_name]
    fields: dict[str, Any] = node["fields"]
    for group in node.get("one_of") or []:
        if all(_blank(obj.get(name)) for name in group):
            names = " ou ".join(prefix + name for name in group)
            issues.append(Issue("missing", prefix + group[0], f"informe {names} (nenhum foi enviado)"))
    for name, field in fields.items():
        path = prefix + name
        rule = field["rule"]
        present = name in obj
        if rule == "REQUIRED" and _blank(obj.get(name)):
            issues.append(Issue("missing", path, f"{path}: campo obrigatório ausente ou vazio"))
        elif rule == "REQ1" and _blank(obj.get(name)) and _blank(obj.get(field["unless"])):
            issues.append(Issue("missing", path, f"{path}: obrigatório quando {prefix}{field['unless']} não é enviado"))
        elif rule in NOT_TO_SEND and present:
            issues.append(Issue("not_to_send", path, f"{path}: não deve ser enviado ({_rule_text(rule, field)})"))
    if not node.get("open"):
        for name in obj:
            if name not in fields:
                issues.append(Issue("unknown", prefix + name, f"{prefix}{name}: campo desconhecido no tipo {type_name}"))
    _walk_values(type_name, obj, prefix, issues, request=True)


def _rule_text(rule: str, field: dict[str, Any]) -> str:
    note = field.get("note")
    label = {"DO-NOT-SEND": "não informar", "AUTO": "preenchido pelo Omie", "READ": "campo só de consulta"}[rule]
    return f"{label}; fonte {field['src']}" + (f": {note}" if note else "")


# responses ------------------------------------------------------------------------------------
def response_problems(call: str, body: Any) -> list[str]:
    """What in an answer does not match the described shape: unknown fields, wrong JSON types,
    undocumented codes. Faults (``faultstring``) are not answers of the call and are not checked."""
    spec = call_spec(call)
    if spec is None or (isinstance(body, dict) and "faultstring" in body):
        return []
    if not isinstance(body, dict):
        return ["a resposta deve ser um objeto JSON"]
    issues: list[Issue] = []
    _walk_response(spec["response"], body, "", issues)
    return [issue.message for issue in issues]


def _walk_response(type_name: str, obj: dict[str, Any], prefix: str, issues: list[Issue]) -> None:
    node = contract()["types"][type_name]
    if not node.get("open"):
        for name in obj:
            if name not in node["fields"]:
                issues.append(Issue("unknown", prefix + name, f"{prefix}{name}: campo desconhecido no tipo {type_name}"))
    _walk_values(type_name, obj, prefix, issues, request=False)


# both directions: types, codes, formats, nested blocks -------------------------------------------
def _walk_values(type_name: str, obj: dict[str, Any], prefix: str, issues: list[Issue], *, request: bool) -> None:
    walk = _walk_request if request else _walk_response
    for name, field in contract()["types"][type_name]["fields"].items():
        if name not in obj or obj[name] is None:
            continue
        value, path = obj[name], prefix + name
        kind = field["type"]
        if not _type_ok(kind, value):
            issues.append(Issue("type", path, f"{path}: esperado {_TYPE_PT[kind]}, recebido {_json_type(value)}"))
            continue
        if kind == "object":
            walk(field["ref"], value, path + ".", issues)
        elif kind == "array":
            for i, item in enumerate(value):
                if field["ref"] in contract()["types"] and isinstance(item, dict):
                    walk(field["ref"], item, f"{path}[{i}].", issues)
                elif not isinstance(item, dict):
                    issues.append(Issue("type", f"{path}[{i}]", f"{path}[{i}]: esperado objeto, recebido {_json_type(item)}"))
        elif kind == "string":
            _check_string(field, value, path, issues)


def _check_string(field: dict[str, Any], value: str, path: str, issues: list[Issue]) -> None:
    table = field.get("values")
    if table and value != "" and value not in contract()["values"][table]["codes"]:
        codes = ", ".join(contract()["values"][table]["codes"])
        issues.append(Issue("value", path, f"{path}: valor '{value}' fora da tabela {table} ({codes})"))
    if field.get("format") == "date" and value != "" and not _DATE.fullmatch(value):
        issues.append(Issue("format", path, f"{path}: data '{value}' fora do formato dd/mm/aaaa"))
    if field.get("max") and len(value) > int(field["max"]):
        issues.append(Issue("length", path, f"{path}: {len(value)} caracteres, máximo {field['max']}"))


_TYPE_PT = {"string": "texto (string)", "integer": "número inteiro", "decimal": "número", "boolean": "true/false",
            "object": "objeto", "array": "lista"}


def _type_ok(kind: str, value: Any) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "decimal":
        return isinstance(value, int | float | Decimal) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "object":
        return isinstance(value, dict)
    return isinstance(value, list)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "número inteiro"
    if isinstance(value, float | Decimal):
        return "número"
    if isinstance(value, str):
        return f"texto '{value[:40]}'"
    return "lista" if isinstance(value, list) else "objeto" if isinstance(value, dict) else type(value).__name__


def _blank(value: Any) -> bool:
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


def _check_shape(data: dict[str, Any]) -> None:
    """The description's own consistency: every reference, rule, code table and source resolves."""
    types, rules, values, sources = data["types"], data["rules"], data["values"], data["sources"]
    for call, spec in data["calls"].items():
        for key in ("request", "response"):
            if spec[key] not in types:
                raise ValueError(f"omie_contract.json: {call}.{key} names unknown type {spec[key]}")
    for type_name, node in types.items():
        for name, field in node["fields"].items():
            where = f"{type_name}.{name}"
            if field["rule"] not in rules or field["src"] not in sources:
                raise ValueError(f"omie_contract.json: {where} has an unknown rule or source")
            if field["type"] in ("object", "array") and field.get("ref") not in types:
                raise ValueError(f"omie_contract.json: {where} refers to an unknown type")
            if field.get("values") and field["values"] not in values:
                raise ValueError(f"omie_contract.json: {where} names an unknown value table")
            if field["rule"] == "REQ1" and field.get("unless") not in node["fields"]:
                raise ValueError(f"omie_contract.json: {where} is REQ1 without a known 'unless' sibling")
