"""The fake Omie refuses a request exactly where Omie's published contract says it must
(``integrations/omie/contract``): one place, before any per-method handler runs.

What is sourced is the *rule* (which fields are "Preenchimento obrigatório", which "Não deve ser
informado"), not Omie's wording of the refusal: no public source records the fault Omie returns
for a missing ``cCodServMun`` or a sent ``nValorTotal``. The texts and codes below are therefore
our own, in Omie's fault shape (HTTP 500, ``{"faultstring": "ERROR: …", "faultcode":
"SOAP-ENV:Client-…"}``) so the client classifies them as a permanent business refusal. UNVERIFIED.

It also answers the one service-catalog read the product makes (``ConsultarCadastroServico``,
``servicos/servico/``), used by ``check_integrations`` to confirm OMIE_SERVICE_ID exists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings

from integrations.omie.contract import request_issues
from sandbox.fake_omie.gates import fault

Answer = tuple[int, dict[str, Any]]

# Issue kind → (faultcode, message template). Not sourced: see the module docstring.
_REFUSALS: dict[str, tuple[str, str]] = {
    "missing": ("SOAP-ENV:Client-1000", "O preenchimento da tag [{path}] é obrigatório!"),
    "not_to_send": ("SOAP-ENV:Client-1010", "A tag [{path}] não deve ser informada nesta requisição!"),
    "unknown": ("SOAP-ENV:Client-5001", "Tag [{path}] não faz parte da estrutura do tipo!"),
    "type": ("SOAP-ENV:Client-3102", "O valor da tag [{path}] é inválido!"),
    "value": ("SOAP-ENV:Client-3102", "O valor da tag [{path}] é inválido!"),
    "format": ("SOAP-ENV:Client-3102", "O valor da tag [{path}] é inválido!"),
    "length": ("SOAP-ENV:Client-3102", "O tamanho da tag [{path}] excede o máximo permitido!"),
}


def contract_refusal(call: str, param: dict[str, Any]) -> Answer | None:
    """Omie's refusal of the first broken rule, or None when the request follows the contract."""
    issues = request_issues(call, param)
    if not issues:
        return None
    issue = issues[0]
    code, template = _REFUSALS[issue.kind]
    return 500, fault(code, template.format(path=issue.path))


# The service catalog (servicos/servico/) --------------------------------------------------------
def _sandbox_service() -> dict[str, Any]:
    """The one service registered in the fake: what the registry supplies when an OS line sends
    nCodServico (municipal code, LC 116, NBS, taxation)."""
    service_id = int(settings.SANDBOX_OMIE_SERVICE_ID)
    return {
        "intListar": {"nCodServ": service_id, "cCodIntServ": ""},
        "cabecalho": {"cDescricao": "Serviços de intermediação (sandbox)", "cCodigo": "SRV00001", "cIdTrib": "01",
                      "cCodServMun": "01015", "cCodLC116": "1.07", "nIdNBS": "115013000", "nPrecoUnit": 0,
                      "cCodCateg": "1.01.02"},
        "info": {"dInc": "01/01/2026", "hInc": "00:00:00", "uInc": "SANDBOX"},
    }


def consultar_cadastro_servico(param: dict[str, Any], config: Any) -> Answer:
    service = _sandbox_service()
    wanted = param.get("nCodServ")
    if wanted is not None and str(wanted) == str(service["intListar"]["nCodServ"]):
        return 200, service
    if param.get("cCodIntServ"):
        # Sourced text (CS, Client-5002) for a service integration code that does not exist.
        return 500, fault("SOAP-ENV:Client-5002", f"Serviço não cadastrado para o Código de integração do Serviço "
                                                  f"[{param['cCodIntServ']}] ! Tag [cCodIntServ]!")
    # Same fault adapted to the id (the id's own wording is not sourced).
    return 500, fault("SOAP-ENV:Client-5002", f"Serviço não cadastrado para o Código do Serviço [{wanted}] ! Tag [nCodServ]!")


# Calls the fake answers beyond handlers.py: name → (endpoint, handler).
EXTRA_CALLS: dict[str, tuple[str, Callable[[dict[str, Any], Any], Answer]]] = {
    "ConsultarCadastroServico": ("servicos/servico/", consultar_cadastro_servico),
}
