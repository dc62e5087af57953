"""The generated parts of docs/bubble.md (the Bubble integrator's guide), so they never drift:

- the option sets, with the exact labels of orders/statuses (what the backend writes);
- one API Connector call per endpoint, with its body and responses, from the OpenAPI schema;
- every field the backend reads and writes, per type, with its Bubble type (integrations/bubble/fields).

``manage.py bubble_guide`` prints them; ``--write docs/bubble.md`` replaces the blocks between the
``<!-- generated:NAME -->`` / ``<!-- /generated:NAME -->`` markers; a test fails when the file and the
code disagree.
"""

from __future__ import annotations

import json
import re
from typing import Any

from drf_spectacular.generators import SchemaGenerator

from integrations.bubble.fields import CUSTOMER_READ, CUSTOMER_WRITE, ORDER_READ, ORDER_WRITE
from orders.statuses import BillingStatus, PaymentStatus, SyncStatus

# Option sets the Bubble app needs: (option set name, Bubble field(s), choices, note).
OPTION_SETS = [
    ("Status do pedido", "pedido.status_pedido", SyncStatus, "escrito pelo backend"),
    ("Status do faturamento", "pedido.status_faturamento", BillingStatus, "escrito pelo backend; vazio até sincronizar"),
    ("Status do pagamento", "pedido.status_pagamento", PaymentStatus,
     "lido pelo backend (só na primeira sincronização; depois vale o Pagar.me); aceita o rótulo ou o valor"),
]

# canonical field → (Bubble field type, what it holds). Keys are those of integrations/bubble/fields.py.
FIELD_TYPES: dict[str, dict[str, tuple[str, str]]] = {
    "order": {
        "cliente": ("cliente (o tipo)", "o cliente do pedido"),
        "valor_total": ("number", "valor em reais, 2 casas"),
        "descricao_servico": ("text", "descrição do serviço na OS e na NFS-e"),
        "codigo_servico_lc116": ("text", "código do serviço da LC 116 (ex.: 1.07)"),
        "forma_pagamento": ("text", "ex.: boleto, pix, cartao"),
        "status_pagamento": ("option set Status do pagamento (ou text)", "pagamento informado pelo Bubble"),
        "status_pedido": ("option set Status do pedido", "estado da sincronização com o Omie"),
        "status_faturamento": ("option set Status do faturamento", "estado da NF"),
        "omie_os_numero": ("text", "número da OS no Omie"),
        "nf_numero": ("text", "número da NFS-e"),
        "nf_link": ("text", "link do PDF da NFS-e guardado por nós (o da prefeitura até o PDF ser guardado)"),
        "nf_xml_link": ("text", "link do XML da NFS-e guardado por nós"),
        "data_faturamento_prevista": ("date", "quando a NF será emitida (dia 25 ou no pagamento)"),
        "erro_integracao": ("text", "o que está errado, em português, quando há erro"),
    },
    "customer": {
        "nome": ("text", "nome ou razão social informada"),
        "email": ("text", "e-mail do cliente (vai para a OS)"),
        "documento": ("text", "CPF ou CNPJ, com ou sem máscara"),
        "telefone": ("text", "com DDD"),
        "cep": ("text", "8 dígitos"),
        "logradouro": ("text", ""),
        "numero": ("text", ""),
        "bairro": ("text", ""),
        "cidade": ("text", ""),
        "uf": ("text", "2 letras"),
        "requer_aprovacao": ("yes / no", "sim: toda NF deste cliente espera aprovação do Financeiro"),
        "razao_social": ("text", "da Receita Federal (via BrasilAPI), para PJ"),
        "nome_fantasia": ("text", "da Receita Federal, para PJ"),
        "situacao_cadastral": ("text", "ATIVA, BAIXADA, INAPTA, SUSPENSA ou NULA"),
        "omie_cliente_id": ("text", "código do cliente no Omie"),
        "saldo_cc": ("number", "saldo da conta corrente do cliente, em reais"),
    },
}

TYPE_LABELS = {"order": "pedido (BUBBLE_TYPE_ORDER, padrão `pedido`)", "customer": "cliente (BUBBLE_TYPE_CUSTOMER, padrão `cliente`)"}


def option_sets_markdown() -> str:
    out = []
    for name, field, choices, note in OPTION_SETS:
        out.append(f"**{name}** — campo `{field}` ({note}). Opções, com o texto exato em *Display*:\n")
        out.append("| Display (exato) | valor no backend |")
        out.append("|---|---|")
        out.extend(f"| `{c.label}` | {c.value} |" for c in choices)
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def option_labels_in(markdown: str) -> dict[str, list[str]]:
    """The labels of each option set as written in the guide (what the test compares)."""
    found: dict[str, list[str]] = {}
    current = None
    for line in markdown.splitlines():
        header = re.match(r"\*\*(.+?)\*\* — campo", line)
        if header:
            current = header.group(1)
            found[current] = []
        elif current and line.startswith("| `"):
            found[current].append(line.split("`")[1])
    return found


