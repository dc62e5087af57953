"""The calls the fake Omie answers and where they live (mirrors docs/omie.md#evidence; the fake is
Omie's stand-in, so it keeps its own list instead of reading the client's)."""

from __future__ import annotations

from typing import Any

ENDPOINT_OF: dict[str, str] = {
    "UpsertCliente": "geral/clientes/",
    "ConsultarCliente": "geral/clientes/",
    "AssociarCodIntCliente": "geral/clientes/",
    "ListarClientes": "geral/clientes/",
    "IncluirOS": "servicos/os/",
    "ConsultarOS": "servicos/os/",
    "StatusOS": "servicos/os/",
    "ListarOS": "servicos/os/",
    "FaturarOS": "servicos/osp/",
    "CancelarOS": "servicos/osp/",
    "ReenviarOS": "servicos/osp/",
    "ListarNFSEs": "servicos/nfse/",
    "ObterNFSe": "servicos/osdocs/",
}
WRITE_CALLS = frozenset({"UpsertCliente", "AssociarCodIntCliente", "IncluirOS", "FaturarOS", "CancelarOS", "ReenviarOS"})


def ident_of(call: str, param: Any) -> str:
    """The record a call is about: what Omie's REDUNDANT rule keys on ("the same ID")."""
    if not isinstance(param, dict):
        return ""
    if call in {"UpsertCliente", "ConsultarCliente"}:
        value = param.get("codigo_cliente_integracao") or param.get("codigo_cliente_omie")
    elif call == "AssociarCodIntCliente":
        value = param.get("codigo_cliente_omie")  # the record being changed
    elif call == "ListarClientes":
        value = (param.get("clientesFiltro") or {}).get("cnpj_cpf") if isinstance(param.get("clientesFiltro"), dict) else None
    elif call == "IncluirOS":
        value = (param.get("Cabecalho") or {}).get("cCodIntOS")
    elif call in {"ConsultarOS", "StatusOS", "FaturarOS", "CancelarOS", "ReenviarOS"}:
        value = param.get("cCodIntOS") or param.get("nCodOS") or param.get("cNumOS")
    elif call == "ObterNFSe":
        value = param.get("nIdNf")
    else:
        value = None
    return str(value)[:120] if value else ""