def fields_markdown() -> str:
    out = []
    for thing, reads, writes in (("order", ORDER_READ, ORDER_WRITE), ("customer", CUSTOMER_READ, CUSTOMER_WRITE)):
        out.append(f"**Tipo {TYPE_LABELS[thing]}**\n")
        out.append("| campo | tipo no Bubble | o backend | conteúdo |")
        out.append("|---|---|---|---|")
        for canonical in (*reads, *writes):
            kind, what = FIELD_TYPES[thing][canonical]
            role = "lê" if canonical in reads else "escreve"
            out.append(f"| `{canonical}` | {kind} | {role} | {what} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


# Endpoints, from the OpenAPI schema --------------------------------------------------------------
def openapi_schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _resolve(schema: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = schema["components"]["schemas"][name]
    return node


_FORMAT_EXAMPLES = {
    "date": "2026-11-25",
    "date-time": "2026-11-25T10:00:00-03:00",
    "email": "ops@suaempresa.com.br",
    "uri": "https://nfse.prefeitura.sp.gov.br/...",
    "decimal": "1500.00",
}
_TYPE_EXAMPLES = {"integer": 1, "number": 0.0, "boolean": False}


def example(schema: dict[str, Any], node: Any, depth: int = 0) -> Any:
    """An example value for a schema node (its own example when it has one)."""
    node = _resolve(schema, node)
    if not isinstance(node, dict) or depth > 6:
        return None
    if "example" in node:
        return node["example"]
    for key in ("allOf", "oneOf", "anyOf"):
        if node.get(key):
            options = [_resolve(schema, o) for o in node[key]]
            typed = [o for o in options if o.get("type") != "null" and o.get("enum") != [None]]
            return example(schema, (typed or options)[0], depth + 1)
    if node.get("enum"):
        values = [v for v in node["enum"] if v not in (None, "")]
        return values[0] if values else node["enum"][0]
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        return {name: example(schema, prop, depth + 1) for name, prop in (node.get("properties") or {}).items()}
    if kind == "array":
        return [example(schema, node.get("items", {}), depth + 1)]
    return _scalar_example(node)


def _scalar_example(node: dict[str, Any]) -> Any:
    if node.get("type") in _TYPE_EXAMPLES:
        return _TYPE_EXAMPLES[node["type"]]
    if node.get("format") in _FORMAT_EXAMPLES:
        return _FORMAT_EXAMPLES[node["format"]]
    if node.get("pattern", "").startswith("^[0-9]{10,16}x"):
        return "1671702337369x488321592367327900"
    return "texto"


def _operation_markdown(schema: dict[str, Any], path: str, method: str, operation: dict[str, Any]) -> list[str]:
    out: list[str] = []
    bubble_path = re.sub(r"\{[^}]+\}", "[id]", path)
    out.append(f"#### {method.upper()} `{path}`")
    out.append("")
    out.append(f"- API Connector: *Use as* **Action**, *Data type* JSON, URL `https://SEU-BACKEND{bubble_path}` "
               "(troque `[id]` por um parâmetro dinâmico, *not private*)")
    headers = [p["name"] for p in operation.get("parameters", []) if p.get("in") == "header"]
    if headers:
        out.append(f"- Cabeçalhos: {', '.join(f'`{h}`' for h in headers)} (use o `_id` do pedido + o nome da ação)")
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if body:
        out.append("- Corpo (JSON):")
        out.append("")
        out.append("```json")
        out.append(json.dumps(example(schema, body), ensure_ascii=False, indent=2))
        out.append("```")
    elif method == "post":
        out.append("- Corpo (JSON): `{}`")
    ok = {s: r for s, r in operation.get("responses", {}).items() if s.startswith("2")}
    for status, response in sorted(ok.items()):
        content = response.get("content", {}).get("application/json", {}).get("schema")
        out.append(f"- Resposta {status}" + (" (JSON):" if content else f": {response.get('description', '')}"))
        if content:
            out.append("")
            out.append("```json")
            out.append(json.dumps(example(schema, content), ensure_ascii=False, indent=2))
            out.append("```")
    return out


def endpoints_markdown() -> str:
    schema = openapi_schema()
    out = []
    for path, operations in sorted(schema.get("paths", {}).items()):
        if not (path.startswith("/v1/orders/") or path.startswith("/v1/customers/")):
            continue
        for method in ("get", "post", "put", "patch", "delete"):
            operation = operations.get(method)
            if operation is None:
                continue
            out.extend(_operation_markdown(schema, path, method, operation))
            errors = sorted(s for s in operation.get("responses", {}) if not s.startswith("2"))
            if errors:
                out.append(f"- Erros possíveis (sempre `{{\"error\": {{\"code\", \"message\", \"details\"}}}}`): {', '.join(errors)}")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


SECTIONS = {"option-sets": option_sets_markdown, "fields": fields_markdown, "endpoints": endpoints_markdown}


def render_into(text: str, sections: dict[str, str]) -> str:
    """Replaces each generated block of ``text`` with the given content."""
    for name, content in sections.items():
        pattern = re.compile(rf"(<!-- generated:{name} -->\n).*?(<!-- /generated:{name} -->)", re.DOTALL)
        if not pattern.search(text):
            raise ValueError(f"marcador <!-- generated:{name} --> não encontrado")
        text = pattern.sub(lambda m, c=content: m.group(1) + c + m.group(2), text)
    return text


def generated_block(text: str, name: str) -> str:
    match = re.search(rf"<!-- generated:{name} -->\n(.*?)<!-- /generated:{name} -->", text, re.DOTALL)
    if match is None:
        raise ValueError(f"marcador <!-- generated:{name} --> não encontrado")
    return match.group(1)
